package org.tessera.kernels.cpu;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Instruction-set levels of the native CPU kernels, ordered: each level implies the ones below.
 * Values mirror {@code TSR_ISA_*} in {@code native/cpu/include/tessera_cpu.h}.
 */
public enum Isa {
    /** Plain x86-64 (SSE2): no native kernels; the java backend serves. */
    BASELINE,
    /** AVX2 + FMA + F16C with OS support for YMM state. */
    AVX2,
    /** AVX-512 F/BW/DQ/VL with OS support for ZMM state. */
    AVX512;

    /** The level with native code {@code level} ({@code TSR_ISA_*}). */
    public static Isa fromLevel(int level) {
        if (level < 0 || level >= values().length) throw new IllegalArgumentException("unknown ISA level " + level);
        return values()[level];
    }

    /**
     * Parses a {@code tessera.maxIsa} value: {@code baseline} (alias {@code scalar}, {@code sse}),
     * {@code avx2}, {@code avx512}; case-insensitive.
     */
    public static Isa parse(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        return switch (t) {
            case "baseline", "scalar", "sse", "sse2", "sse4", "none" -> BASELINE;
            case "avx2" -> AVX2;
            case "avx512", "avx-512" -> AVX512;
            default -> throw new IllegalArgumentException("tessera.maxIsa: unknown ISA '" + text + "'; use one of "
                    + Arrays.stream(values()).map(Isa::id).collect(Collectors.joining(", ")));
        };
    }

    /** Lower-case name used in kernel ids and properties, e.g. {@code avx2}. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The lower of the two levels. */
    public Isa min(Isa other) {
        return compareTo(other) <= 0 ? this : other;
    }
}
