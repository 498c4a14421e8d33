package org.tessera.kernels.nativecpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.tessera.kernels.HostStorage;
import org.tessera.kernels.cpu.Isa;
import org.tessera.kernels.spi.PackedInt8;

/**
 * The choice of native int8 kernel: a VNNI kernel only where CPUID has the feature and the ISA level
 * (CPU, OS state, build, tessera.maxIsa) allows its register width. The kernels themselves are checked
 * bit for bit on an emulated VNNI CPU by toolchain/test-emulated.sh, and by Int8GemmKernelsTest on
 * any machine that has VNNI.
 */
class Int8VariantTest {
    @Test
    void avx512VnniNeedsTheAvx512LevelAndTheFeature() {
        assertEquals(Int8Variant.AVX512_VNNI, Int8Variant.select(Isa.AVX512, Set.of("avx512_vnni", "avx_vnni"), true));
        assertEquals(Int8Variant.AVX512_VNNI, Int8Variant.select(Isa.AVX512, Set.of("avx512_vnni"), true));
        // capped to AVX2 by tessera.maxIsa, or an OS without ZMM state: no 512-bit kernel
        assertEquals(Int8Variant.AVX2, Int8Variant.select(Isa.AVX2, Set.of("avx512_vnni"), true));
        assertEquals(Int8Variant.AVX_VNNI, Int8Variant.select(Isa.AVX2, Set.of("avx512_vnni", "avx_vnni"), true));
    }

    @Test
    void avxVnniNeedsAvx2AndTheFeature() {
        assertEquals(Int8Variant.AVX_VNNI, Int8Variant.select(Isa.AVX2, Set.of("avx2", "avx_vnni"), true));
        assertEquals(Int8Variant.AVX_VNNI, Int8Variant.select(Isa.AVX512, Set.of("avx_vnni"), true));
        assertEquals(Int8Variant.AVX2, Int8Variant.select(Isa.AVX2, Set.of("avx2", "fma"), true));
        assertEquals(Int8Variant.AVX2, Int8Variant.select(Isa.BASELINE, Set.of("avx_vnni"), true));
    }

    @Test
    void tesseraVnniFalseKeepsAvx2() {
        assertEquals(Int8Variant.AVX2, Int8Variant.select(Isa.AVX512, Set.of("avx512_vnni", "avx_vnni"), false));
    }

    @Test
    void aVnniGemmPacksEveryWeightInQuadsAndTheAvx2ConvTakesOnlyThoseItCanRunExactly() {
        assumeTrue(NativeLibrary.get().loaded() && NativeLibrary.get().cpuIsa().compareTo(Isa.AVX2) >= 0,
                "the packing is AVX2 code: needs the native library on an AVX2 CPU");
        int k = 8, n = 3;
        byte[] fits = new byte[k * n], wide = new byte[k * n];
        java.util.Arrays.fill(fits, (byte) 64);
        java.util.Arrays.fill(wide, (byte) 127); // 255 * (127 + 127) leaves s16: vpmaddubsw would saturate
        NativeImplicitInt8Conv2d conv = new NativeImplicitInt8Conv2d(Int8Variant.AVX2);
        for (Int8Variant v : Int8Variant.values()) {
            NativeInt8Gemm g = new NativeInt8Gemm(v); // packs only (AVX2 code); never runs a VNNI kernel here
            try (HostStorage a = bytes(fits); HostStorage b = bytes(wide);
                 PackedInt8 pf = g.pack(false, k, n, a, 0, n, new float[] {1f});
                 PackedInt8 pw = g.pack(false, k, n, b, 0, n, new float[] {1f})) {
                assertTrue(pf.reducedRange() && g.quadLayout(pf), v + ": 7-bit weights take the quad layout");
                assertFalse(pw.reducedRange(), v + ": the pair check is about vpmaddubsw, whatever the kernel");
                assertEquals(v.vnni(), g.quadLayout(pw), v + ": full-range weights are in quads exactly when VNNI runs them");
                assertTrue(conv.accepts(pf), v.toString());
                assertEquals(v == Int8Variant.AVX512_VNNI || !v.vnni(), conv.accepts(pw),
                        v + ": the AVX2 conv must refuse quad-packed weights it would saturate; the AVX-512 VNNI one takes all");
                assertEquals(v.vnni() ? v.kernelId : "i8_gemm_6x16__avx2", g.kernelId(pw), v.toString());
            }
        }
    }

    private static HostStorage bytes(byte[] data) {
        HostStorage s = HostStorage.allocate(data.length);
        MemorySegment.copy(data, 0, s.segment(), ValueLayout.JAVA_BYTE, 0, data.length);
        return s;
    }
}
