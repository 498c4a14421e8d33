package org.tessera;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.tessera.kernels.DType;
import org.tessera.testing.SeededRandom;
import org.tessera.testing.TestData;

/**
 * The pooling ops of {@link Ops} through tensors (forward against a direct double reference, backward against
 * the adjoint identity, strided views) and {@link Layouts} (every element lands where the permutation says).
 */
@ExtendWith(SeededRandom.class)
class PoolingAndLayoutsTest {
    static Stream<String> backends() {
        return Stream.of("java", "native");
    }

    private static Ops ops(String name) {
        assumeTrue(Tessera.backend(name).availability().available(), name + " unavailable here");
        return Ops.on(name);
    }

    /** U8 max pooling through {@link Ops}: codes pooled exactly, on a strided view too; argmax and a F32 y refused. */
    @ParameterizedTest
    @MethodSource("backends")
    void u8MaxPoolingThroughOps(String backend, SplittableRandom rnd) {
        Ops ops = ops(backend);
        int n = 2, h = 9, w = 8, c = 40;
        byte[] codes = new byte[n * h * w * c];
        for (int i = 0; i < codes.length; i++) codes[i] = (byte) rnd.nextInt(256);
        Pool2dParams p = Pool2dParams.of(2, 2, 0);
        try (Tensor x = Tensor.of(DType.U8, codes, n, h, w, c); Tensor y = ops.maxPool2d(x, p)) {
            assertEquals(DType.U8, y.dtype());
            assertArrayEquals(new long[] {n, 4, 4, c}, y.shape());
            for (int b = 0; b < n; b++) {
                for (int i = 0; i < 4; i++) {
                    for (int j = 0; j < 4; j++) {
                        for (int ch = 0; ch < c; ch++) {
                            int best = 0;
                            for (int a = 0; a < 2; a++) {
                                for (int e = 0; e < 2; e++) best = Math.max(best, codes[((b * h + 2 * i + a) * w + 2 * j + e) * c + ch] & 0xFF);
                            }
                            assertEquals(best, y.segment().get(java.lang.foreign.ValueLayout.JAVA_BYTE, ((b * 4 + i) * 4 + j) * c + ch) & 0xFF);
                        }
                    }
                }
            }
            try (Tensor f = Tensor.allocate(DType.F32, n, 4, 4, c); Tensor arg = Tensor.allocate(DType.S32, n, 4, 4, c);
                 Tensor y2 = Tensor.allocate(DType.U8, n, 4, 4, c)) {
                assertTrue(assertThrows(IllegalArgumentException.class, () -> ops.maxPool2d(x, p, f, null)).getMessage().contains("U8"));
                assertTrue(assertThrows(IllegalArgumentException.class, () -> ops.maxPool2d(x, p, y2, arg)).getMessage().contains("argmax"));
                ops.maxPool2d(x.slice(3, 1, c - 1), p, y2.slice(3, 1, c - 1), null); // strided views: dense copies in and out
                assertEquals(y.segment().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 1), y2.segment().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 1));
            }
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void poolingMatchesTheReferenceAndItsBackwardIsItsAdjoint(String backend, SplittableRandom rnd) {
        Ops ops = ops(backend);
        int n = 2, h = 7, w = 6, c = 5;
        Pool2dParams[] params = {Pool2dParams.of(2, 2, 0), new Pool2dParams(3, 3, 2, 1, 1, 0, 1, 1, false), Pool2dParams.of(3, 1, 1)};
        for (Pool2dParams p : params) {
            float[] xv = TestData.floats(rnd, n * h * w * c);
            try (Tensor x = Tensor.of(xv, n, h, w, c); Tensor max = ops.maxPool2d(x, p); Tensor avg = ops.avgPool2d(x, p)) {
                int oh = (int) max.dim(1), ow = (int) max.dim(2);
                assertArrayEquals(new long[] {n, (h + p.padTop() + p.padBottom() - p.kh()) / p.strideH() + 1,
                        (w + p.padLeft() + p.padRight() - p.kw()) / p.strideW() + 1, c}, max.shape(), p.toString());
                float[] g = TestData.floats(rnd, n * oh * ow * c);
                double dotMax = 0, dotAvg = 0;
                for (int b = 0; b < n; b++) {
                    for (int i = 0; i < oh; i++) {
                        for (int j = 0; j < ow; j++) {
                            for (int ch = 0; ch < c; ch++) {
                                double best = Double.NEGATIVE_INFINITY, sum = 0;
                                int count = 0;
                                for (int a = 0; a < p.kh(); a++) {
                                    for (int e = 0; e < p.kw(); e++) {
                                        int ih = i * p.strideH() - p.padTop() + a, iw = j * p.strideW() - p.padLeft() + e;
                                        if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
                                        float v = xv[((b * h + ih) * w + iw) * c + ch];
                                        best = Math.max(best, v);
                                        sum += v;
                                        count++;
                                    }
                                }
                                int at = ((b * oh + i) * ow + j) * c + ch;
                                double mean = sum / (p.countPadding() ? p.kh() * p.kw() : count);
                                assertEquals((float) best, max.toFloatArray()[at], p + " max at " + at);
                                assertEquals(mean, avg.toFloatArray()[at], 1e-6, p + " avg at " + at);
                                dotMax += best * g[at];
                                dotAvg += mean * g[at];
                            }
                        }
                    }
                }
                // <pool(x), g> = <x, pool^T(g)>: the backward ops are the forward's adjoints (max: at the argmax)
                try (Tensor y = Tensor.allocate(DType.F32, max.shape()); Tensor arg = Tensor.allocate(DType.S32, max.shape());
                     Tensor dy = Tensor.of(g, max.shape()); Tensor dx = Tensor.allocate(DType.F32, n, h, w, c)) {
                    ops.maxPool2d(x, p, y, arg);
                    assertArrayEquals(max.toFloatArray(), y.toFloatArray());
                    assertEquals(dotMax, dot(xv, ops.maxPool2dBackward(dy, arg, p, dx).toFloatArray()), 1e-4 * (1 + Math.abs(dotMax)));
                    assertEquals(dotAvg, dot(xv, ops.avgPool2dBackward(dy, p, dx).toFloatArray()), 1e-4 * (1 + Math.abs(dotAvg)));
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void globalAveragePoolingOfAStridedView(String backend, SplittableRandom rnd) {
        Ops ops = ops(backend);
        float[] xv = TestData.floats(rnd, 2 * 3 * 4 * 6);
        try (Tensor all = Tensor.of(xv, 2, 3, 4, 6)) {
            Tensor x = all.slice(3, 1, 5); // channels 1..4, not contiguous
            try (Tensor y = ops.globalAvgPool(x); Tensor dx = Tensor.allocate(DType.F32, 2, 3, 4, 4)) {
                assertArrayEquals(new long[] {2, 4}, y.shape());
                for (int b = 0; b < 2; b++) {
                    for (int ch = 0; ch < 4; ch++) {
                        double sum = 0;
                        for (int p = 0; p < 12; p++) sum += xv[(b * 12 + p) * 6 + ch + 1];
                        assertEquals(sum / 12, y.getFloat(b, ch), 1e-6);
                    }
                }
                ops.globalAvgPoolBackward(y, dx);
                assertEquals(y.getFloat(1, 2) / 12f, dx.getFloat(1, 2, 3, 2), 1e-7);
            }
        }
    }

    @Test
    void badPoolingArgumentsNameTheProblem() {
        Ops ops = Ops.on("java");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> Pool2dParams.of(2, 2, 2)), "padding");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> Pool2dParams.of(0, 1, 0)), "kh");
        try (Tensor x = Tensor.allocate(DType.F32, 1, 4, 4, 2); Tensor flat = Tensor.allocate(DType.F32, 4, 4);
             Tensor wrong = Tensor.allocate(DType.F32, 1, 3, 3, 2); Tensor ints = Tensor.allocate(DType.S32, 1, 2, 2, 2)) {
            assertMessage(assertThrows(IllegalArgumentException.class, () -> ops.maxPool2d(flat, Pool2dParams.of(2, 2, 0))), "4-D");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> ops.maxPool2d(x, Pool2dParams.of(5, 1, 0))), "window height");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> ops.avgPool2d(x, Pool2dParams.of(2, 2, 0), wrong)), "y is");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> ops.maxPool2d(x, Pool2dParams.of(2, 2, 0), wrong, null)), "y is");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> ops.maxPool2d(ints, Pool2dParams.of(2, 2, 0))), "F32");
            x.close();
            assertThrows(IllegalStateException.class, () -> ops.globalAvgPool(x));
        }
    }

    @Test
    void layoutsPermuteEveryElement() {
        int n = 2, c = 3, h = 4, w = 5;
        float[] v = new float[n * c * h * w];
        for (int i = 0; i < v.length; i++) v[i] = i;
        try (Tensor nchw = Tensor.of(v, n, c, h, w); Tensor nhwc = Layouts.nchwToNhwc(nchw); Tensor back = Layouts.nhwcToNchw(nhwc);
             Tensor krsc = Layouts.filtersFromKcrs(nchw); Tensor kcrs = Layouts.filtersToKcrs(krsc)) {
            assertArrayEquals(new long[] {n, h, w, c}, nhwc.shape());
            assertTrue(nhwc.isContiguous());
            for (int b = 0; b < n; b++) {
                for (int ch = 0; ch < c; ch++) {
                    for (int y = 0; y < h; y++) {
                        for (int x = 0; x < w; x++) assertEquals(v[((b * c + ch) * h + y) * w + x], nhwc.getFloat(b, y, x, ch));
                    }
                }
            }
            assertArrayEquals(v, back.toFloatArray());
            assertArrayEquals(nhwc.toFloatArray(), krsc.toFloatArray());
            assertArrayEquals(v, kcrs.toFloatArray());
            assertMessage(assertThrows(IllegalArgumentException.class, () -> Layouts.nchwToNhwc(Tensor.allocate(DType.F32, 2, 3))), "(n, c, h, w)");
        }
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += (double) a[i] * b[i];
        return s;
    }

    private static void assertMessage(Exception e, String part) {
        assertTrue(e.getMessage().contains(part), "message should name " + part + ": " + e.getMessage());
    }
}
