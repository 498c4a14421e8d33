package org.tessera.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.tessera.kernels.sparse.CsrMatrix;
import org.tessera.kernels.sparse.SparseMatrix;
import org.tessera.kernels.spi.Int8Input;
import org.tessera.kernels.spi.Int8Output;
import org.tessera.kernels.spi.OpFamily;
import org.tessera.kernels.spi.PackedSparse;
import org.tessera.kernels.spi.SparseKernels;
import org.tessera.testing.HostKernels;
import org.tessera.testing.HostKernels.Variant;
import org.tessera.testing.Int8Reference;
import org.tessera.testing.KernelAssertions;
import org.tessera.testing.SeededRandom;
import org.tessera.testing.SparseData;
import org.tessera.testing.SparseData.Format;
import org.tessera.testing.TestData;

/**
 * Every host sparse product against the dense reference of the densified weights: every format (CSR, BSR
 * 4x1 / 8x1 / 4x4 / 1x8 / 3x2, N:M 2:4), sparsity 0 to 100% (empty rows included), one non-zero, odd sizes and m = 1,
 * strided and offset X and Y, bias and ReLU, outputs poisoned first; f32 within 1e-5 relative error, int8
 * bit-exact for every output type; bad arguments rejected before any kernel runs.
 */
@ExtendWith(SeededRandom.class)
class SparseKernelsTest {
    private static final AtomicInteger RAN = new AtomicInteger();
    private static final int[] SIZES = {1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 24, 25, 31, 33, 64, 67};
    private static final double[] SPARSITY = {0, 0.5, 0.9, 0.99, 1};

    static List<Variant<SparseKernels>> variants() {
        return HostKernels.of(OpFamily.SPARSE, SparseKernels::kernelId);
    }

    @AfterAll
    static void atLeastOneVariantRan() {
        assertTrue(RAN.get() > 0, "no sparse kernel variant could run on this machine");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void f32MatchesTheDenseReference(Variant<SparseKernels> v, SplittableRandom rnd) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        RAN.incrementAndGet();
        for (Format f : Format.values()) {
            for (double sparsity : SPARSITY) {
                for (int round = 0; round < 3; round++) {
                    int n = pick(rnd), k = f.cols(pick(rnd)), m = round == 0 ? 1 : pick(rnd);
                    checkF32(v.kernels(), f, n, k, m, sparsity, rnd);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void f32LargeShapesRunOnEveryThread(Variant<SparseKernels> v, SplittableRandom rnd) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        for (Format f : new Format[] {Format.CSR, Format.BSR4X1, Format.NM2OF4}) checkF32(v.kernels(), f, 403, 256, 70, 0.8, rnd);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void oneNonZero(Variant<SparseKernels> v, SplittableRandom rnd) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        int n = 9, k = 11, m = 19;
        float[] w = new float[n * k];
        w[5 * k + 7] = 3f;
        float[] x = TestData.floats(rnd, k * m);
        try (PackedSparse p = v.kernels().pack(CsrMatrix.fromDense(w, n, k)); HostStorage xs = TestData.storage(x);
             HostStorage ys = TestData.poisoned(n * m)) {
            v.kernels().spmm(m, p, xs, 0, m, null, 0, false, ys, 0, m);
            float[] y = TestData.floats(ys);
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < m; j++) assertEquals(i == 5 ? 3f * x[7 * m + j] : 0f, y[i * m + j], "y[" + i + "][" + j + "]");
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void int8IsBitExact(Variant<SparseKernels> v, SplittableRandom rnd) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        for (Format f : Format.values()) {
            for (double sparsity : SPARSITY) {
                int n = pick(rnd), k = f.cols(pick(rnd)), m = rnd.nextInt(3) == 0 ? 1 : pick(rnd);
                checkInt8(v.kernels(), f, n, k, m, sparsity, rnd);
            }
        }
        checkInt8(v.kernels(), Format.BSR4X1, 130, 300, 40, 0.7, rnd);
    }

    /**
     * The AVX2 kernel's one-column-block loops step 16 and 32 columns and run 4 rows of a block together, the
     * rest row by row: every column count around those steps, with block rows of 1, 4 and 8 rows and a last
     * block row cut short (n = 4q + 2).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void int8IsBitExactAcrossColumnStepsAndRowGroups(Variant<SparseKernels> v, SplittableRandom rnd) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        for (Format f : new Format[] {Format.CSR, Format.BSR4X1, Format.BSR8X1, Format.NM2OF4}) {
            for (int m : new int[] {1, 2, 15, 16, 17, 31, 32, 33, 47, 48, 64, 65}) checkInt8(v.kernels(), f, 22, f.cols(37), m, 0.6, rnd);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void badArgumentsAreClearExceptions(Variant<SparseKernels> v, SplittableRandom rnd) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        SparseKernels s = v.kernels();
        int n = 8, k = 6, m = 5;
        SparseMatrix w = CsrMatrix.fromDense(SparseData.pattern(Format.CSR, n, k, 0.5, rnd, rnd::nextDouble), n, k);
        try (PackedSparse p = s.pack(w); PackedSparse q = s.packInt8(w.mapValues((r, x) -> 1f), new float[] {0.5f});
             HostStorage x = TestData.storage(TestData.floats(rnd, k * m)); HostStorage y = TestData.poisoned(n * m)) {
            message("ldx", () -> s.spmm(m, p, x, 0, m - 1, null, 0, false, y, 0, m));
            message("ldy", () -> s.spmm(m, p, x, 0, m, null, 0, false, y, 0, 2));
            message("needs", () -> s.spmm(m + 1, p, x, 0, m + 1, null, 0, false, y, 0, m + 1));
            message("overlaps", () -> s.spmm(1, p, x, 0, 1, null, 0, false, x, 3, 1));
            message("bias", () -> s.spmm(m, p, x, 0, m, TestData.storage(new float[n - 1]), 0, false, y, 0, m));
            message("packInt8", () -> s.spmmInt8(m, p, Int8Input.u8(1f, 0), x, 0, m, Int8Output.s32(), y, 0, m, null, 0));
            message("needs F32", () -> s.spmm(m, q, x, 0, m, null, 0, false, y, 0, m));
            message("s8 integer", () -> s.packInt8(w, new float[] {1f}));
            message("scales", () -> s.packInt8(w.mapValues((r, z) -> 1f), new float[] {1f, 2f}));
            float[] nanBias = new float[n];
            nanBias[3] = Float.NaN;
            message("bias[3] = NaN", () -> s.spmmInt8(m, q, Int8Input.u8(1f, 0), x, 0, m, Int8Output.u8(1f, 0, false), y, 0, m,
                    TestData.storage(nanBias), 0));
            message("S32 output takes no bias", () -> s.spmmInt8(m, q, Int8Input.u8(1f, 0), x, 0, m, Int8Output.s32(), y, 0, m, x, 0));
            SparseKernels other = otherBackend(v);
            if (other != null) {
                try (PackedSparse foreign = other.pack(w)) {
                    message("packed by", () -> s.spmm(m, foreign, x, 0, m, null, 0, false, y, 0, m));
                }
            }
            HostStorage closed = TestData.storage(new float[k * m]);
            closed.close();
            assertThrows(IllegalStateException.class, () -> s.spmm(m, p, closed, 0, m, null, 0, false, y, 0, m));
            PackedSparse gone = s.pack(w);
            gone.close();
            assertThrows(IllegalStateException.class, () -> s.spmm(m, gone, x, 0, m, null, 0, false, y, 0, m));
            float[] untouched = TestData.floats(y);
            for (float f : untouched) assertTrue(Float.isNaN(f), "a rejected call wrote to y");
        }
    }

    private static SparseKernels otherBackend(Variant<SparseKernels> self) {
        for (Variant<SparseKernels> o : variants()) {
            if (o.skipReason() == null && o.kernels() != self.kernels()) return o.kernels();
        }
        return null;
    }

    private static int pick(SplittableRandom rnd) {
        return SIZES[rnd.nextInt(SIZES.length)];
    }

    /** Random weights of the format, X and Y with padded strides and offsets, Y poisoned; rel. error <= 1e-5. */
    private static void checkF32(SparseKernels s, Format f, int n, int k, int m, double sparsity, SplittableRandom rnd) {
        float[] w = SparseData.pattern(f, n, k, sparsity, rnd, () -> rnd.nextDouble() * 2 - 1);
        int ldx = m + rnd.nextInt(3), ldy = m + rnd.nextInt(3), xOff = rnd.nextInt(4), yOff = rnd.nextInt(4);
        float[] x = TestData.floats(rnd, xOff + k * ldx);
        float[] bias = rnd.nextBoolean() ? TestData.floats(rnd, n) : null;
        boolean relu = rnd.nextBoolean();
        float[] expected = SparseData.reference(w, n, k, m, x, xOff, ldx, bias, relu);
        String what = f + " " + n + "x" + k + " m=" + m + " sparsity " + sparsity + " relu=" + relu + " bias=" + (bias != null);
        try (PackedSparse p = s.pack(f.of(w, n, k)); HostStorage xs = TestData.storage(x); HostStorage ys = TestData.poisoned(yOff + n * ldy);
             HostStorage bs = bias == null ? null : TestData.storage(bias)) {
            s.spmm(m, p, xs, xOff, ldx, bs, 0, relu, ys, yOff, ldy);
            float[] y = TestData.floats(ys), got = new float[n * m];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < m; j++) got[i * m + j] = y[yOff + i * ldy + j];
                for (int j = m; j < ldy && yOff + i * ldy + j < y.length; j++) {
                    assertTrue(Float.isNaN(y[yOff + i * ldy + j]), s.kernelId(p) + " " + what + ": wrote past row " + i);
                }
            }
            // Per element, against the sum of |products| (cancellation can leave a result far smaller than its
            // terms, and float sums of up to 67 terms then differ from the double reference by more than 1e-5 of it).
            float[] magnitude = SparseData.reference(abs(w), n, k, m, abs(x), xOff, ldx, bias == null ? null : abs(bias), false);
            for (int i = 0; i < got.length; i++) {
                if (!(Math.abs((double) got[i] - expected[i]) <= 1e-5 * magnitude[i] + 1e-30)) {
                    throw new AssertionError(s.kernelId(p) + " " + what + ": y[" + i + "] = " + got[i] + ", reference " + expected[i]
                            + " (sum of |terms| " + magnitude[i] + ")");
                }
            }
        }
    }

    private static float[] abs(float[] v) {
        float[] a = new float[v.length];
        for (int i = 0; i < v.length; i++) a[i] = Math.abs(v[i]);
        return a;
    }

    /** s8 weights, u8/s8 X, every output type; bit-exact against the integer reference and the contract's formulas. */
    private static void checkInt8(SparseKernels s, Format f, int n, int k, int m, double sparsity, SplittableRandom rnd) {
        float[] w = SparseData.pattern(f, n, k, sparsity, rnd, () -> rnd.nextInt(256) - 128);
        if (rnd.nextInt(4) == 0) for (int i = 0; i < w.length; i++) if (w[i] != 0f) w[i] = rnd.nextBoolean() ? -128f : 127f;
        boolean signed = rnd.nextBoolean();
        Int8Input xq = signed ? Int8Input.s8(0.02f, rnd.nextInt(7) - 3) : Int8Input.u8(0.02f, new int[] {0, 128, 37, 255}[rnd.nextInt(4)]);
        Int8Output out = switch (rnd.nextInt(4)) {
            case 0 -> Int8Output.s32();
            case 1 -> Int8Output.f32(rnd.nextBoolean());
            case 2 -> Int8Output.u8(20f + 50f * rnd.nextFloat(), new int[] {0, 128, 17}[rnd.nextInt(3)], rnd.nextBoolean());
            default -> Int8Output.s8(20f + 50f * rnd.nextFloat(), new int[] {0, -7}[rnd.nextInt(2)], rnd.nextBoolean());
        };
        float[] scales = new float[rnd.nextBoolean() ? 1 : n];
        for (int i = 0; i < scales.length; i++) scales[i] = 0.001f + 0.01f * rnd.nextFloat();
        int ldx = m + rnd.nextInt(3), ldy = m + rnd.nextInt(3), xOff = rnd.nextInt(4), yOff = rnd.nextInt(4);
        byte[] x = new byte[xOff + k * ldx];
        for (int i = 0; i < x.length; i++) x[i] = (byte) (rnd.nextInt(4) == 0 ? (signed ? -128 : 255) : rnd.nextInt(256));
        float[] bias = out.takesBias() && rnd.nextBoolean() ? TestData.floats(rnd, n) : null;
        int eb = out.type().byteSize();
        String what = f + " " + n + "x" + k + " m=" + m + " sparsity " + sparsity + " " + xq + " -> " + out;
        try (PackedSparse p = s.packInt8(f.of(w, n, k), scales); HostStorage xs = HostStorage.allocate(x.length);
             HostStorage ys = HostStorage.allocate((long) eb * (yOff + n * ldy)); HostStorage bs = bias == null ? null : TestData.storage(bias)) {
            java.lang.foreign.MemorySegment.copy(x, 0, xs.segment(), ValueLayout.JAVA_BYTE, 0, x.length);
            ys.segment().fill((byte) 0xA5);
            s.spmmInt8(m, p, xq, xs, xOff, ldx, out, ys, yOff, ldy, bs, 0);
            for (int i = 0; i < n; i++) {
                float sw = scales.length == 1 ? scales[0] : scales[i], b = bias == null ? 0f : bias[i];
                for (int j = 0; j < m; j++) {
                    long acc = 0;
                    for (int q = 0; q < k; q++) {
                        byte xv = x[xOff + q * ldx + j];
                        acc += (long) w[i * k + q] * ((signed ? xv : xv & 0xFF) - xq.zeroPoint());
                    }
                    int a = Math.toIntExact(acc);
                    long at = yOff + (long) i * ldy + j;
                    String where = s.kernelId(p) + " " + what + ": y[" + i + "][" + j + "]";
                    switch (out.type()) {
                        case S32 -> assertEquals(a, ys.segment().getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, at), where);
                        case F32 -> assertEquals(Int8Reference.dequantize(a, xq.scale(), sw, b, out.relu()),
                                ys.segment().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, at), 0f, where);
                        case U8 -> assertEquals(Int8Reference.requantize(a, xq.scale(), sw, b, out), ys.segment().get(ValueLayout.JAVA_BYTE, at) & 0xFF, where);
                        default -> assertEquals(Int8Reference.requantize(a, xq.scale(), sw, b, out), (int) ys.segment().get(ValueLayout.JAVA_BYTE, at), where);
                    }
                }
            }
        }
    }

    private static void message(String fragment, org.junit.jupiter.api.function.Executable e) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
        assertTrue(ex.getMessage().contains(fragment), "expected '" + fragment + "' in: " + ex.getMessage());
    }
}
