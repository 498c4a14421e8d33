package org.tessera.kernels.nativecpu;

import java.util.Set;
import org.tessera.kernels.cpu.Isa;

/**
 * Which native int8 GEMM kernel runs: chosen once per backend from the ISA level (CPU, OS, build and
 * {@code tessera.maxIsa}) and the CPUID features. All of them take the same packed weights and give
 * bit-identical results; the VNNI ones do in one {@code vpdpbusd} what AVX2 does in three instructions,
 * and are exact for every s8 weight, not only those that pass the reduced-range pair check.
 */
enum Int8Variant {
    /** vpmaddubsw (weights that pass the pair check) or the exact s16 widening kernel. */
    AVX2("i8_gemm_6x16__avx2"),
    /** 256-bit VEX vpdpbusd: Intel client cores from Alder Lake on. */
    AVX_VNNI("i8_gemm_6x16__avxvnni"),
    /** 512-bit vpdpbusd, 6x32 tiles: Ice Lake / Sapphire Rapids servers, AMD Zen 4 and later. */
    AVX512_VNNI("i8_gemm_6x32__avx512vnni");

    final String kernelId;

    Int8Variant(String kernelId) {
        this.kernelId = kernelId;
    }

    /**
     * @param isa      the level native kernels run at (AVX-512 includes the OS's ZMM state)
     * @param features CPUID feature names ({@code avx512_vnni}, {@code avx_vnni}, ...)
     * @param allowed  {@code tessera.vnni}
     */
    static Int8Variant select(Isa isa, Set<String> features, boolean allowed) {
        if (!allowed) return AVX2;
        if (isa == Isa.AVX512 && features.contains("avx512_vnni")) return AVX512_VNNI;
        if (isa.compareTo(Isa.AVX2) >= 0 && features.contains("avx_vnni")) return AVX_VNNI;
        return AVX2;
    }

    boolean vnni() {
        return this != AVX2;
    }
}
