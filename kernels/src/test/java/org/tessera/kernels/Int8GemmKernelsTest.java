package org.tessera.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.tessera.kernels.spi.Int8GemmKernels;
import org.tessera.kernels.spi.Int8Input;
import org.tessera.kernels.spi.Int8Output;
import org.tessera.kernels.spi.OpFamily;
import org.tessera.kernels.spi.PackedInt8;
import org.tessera.testing.HostKernels;
import org.tessera.testing.HostKernels.Variant;
import org.tessera.testing.Int8Reference;
import org.tessera.testing.SeededRandom;

/**
 * Every host int8 GEMM variant, bit-exact against the integer reference (s32, requantized u8/s8, and the
 * dequantized f32 formula), plus the f32 output against a double reference: u8 and s8 activations, zero
 * points 0, 128 and odd ones, full-range and reduced-range weights (the native kernel's two paths),
 * per-tensor and per-column scales, odd and prime sizes, k = 1 and large k, strided and offset operands,
 * the worst case for saturation, poisoned outputs, bad arguments.
 */
@ExtendWith(SeededRandom.class)
class Int8GemmKernelsTest {
    private static final AtomicInteger RAN = new AtomicInteger();
    private static final byte POISON = (byte) 0xA5;

    static List<Variant<Int8GemmKernels>> variants() {
        return HostKernels.of(OpFamily.INT8_GEMM, Int8GemmKernels::kernelId);
    }

    @AfterAll
    static void atLeastOneVariantRan() {
        assertTrue(RAN.get() > 0, "no int8 GEMM variant could run on this machine");
    }

    /** Weight value ranges: full s8, and 7-bit (every pair fits vpmaddubsw). */
    enum Weights { FULL, REDUCED }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void everyOutputTypeOnRandomShapes(Variant<Int8GemmKernels> v, SplittableRandom rnd) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        RAN.incrementAndGet();
        int[] sizes = {1, 2, 3, 5, 6, 7, 13, 16, 17, 31, 33, 64, 127};
        for (Weights weights : Weights.values()) {
            for (int round = 0; round < 12; round++) {
                int m = sizes[rnd.nextInt(sizes.length)], n = sizes[rnd.nextInt(sizes.length)], k = sizes[rnd.nextInt(sizes.length)];
                check(v.kernels(), m, n, k, randomInput(rnd), randomOutput(rnd), weights, rnd);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void largeKAndSkinnyShapes(Variant<Int8GemmKernels> v, SplittableRandom rnd) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        // k past the java kernel's float block (256) and odd around the native pair/quad steps; n past 16 panels;
        // m past the packed-A block; big enough products run on two threads; 37 x 3001 x 700 takes the java kernel
        // several column chunks (it converts k x chunk <= 2^20 weights at a time), the last one with a partial panel.
        int[][] shapes = {{1, 1, 1}, {1, 4099, 3}, {4, 33, 3001}, {257, 300, 100}, {300, 17, 515}, {1, 1000, 1027}, {23, 64, 256},
                {300, 9000, 5}, {37, 3001, 700}};
        for (int[] s : shapes) {
            for (Weights weights : Weights.values()) check(v.kernels(), s[0], s[1], s[2], randomInput(rnd), randomOutput(rnd), weights, rnd);
        }
    }

    /**
     * All activations 255 (or -128) against all weights -128 or 127 (where vpmaddubsw would saturate), and
     * against +-64 (the largest the native fast path accepts: 255 * 128 fits s16 exactly), at k = MAX_K;
     * 3 rows (the small-m paths) and 9 (the blocked ones).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void worstCaseMagnitudesAreExact(Variant<Int8GemmKernels> v, SplittableRandom rnd) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        int n = 19, k = v.kernels().kernelId().contains("scalar") ? 4097 : Int8GemmKernels.MAX_K;
        for (int m : new int[] {3, 9}) for (byte wv : new byte[] {-128, 127, -64, 64}) {
            for (Int8Input aq : List.of(Int8Input.u8(1f, 0), Int8Input.s8(1f, 0), Int8Input.u8(1f, 255))) {
                byte av = aq.type() == DType.U8 ? (byte) (aq.zeroPoint() == 0 ? 255 : 0) : (byte) -128;
                byte[] a = new byte[m * k], w = new byte[k * n];
                java.util.Arrays.fill(a, av);
                java.util.Arrays.fill(w, wv);
                run(v.kernels(), m, n, k, a, k, 0, aq, w, false, new float[] {1f}, Int8Output.s32(), null, rnd, "worst case");
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void badArgumentsAreExceptions(Variant<Int8GemmKernels> v) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        Int8GemmKernels g = v.kernels();
        try (HostStorage w = HostStorage.allocate(12); HostStorage a = HostStorage.allocate(8); HostStorage c = HostStorage.allocate(64);
             HostStorage bias = HostStorage.allocate(12)) {
            assertThrows(IllegalArgumentException.class, () -> g.pack(false, Int8GemmKernels.MAX_K + 1, 1, w, 0, 1, new float[] {1f}));
            assertThrows(IllegalArgumentException.class, () -> g.pack(false, 4, 3, w, 0, 2, new float[] {1f}), "ldw < n");
            assertThrows(IllegalArgumentException.class, () -> g.pack(false, 4, 4, w, 0, 4, new float[] {1f}), "past the end");
            assertThrows(IllegalArgumentException.class, () -> g.pack(false, 4, 3, w, 0, 3, new float[] {1f, 2f}), "2 scales");
            assertThrows(IllegalArgumentException.class, () -> g.pack(false, 4, 3, w, 0, 3, new float[] {0f}), "zero scale");
            assertThrows(IllegalArgumentException.class, () -> g.pack(false, 4, 3, w, 0, 3, new float[] {Float.NaN}));
            PackedInt8 pw = g.pack(false, 4, 3, w, 0, 3, new float[] {1f});
            Int8Input in = Int8Input.u8(1f, 0);
            assertThrows(IllegalArgumentException.class, () -> g.gemm(2, in, a, 0, 3, pw, Int8Output.s32(), c, 0, 3, null, 0), "lda < k");
            assertThrows(IllegalArgumentException.class, () -> g.gemm(2, in, a, 0, 4, pw, Int8Output.s32(), c, 0, 2, null, 0), "ldc < n");
            assertThrows(IllegalArgumentException.class, () -> g.gemm(3, in, a, 0, 4, pw, Int8Output.s32(), c, 0, 3, null, 0), "a too small");
            assertThrows(IllegalArgumentException.class, () -> g.gemm(2, in, a, 0, 4, pw, Int8Output.s32(), c, 0, 3, bias, 0), "bias with s32");
            assertThrows(IllegalArgumentException.class, () -> g.gemm(2, in, a, 0, 4, pw, Int8Output.f32(false), c, 0, 3, bias, 1), "bias bounds");
            bias.segment().setAtIndex(ValueLayout.JAVA_FLOAT, 1, Float.NaN);
            assertThrows(IllegalArgumentException.class, () -> g.gemm(2, in, a, 0, 4, pw, Int8Output.u8(1f, 0, false), c, 0, 3, bias, 0), "NaN bias");
            assertThrows(IllegalArgumentException.class, () -> Int8Output.u8(1f, 256, false));
            assertThrows(IllegalArgumentException.class, () -> Int8Input.s8(1f, 128));
            assertThrows(IllegalArgumentException.class, () -> new Int8Input(DType.F32, 1f, 0));
            for (Variant<Int8GemmKernels> other : variants()) {
                if (other.kernels() != null && other.kernels() != g) {
                    assertThrows(IllegalArgumentException.class, () -> other.kernels().gemm(2, in, a, 0, 4, pw, Int8Output.s32(), c, 0, 3, null, 0));
                }
            }
            pw.close();
            assertThrows(IllegalStateException.class, () -> g.gemm(2, in, a, 0, 4, pw, Int8Output.s32(), c, 0, 3, null, 0), "closed weights");
            a.close();
            assertThrows(IllegalStateException.class, () -> g.pack(false, 2, 3, a, 0, 3, new float[] {1f}), "closed w");
        }
    }

    // ---- helpers ----------------------------------------------------------------------------------------

    private static Int8Input randomInput(SplittableRandom rnd) {
        if (rnd.nextBoolean()) return Int8Input.u8(0.01f + rnd.nextFloat(), new int[] {0, 128, 37, 255}[rnd.nextInt(4)]);
        return Int8Input.s8(0.01f + rnd.nextFloat(), new int[] {0, -5, 3}[rnd.nextInt(3)]);
    }

    private static Int8Output randomOutput(SplittableRandom rnd) {
        boolean relu = rnd.nextBoolean();
        return switch (rnd.nextInt(4)) {
            case 0 -> Int8Output.s32();
            case 1 -> Int8Output.f32(relu);
            case 2 -> Int8Output.u8(50f + 200f * rnd.nextFloat(), new int[] {0, 128, 17}[rnd.nextInt(3)], relu);
            default -> Int8Output.s8(50f + 200f * rnd.nextFloat(), new int[] {0, -7}[rnd.nextInt(2)], relu);
        };
    }

    /** Random operands with padded strides and offsets, run and compared. */
    private static void check(Int8GemmKernels g, int m, int n, int k, Int8Input aq, Int8Output out, Weights weights,
                              SplittableRandom rnd) {
        int lda = k + rnd.nextInt(3), aOff = rnd.nextInt(5);
        byte[] a = new byte[aOff + (m - 1) * lda + k + 3], w = new byte[k * n];
        for (int i = 0; i < a.length; i++) a[i] = (byte) rnd.nextInt(256);
        for (int i = 0; i < w.length; i++) w[i] = (byte) (weights == Weights.FULL ? rnd.nextInt(256) - 128 : rnd.nextInt(129) - 64);
        float[] scales = new float[rnd.nextBoolean() ? 1 : n];
        for (int j = 0; j < scales.length; j++) scales[j] = 0.001f + 0.01f * rnd.nextFloat();
        float[] bias = null;
        if (out.takesBias() && rnd.nextBoolean()) {
            bias = new float[n];
            for (int j = 0; j < n; j++) bias[j] = (float) (rnd.nextDouble() * 40 - 20);
        }
        String what = m + "x" + n + "x" + k + " " + aq + " " + out + " " + weights + " weights, " + scales.length + " scale(s)"
                + (bias == null ? "" : ", bias");
        run(g, m, n, k, a, lda, aOff, aq, w, rnd.nextBoolean(), scales, out, bias, rnd, what);
    }

    private static void run(Int8GemmKernels g, int m, int n, int k, byte[] a, int lda, int aOff, Int8Input aq, byte[] w,
                            boolean transW, float[] scales, Int8Output out, float[] bias, SplittableRandom rnd, String what) {
        int ldc = n + rnd.nextInt(3), cOff = rnd.nextInt(3), eb = out.type().byteSize();
        int biasOff = rnd.nextInt(3);
        long cElems = cOff + (long) (m - 1) * ldc + n + 2;
        try (HostStorage as = bytes(a); HostStorage ws = bytes(transW ? transpose(w, k, n) : w);
             HostStorage cs = HostStorage.allocate(cElems * eb); HostStorage bs = HostStorage.allocate(4L * (n + biasOff))) {
            cs.segment().fill(POISON);
            if (bias != null) MemorySegment.copy(bias, 0, bs.segment(), ValueLayout.JAVA_FLOAT, 4L * biasOff, n);
            try (PackedInt8 pw = g.pack(transW, k, n, ws, 0, transW ? k : n, scales)) {
                if (g.kernelId().contains("avx2")) {
                    boolean fits = pairsFit(w, k, n);
                    assertEquals(fits, pw.reducedRange(), what + ": the native pack must take the fast path exactly when it is exact");
                }
                g.gemm(m, aq, as, aOff, lda, pw, out, cs, cOff, ldc, bias == null ? null : bs, biasOff);
            }
            int[] acc = Int8Reference.accumulate(m, n, k, a, aOff, lda, aq, w);
            MemorySegment c = cs.segment();
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    long at = cOff + (long) i * ldc + j;
                    float sw = scales.length == 1 ? scales[0] : scales[j], b = bias == null ? 0f : bias[j];
                    String where = what + " at (" + i + ", " + j + ")";
                    int e = acc[i * n + j];
                    switch (out.type()) {
                        case S32 -> assertEquals(e, c.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, at), where);
                        case F32 -> {
                            float got = c.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, at);
                            assertEquals(Int8Reference.dequantize(e, aq.scale(), sw, b, out.relu()), got, 0f, where);
                            double exact = Int8Reference.dequantizeExact(e, aq.scale(), sw, b, out.relu());
                            double tol = 4 * Math.ulp((float) Math.max(Math.abs(exact), Math.abs((double) aq.scale() * sw * e)));
                            assertEquals(exact, got, tol, where + " vs double");
                        }
                        case U8 -> assertEquals(Int8Reference.requantize(e, aq.scale(), sw, b, out), c.get(ValueLayout.JAVA_BYTE, at) & 0xFF, where);
                        case S8 -> assertEquals(Int8Reference.requantize(e, aq.scale(), sw, b, out), (int) c.get(ValueLayout.JAVA_BYTE, at), where);
                        default -> throw new AssertionError(out.type());
                    }
                }
                // the row padding between n and ldc stays untouched
                for (long j = n; j < ldc && i < m - 1; j++) {
                    for (int q = 0; q < eb; q++) assertEquals(POISON, c.get(ValueLayout.JAVA_BYTE, (cOff + i * (long) ldc + j) * eb + q), what + " wrote past n");
                }
            }
        }
    }

    /** The native pack-time rule: 255 * (sum of same-sign weights) of each k pair fits s16. */
    private static boolean pairsFit(byte[] w, int k, int n) {
        for (int j = 0; j < n; j++) {
            for (int p = 0; p < k; p += 2) {
                int pos = 0, neg = 0;
                for (int q = p; q < Math.min(k, p + 2); q++) {
                    if (w[q * n + j] > 0) pos += w[q * n + j];
                    else neg += w[q * n + j];
                }
                if (255 * pos > 32767 || 255 * neg < -32768) return false;
            }
        }
        return true;
    }

    private static byte[] transpose(byte[] w, int k, int n) {
        byte[] t = new byte[w.length];
        for (int p = 0; p < k; p++) for (int j = 0; j < n; j++) t[j * k + p] = w[p * n + j];
        return t;
    }

    private static HostStorage bytes(byte[] data) {
        HostStorage s = HostStorage.allocate(Math.max(1, data.length));
        MemorySegment.copy(data, 0, s.segment(), ValueLayout.JAVA_BYTE, 0, data.length);
        return s;
    }
}
