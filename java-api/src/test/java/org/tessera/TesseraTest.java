package org.tessera;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.tessera.kernels.Backends;
import org.tessera.kernels.MemoryKind;
import org.tessera.kernels.spi.Backend;
import org.tessera.kernels.spi.OpFamily;

class TesseraTest {
    @Test
    void infoReportsEveryBackendWithAReason() {
        String info = Tessera.info();
        System.out.print(info);
        assertTrue(info.startsWith("Tessera " + Tessera.version()), info);
        assertFalse(Tessera.version().contains("${"), "version must be filtered at build time");
        for (String line : new String[] {"JDK", "CPU", "ISA", "Threads", "Backends", "Ops"}) assertTrue(info.contains(line), line);
        for (Backend b : Tessera.backends()) {
            assertTrue(info.contains(b.name() + " ") && info.contains(b.availability().toString()), b.name());
        }
        assertTrue(info.contains("elementwise@host -> "), info);
    }

    @Test
    void useBackendOverridesTheChoiceInCode() {
        String before = Backends.get().forced();
        try {
            Tessera.useBackend("java");
            assertEquals("java", Backends.get().select(OpFamily.ELEMENTWISE, MemoryKind.HOST).backend().name());
            Tessera.useBackend(null);
            Backend nativeBackend = Tessera.backend("native");
            assertEquals(nativeBackend.availability().available() ? "native" : "java",
                    Backends.get().select(OpFamily.ELEMENTWISE, MemoryKind.HOST).backend().name());
            assertThrows(IllegalArgumentException.class, () -> Tessera.useBackend("tpu"));
        } finally {
            Tessera.useBackend(before);
        }
    }

    @Test
    void threadsCanBeResized() {
        int before = Tessera.threads();
        try {
            Tessera.setThreads(1);
            assertEquals(1, Tessera.threads());
            try (Tensor a = Tensor.of(new float[] {-1, 2}, 2); Tensor r = Ops.auto().relu(a)) {
                assertEquals(2f, r.getFloat(1));
            }
            assertThrows(IllegalArgumentException.class, () -> Tessera.setThreads(0));
        } finally {
            Tessera.setThreads(before);
        }
    }
}
