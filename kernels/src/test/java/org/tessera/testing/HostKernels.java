package org.tessera.testing;

import java.util.ArrayList;
import java.util.List;
import org.tessera.kernels.Backends;
import org.tessera.kernels.Config;
import org.tessera.kernels.MemoryKind;
import org.tessera.kernels.spi.Backend;
import org.tessera.kernels.spi.OpFamily;

/**
 * The kernel variants that tests iterate over: every host backend's variants for a family, including
 * backends that cannot run here (the test then skips with the reason).
 */
public final class HostKernels {
    private HostKernels() {}

    /** A variant to test, or the reason it cannot run here. */
    public record Variant<T>(String backend, String name, T kernels, String skipReason) {
        @Override
        public String toString() {
            return backend + ":" + name;
        }
    }

    /** Variants of {@code family} on host backends, configured from this JVM's system properties. */
    public static <T> List<Variant<T>> of(OpFamily<T> family, java.util.function.Function<T, String> id) {
        Backends registry = Backends.standard(Config.fromSystemProperties());
        List<Variant<T>> out = new ArrayList<>();
        for (Backend b : registry.all()) {
            if (b.memoryKind() != MemoryKind.HOST) continue;
            if (!b.availability().available()) {
                out.add(new Variant<>(b.name(), "unavailable", null, b.name() + " " + b.availability()));
                continue;
            }
            List<T> variants = b.variants(family);
            if (variants.isEmpty()) out.add(new Variant<>(b.name(), "none", null, b.name() + ": " + b.kernels(family).reason()));
            for (T k : variants) out.add(new Variant<>(b.name(), id.apply(k), k, null));
        }
        return out;
    }
}
