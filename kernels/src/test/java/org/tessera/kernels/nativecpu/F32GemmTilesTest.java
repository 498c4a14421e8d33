package org.tessera.kernels.nativecpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.tessera.kernels.HostStorage;
import org.tessera.kernels.cpu.Isa;
import org.tessera.kernels.spi.Conv2dShape;
import org.tessera.kernels.spi.PackedF32;
import org.tessera.testing.SeededRandom;
import org.tessera.testing.TestData;

/**
 * The AVX-512 12x32 f32 GEMM gives the AVX2 6x16 kernel's results bit for bit (same packed panels, the same
 * FMA chain per element, the same epilogue), on shapes around both tiles, the k block (256) and the A block
 * (144 rows). F32GemmKernelsTest checks each against the reference; this pins the stronger claim the
 * kernel's comment makes, which a wrong edge mask or a skipped panel would break.
 */
@ExtendWith(SeededRandom.class)
class F32GemmTilesTest {
    private static final int[] M = {1, 5, 6, 7, 11, 12, 13, 25, 37, 145, 150};
    private static final int[] N = {1, 15, 16, 17, 31, 32, 33, 47, 100};
    private static final int[] K = {1, 7, 256, 300, 513};
    private static final float[] SCALARS = {0f, 1f, -0.5f, 0.7f};

    @Test
    void avx512TilesEqualAvx2TilesBitForBit(SplittableRandom rnd) {
        NativeLibrary lib = NativeLibrary.get();
        assumeTrue(lib.loaded() && lib.cpuIsa().min(lib.buildIsa()) == Isa.AVX512, "needs an AVX-512 CPU: "
                + (lib.loaded() ? "this one runs " + lib.cpuIsa().id() : lib.reason()));
        NativeF32Gemm wide = new NativeF32Gemm(true), narrow = new NativeF32Gemm(false);
        assertNotEquals(wide.kernelId(), narrow.kernelId());
        for (int t = 0; t < 60; t++) {
            int m = M[rnd.nextInt(M.length)], n = N[rnd.nextInt(N.length)], k = K[rnd.nextInt(K.length)];
            boolean ta = rnd.nextBoolean(), tb = rnd.nextBoolean(), relu = rnd.nextBoolean(), withBias = rnd.nextBoolean();
            float alpha = SCALARS[1 + rnd.nextInt(3)], beta = SCALARS[rnd.nextInt(SCALARS.length)];
            int lda = (ta ? m : k) + rnd.nextInt(3), ldb = (tb ? k : n) + rnd.nextInt(3), ldc = n + rnd.nextInt(3);
            float[] a = TestData.floats(rnd, (ta ? k : m) * lda), b = TestData.floats(rnd, (tb ? n : k) * ldb);
            float[] c = TestData.floats(rnd, m * ldc), bias = TestData.floats(rnd, n);
            String what = String.format("%dx%dx%d ta=%b tb=%b alpha=%s beta=%s bias=%b relu=%b", m, n, k, ta, tb, alpha, beta,
                    withBias, relu);
            try (HostStorage as = TestData.storage(a); HostStorage bs = TestData.storage(b); HostStorage biass = TestData.storage(bias);
                 HostStorage c1 = TestData.storage(c); HostStorage c2 = TestData.storage(c);
                 HostStorage p1 = TestData.storage(c); HostStorage p2 = TestData.storage(c);
                 PackedF32 wb = wide.pack(tb, k, n, bs, 0, ldb); PackedF32 nb = narrow.pack(tb, k, n, bs, 0, ldb)) {
                HostStorage bias1 = withBias ? biass : null;
                wide.gemm(ta, tb, m, n, k, alpha, as, 0, lda, bs, 0, ldb, beta, c1, 0, ldc, bias1, 0, relu);
                narrow.gemm(ta, tb, m, n, k, alpha, as, 0, lda, bs, 0, ldb, beta, c2, 0, ldc, bias1, 0, relu);
                assertBitsEqual(what, TestData.floats(c2), TestData.floats(c1));
                wide.gemmPacked(ta, m, alpha, as, 0, lda, wb, beta, p1, 0, ldc, bias1, 0, relu);
                narrow.gemmPacked(ta, m, alpha, as, 0, lda, nb, beta, p2, 0, ldc, bias1, 0, relu);
                assertBitsEqual("packed " + what, TestData.floats(p2), TestData.floats(p1));
            }
        }
    }

    /**
     * The implicit-GEMM convolution on 12x32 tiles against the 6x16 one: random geometry (stride, dilation,
     * asymmetric-free padding, groups, channel runs that cross the 256-column k blocks and the 512-column spans),
     * filter counts around 16 and 32, bias and ReLU, poisoned outputs. Within one k block (patches of at most
     * {@link #K_BLOCK} columns) both run the same FMA chain per output: bit for bit. Longer patches round where
     * the 6x16 tiles store every 256 columns and the 12x32 ones every 512: relative error below 1e-5. The 12x32
     * kernel orders pixels its own way (whole windows first), so its calls split [0, pixels) at random positions,
     * off the 12-pixel tile: together they must write every pixel.
     */
    @Test
    void implicitConvTilesEqualAvx2Tiles(SplittableRandom rnd) {
        NativeLibrary lib = NativeLibrary.get();
        assumeTrue(lib.loaded() && lib.cpuIsa().min(lib.buildIsa()) == Isa.AVX512, "needs an AVX-512 CPU: "
                + (lib.loaded() ? "this one runs " + lib.cpuIsa().id() : lib.reason()));
        NativeImplicitGemmConv2d wide = new NativeImplicitGemmConv2d(true), narrow = new NativeImplicitGemmConv2d(false);
        assertNotEquals(wide.kernelId(), narrow.kernelId());
        int[] channels = {1, 3, 16, 29, 64, 100}, filters = {1, 15, 16, 17, 32, 33, 47, 64};
        for (int t = 0; t < 40; t++) {
            int groups = rnd.nextInt(4) == 0 ? 2 : 1;
            int c = channels[rnd.nextInt(channels.length)] * groups, k = filters[rnd.nextInt(filters.length)] * groups;
            int r = 1 + 2 * rnd.nextInt(3), q = 1 + 2 * rnd.nextInt(2), stride = 1 + rnd.nextInt(2), dil = 1 + rnd.nextInt(2);
            int h = r * dil + rnd.nextInt(9), w = q * dil + rnd.nextInt(9), n = 1 + rnd.nextInt(2);
            int padH = rnd.nextInt(r / 2 + 1), padW = rnd.nextInt(q / 2 + 1);
            Conv2dShape s = new Conv2dShape(n, h, w, c, k, r, q, stride, stride, padH, padH, padW, padW, dil, dil, groups);
            int pixels = n * s.outH() * s.outW(), kg = k / groups, g = rnd.nextInt(groups);
            int p0 = rnd.nextInt(pixels + 1), p1 = p0 + rnd.nextInt(pixels - p0 + 1);
            float[] x = TestData.floats(rnd, n * h * w * c), wts = TestData.floats(rnd, k * r * q * (c / groups)), bias = TestData.floats(rnd, k);
            boolean relu = rnd.nextBoolean(), withBias = rnd.nextBoolean();
            String what = s + " group " + g + " positions split at " + p0 + " and " + p1 + " relu=" + relu + " bias=" + withBias;
            try (HostStorage xs = TestData.storage(x); HostStorage ws = TestData.storage(wts); HostStorage bs = TestData.storage(bias);
                 HostStorage packed = HostStorage.allocate(4 * wide.packedFloats(s));
                 HostStorage y1 = TestData.poisoned(pixels * k); HostStorage y2 = TestData.poisoned(pixels * k)) {
                wide.packFilters(s, ws.segment(), 0, g, 0, kg, packed.segment());
                MemorySegment bias1 = withBias ? bs.segment() : null;
                long[] cuts = {0, p0, p1, pixels};
                for (int i = 0; i < 3; i++) {
                    if (cuts[i] < cuts[i + 1]) wide.rows(s, xs.segment(), 0, g, packed.segment(), bias1, 0, y1.segment(), 0, relu, 0, kg, cuts[i], cuts[i + 1]);
                }
                narrow.rows(s, xs.segment(), 0, g, packed.segment(), bias1, 0, y2.segment(), 0, relu, 0, kg, 0, pixels);
                if (s.r() * s.s() * (c / groups) <= K_BLOCK) assertBitsEqual(what, TestData.floats(y2), TestData.floats(y1));
                else assertClose(what, TestData.floats(y2), TestData.floats(y1));
            }
        }
    }

    /** The native kernels' k block (KC): outputs are rounded to memory at its multiples. */
    private static final int K_BLOCK = 256;

    /**
     * Relative Frobenius error below 1e-5 over the elements the reference wrote; the others (another group's
     * outputs) keep their poison in both.
     */
    private static void assertClose(String what, float[] expected, float[] actual) {
        double num = 0, den = 0;
        for (int i = 0; i < expected.length; i++) {
            int at = i;
            assertEquals(Float.isFinite(expected[i]), Float.isFinite(actual[i]), () -> what + ": element " + at + ": "
                    + expected[at] + " vs " + actual[at]);
            if (!Float.isFinite(expected[i])) continue;
            double d = (double) actual[i] - expected[i];
            num += d * d;
            den += (double) expected[i] * expected[i];
        }
        double err = Math.sqrt(num / Math.max(den, Double.MIN_NORMAL));
        assertTrue(err < 1e-5, () -> what + ": relative error " + err);
    }

    private static void assertBitsEqual(String what, float[] expected, float[] actual) {
        for (int i = 0; i < expected.length; i++) {
            int at = i;
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]),
                    () -> what + ": element " + at + " differs: " + expected[at] + " vs " + actual[at]);
        }
    }
}
