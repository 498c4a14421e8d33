package org.tessera.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.tessera.kernels.cpu.Isa;
import org.tessera.kernels.java.JavaBackend;
import org.tessera.kernels.nativecpu.NativeBackend;
import org.tessera.kernels.spi.Availability;
import org.tessera.kernels.spi.Backend;
import org.tessera.kernels.spi.ElementwiseKernels;
import org.tessera.kernels.spi.OpFamily;
import org.tessera.kernels.spi.Support;

/** The selection rule (first available backend that accepts the family wins) and its overrides. */
class BackendsTest {
    /** A backend whose availability and answers a test sets. */
    private record Fake(String name, MemoryKind memoryKind, Availability availability, String refusal, ElementwiseKernels kernels,
                        boolean automatic) implements Backend {
        Fake(String name, MemoryKind memoryKind, Availability availability, String refusal, ElementwiseKernels kernels) {
            this(name, memoryKind, availability, refusal, kernels, true);
        }

        @Override
        public <T> Support<T> kernels(OpFamily<T> family) {
            if (refusal != null || family != OpFamily.ELEMENTWISE) return Support.refused(refusal == null ? "no" : refusal);
            return Support.of(family.kernelType().cast(kernels));
        }
    }

    private static final ElementwiseKernels ANY = new JavaBackend().kernels(OpFamily.ELEMENTWISE).kernels();

    private static Fake fake(String name, boolean available, String refusal) {
        return new Fake(name, MemoryKind.HOST, available ? Availability.available("ok") : Availability.unavailable("absent here"), refusal, ANY);
    }

    private static Config config(String... keyValues) {
        Properties p = new Properties();
        for (int i = 0; i < keyValues.length; i += 2) p.setProperty(keyValues[i], keyValues[i + 1]);
        return Config.from(p);
    }

    @Test
    void firstAvailableAcceptingBackendWins() {
        Backend unavailable = fake("a", false, null), refusing = fake("b", true, "not implemented"), accepting = fake("c", true, null);
        Backends registry = new Backends(config(), List.of(unavailable, refusing, accepting, fake("d", true, null)));
        assertSame(accepting, registry.select(OpFamily.ELEMENTWISE, MemoryKind.HOST).backend());
    }

    @Test
    void backendsOfOtherMemoryAreNotCandidates() {
        Backend device = new Fake("dev", MemoryKind.CUDA, Availability.available("ok"), null, ANY);
        Backend host = fake("host", true, null);
        Backends registry = new Backends(config(), List.of(device, host));
        assertSame(host, registry.select(OpFamily.ELEMENTWISE, MemoryKind.HOST).backend());
        assertSame(device, registry.select(OpFamily.ELEMENTWISE, MemoryKind.CUDA).backend());
    }

    @Test
    void noCandidateExplainsEveryRefusal() {
        Backends registry = new Backends(config(), List.of(fake("a", false, null), fake("b", true, "not implemented")));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> registry.select(OpFamily.ELEMENTWISE, MemoryKind.HOST));
        assertTrue(e.getMessage().contains("a: absent here") && e.getMessage().contains("b: not implemented"), e.getMessage());
    }

    @Test
    void forcedByPropertyOrInCode() {
        Backend a = fake("a", true, null), b = fake("b", true, null);
        Backends registry = new Backends(config("tessera.backend", "b"), List.of(a, b));
        assertEquals("b", registry.forced());
        assertSame(b, registry.select(OpFamily.ELEMENTWISE, MemoryKind.HOST).backend());
        registry.setForced(null);
        assertSame(a, registry.select(OpFamily.ELEMENTWISE, MemoryKind.HOST).backend());
        registry.setForced("b");
        assertSame(b, registry.select(OpFamily.ELEMENTWISE, MemoryKind.HOST).backend());
    }

    @Test
    void forcedBackendThatCannotServeFailsWithItsReason() {
        Backends unavailable = new Backends(config("tessera.backend", "a"), List.of(fake("a", false, null), fake("b", true, null)));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> unavailable.select(OpFamily.ELEMENTWISE, MemoryKind.HOST));
        assertTrue(e.getMessage().contains("absent here"), e.getMessage());
        Backends refusing = new Backends(config("tessera.backend", "a"), List.of(fake("a", true, "no kernels"), fake("b", true, null)));
        e = assertThrows(IllegalStateException.class, () -> refusing.select(OpFamily.ELEMENTWISE, MemoryKind.HOST));
        assertTrue(e.getMessage().contains("no kernels"), e.getMessage());
    }

    @Test
    void unknownBackendNameListsTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Backends(config("tessera.backend", "tpu"), List.of(fake("a", true, null))));
        assertTrue(e.getMessage().contains("tpu") && e.getMessage().contains("known: a"), e.getMessage());
    }

    @Test
    void standardOrderIsCudaNativeJava() {
        Backends registry = Backends.standard(config());
        assertEquals(List.of("cuda", "native", "java", "openblas"), registry.all().stream().map(Backend::name).toList());
        Backend chosen = registry.select(OpFamily.ELEMENTWISE, MemoryKind.HOST).backend();
        Backend nativeBackend = registry.byName("native");
        assertEquals(nativeBackend.availability().available() ? "native" : "java", chosen.name());
    }

    @Test
    void optInBackendsRunOnlyWhenAskedFor() {
        Backend optIn = new Fake("peer", MemoryKind.HOST, Availability.available("ok"), null, ANY, false);
        Backend fallback = fake("java", true, null);
        Backends registry = new Backends(config(), List.of(optIn, fallback));
        assertSame(fallback, registry.select(OpFamily.ELEMENTWISE, MemoryKind.HOST).backend());
        registry.setForced("peer");
        assertSame(optIn, registry.select(OpFamily.ELEMENTWISE, MemoryKind.HOST).backend());
        assertSame(optIn, registry.selectOn(OpFamily.ELEMENTWISE, optIn).backend());
    }

    @Test
    void isaCapBelowAvx2MakesNativeUnavailableWithTheReason() {
        Backends capped = Backends.standard(config("tessera.maxIsa", "baseline"));
        Availability a = capped.byName(NativeBackend.NAME).availability();
        assertFalse(a.available());
        assertTrue(a.detail().contains("CPU lacks AVX2") || a.detail().contains("tessera.maxIsa=baseline")
                || a.detail().contains("no native library"), a.detail());
        assertEquals("java", capped.select(OpFamily.ELEMENTWISE, MemoryKind.HOST).backend().name());
    }

    @Test
    void nativeIsaNeverExceedsTheCap() {
        NativeBackend capped = new NativeBackend(Isa.AVX2);
        assertTrue(capped.isa().compareTo(Isa.AVX2) <= 0);
        assertEquals(Isa.BASELINE, new NativeBackend(Isa.BASELINE).isa());
    }

    @Test
    void configRejectsMalformedValuesNamingTheProperty() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> config("tessera.threads", "two"));
        assertTrue(e.getMessage().contains("tessera.threads"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> config("tessera.threads", "0"));
        assertTrue(e.getMessage().contains("tessera.threads"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> config("tessera.maxIsa", "avx9"));
        assertTrue(e.getMessage().contains("tessera.maxIsa"), e.getMessage());
        assertEquals(Isa.AVX2, config("tessera.maxIsa", "AVX2").maxIsa());
        assertEquals(3, config("tessera.threads", "3").threads());
        e = assertThrows(IllegalArgumentException.class, () -> config("tessera.vnni", "maybe"));
        assertTrue(e.getMessage().contains("tessera.vnni"), e.getMessage());
        assertFalse(config("tessera.vnni", "FALSE").vnni());
        assertTrue(config("tessera.threads", "3").vnni(), "VNNI is on unless turned off");
    }
}
