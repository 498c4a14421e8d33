package org.tessera.kernels.spi;

import java.util.List;
import java.util.Optional;
import org.tessera.kernels.MemoryKind;

/**
 * A backend: one implementation of the op families, over one kind of memory.
 * Implementations: {@code java} (Vector API + scalar), {@code native} (C via JavaCPP, per ISA) and
 * {@code cuda} (PTX via JCuda). Creating a backend never fails: problems show in {@link #availability()}.
 */
public interface Backend {
    /** Stable name used in {@code -Dtessera.backend=...}, logs and benchmarks. */
    String name();

    /** Whether it runs here, and why; computed once. */
    Availability availability();

    /** The memory its kernels read and write. */
    MemoryKind memoryKind();

    /**
     * The kernels of one op family, or the reason this backend refuses it. Only called on an available
     * backend; answers are stable, so callers may cache them (selection happens once, not per call).
     */
    <T> Support<T> kernels(OpFamily<T> family);

    /**
     * Every kernel variant this backend has for {@code family}, the one {@link #kernels} picks first, then
     * fallbacks it would use elsewhere (e.g. scalar Java when the Vector API is absent). Tests run them all.
     */
    default <T> List<T> variants(OpFamily<T> family) {
        Support<T> s = kernels(family);
        return s.supported() ? List.of(s.kernels()) : List.of();
    }

    /**
     * Whether the automatic choice may pick this backend; false for opt-in backends (peers such as
     * openblas), which run only when forced or named.
     */
    default boolean automatic() {
        return true;
    }

    /** Allocation and copies for a device backend; empty for host backends. */
    default Optional<DeviceMemory> deviceMemory() {
        return Optional.empty();
    }

    /** Extra lines for the info report (library path, ISA, device name, ...); none by default. */
    default String details() {
        return "";
    }
}
