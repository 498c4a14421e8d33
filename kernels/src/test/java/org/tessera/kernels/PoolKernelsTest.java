package org.tessera.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.tessera.kernels.spi.OpFamily;
import org.tessera.kernels.spi.Pool2dShape;
import org.tessera.kernels.spi.PoolKernels;
import org.tessera.testing.HostKernels;
import org.tessera.testing.HostKernels.Variant;
import org.tessera.testing.KernelAssertions;
import org.tessera.testing.SeededRandom;
import org.tessera.testing.TestData;

/**
 * Max/avg/global pooling, forward and backward, against direct double references on random geometry
 * (windows 1..4, strides 1..3, padding up to half the window, odd sizes), argmax indices exact, NaN
 * propagation, and bad arguments.
 */
@ExtendWith(SeededRandom.class)
class PoolKernelsTest {
    static List<Variant<PoolKernels>> variants() {
        return HostKernels.of(OpFamily.POOL, PoolKernels::kernelId);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void maxAndAveragePoolingMatchTheReference(Variant<PoolKernels> v, SplittableRandom rnd) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        for (int i = 0; i < 40; i++) {
            Pool2dShape s = randomShape(rnd);
            int xLen = s.n() * s.h() * s.w() * s.c(), yLen = s.n() * s.outH() * s.outW() * s.c();
            float[] x = TestData.floats(rnd, xLen), dy = TestData.floats(rnd, yLen);
            boolean countPadding = rnd.nextBoolean();
            try (HostStorage xs = TestData.storage(x); HostStorage y = TestData.poisoned(yLen); HostStorage arg = HostStorage.allocate(4L * yLen);
                 HostStorage dys = TestData.storage(dy); HostStorage dx = TestData.poisoned(xLen)) {
                v.kernels().maxPool2dF32(s, xs, 0, y, 0, arg, 0);
                int[] argmax = new int[yLen];
                float[] expectedMax = new float[yLen];
                reference(s, x, expectedMax, argmax, null, false);
                KernelAssertions.assertExact(s + " max", expectedMax, TestData.floats(y));
                assertArrayEquals(argmax, arg.segment().toArray(ValueLayout.JAVA_INT), s + " argmax");
                v.kernels().maxPool2dBackwardF32(s, dys, 0, arg, 0, dx, 0);
                float[] dxMax = new float[xLen];
                for (int o = 0; o < yLen; o++) dxMax[(o / (s.outH() * s.outW() * s.c())) * s.h() * s.w() * s.c() + argmax[o] * s.c() + o % s.c()] += dy[o];
                KernelAssertions.assertExact(s + " max backward", dxMax, TestData.floats(dx));

                v.kernels().avgPool2dF32(s, countPadding, xs, 0, y, 0);
                float[] expectedAvg = new float[yLen];
                reference(s, x, expectedAvg, null, null, countPadding);
                KernelAssertions.assertClose(s + " avg", expectedAvg, TestData.floats(y), 1e-6);
                v.kernels().avgPool2dBackwardF32(s, countPadding, dys, 0, dx, 0);
                float[] dxAvg = new float[xLen];
                reference(s, null, null, null, new float[][] {dy, dxAvg}, countPadding);
                KernelAssertions.assertClose(s + " avg backward", dxAvg, TestData.floats(dx), 1e-6);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void globalAveragePooling(Variant<PoolKernels> v, SplittableRandom rnd) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        int n = 3, h = 7, w = 5, c = 13;
        float[] x = TestData.floats(rnd, n * h * w * c), dy = TestData.floats(rnd, n * c);
        float[] mean = new float[n * c], dx = new float[x.length];
        for (int i = 0; i < x.length; i++) mean[(i / (h * w * c)) * c + i % c] += (float) (x[i] / (double) (h * w));
        for (int i = 0; i < x.length; i++) dx[i] = dy[(i / (h * w * c)) * c + i % c] / (h * w);
        try (HostStorage xs = TestData.storage(x); HostStorage y = TestData.poisoned(n * c); HostStorage dys = TestData.storage(dy);
             HostStorage dxs = TestData.poisoned(x.length)) {
            v.kernels().globalAvgPoolF32(n, h, w, c, xs, 0, y, 0);
            KernelAssertions.assertClose("global avg", mean, TestData.floats(y), 1e-5);
            v.kernels().globalAvgPoolBackwardF32(n, h, w, c, dys, 0, dxs, 0);
            KernelAssertions.assertClose("global avg backward", dx, TestData.floats(dxs), 1e-6);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void nanPropagatesThroughMax(Variant<PoolKernels> v) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        Pool2dShape s = Pool2dShape.of(1, 2, 2, 1, 2, 2, 0);
        try (HostStorage x = TestData.storage(new float[] {1, Float.NaN, 3, 2}); HostStorage y = TestData.poisoned(1);
             HostStorage arg = HostStorage.allocate(4)) {
            v.kernels().maxPool2dF32(s, x, 0, y, 0, arg, 0);
            assertTrue(Float.isNaN(TestData.floats(y)[0]));
            assertEquals(1, arg.segment().getAtIndex(ValueLayout.JAVA_INT, 0));
        }
    }

    /**
     * Shapes large enough to split over the worker pool, channels spanning whole vectors plus a tail, values
     * from a small set (ties, -0.0 next to 0.0) with NaNs sprinkled in, at offsets, with and without argmax:
     * bit for bit the reference, the first of equal maxima and the first NaN winning.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void vectorizedMaxPoolingIsBitExactWithTiesNansAndThreads(Variant<PoolKernels> v, SplittableRandom rnd) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        float[] values = {-1f, -0f, 0f, 0.5f, 2f, Float.NEGATIVE_INFINITY, Float.NaN};
        for (Pool2dShape s : List.of(new Pool2dShape(3, 29, 31, 37, 3, 3, 2, 2, 1, 1, 1, 1), Pool2dShape.of(2, 28, 28, 32, 2, 2, 0),
                new Pool2dShape(1, 9, 40, 16, 2, 3, 1, 3, 0, 1, 1, 0))) {
            int xLen = s.n() * s.h() * s.w() * s.c(), yLen = s.n() * s.outH() * s.outW() * s.c(), xOff = 5, yOff = 3;
            float[] x = new float[xLen];
            for (int i = 0; i < xLen; i++) x[i] = rnd.nextInt(50) == 0 ? Float.NaN : values[rnd.nextInt(values.length - 1)];
            float[] padded = new float[xOff + xLen];
            System.arraycopy(x, 0, padded, xOff, xLen);
            float[] expected = new float[yLen];
            int[] argmax = new int[yLen];
            reference(s, x, expected, argmax, null, false);
            for (boolean withArgmax : new boolean[] {true, false}) {
                try (HostStorage xs = TestData.storage(padded); HostStorage y = HostStorage.allocate(4L * (yOff + yLen));
                     HostStorage arg = HostStorage.allocate(4L * (yOff + yLen))) {
                    y.segment().fill((byte) 0x7f); // poison: 3.4e38, never a result here
                    v.kernels().maxPool2dF32(s, xs, xOff, y, yOff, withArgmax ? arg : null, withArgmax ? yOff : 0);
                    float[] got = TestData.floats(y);
                    for (int o = 0; o < yLen; o++) {
                        if (Float.floatToIntBits(got[yOff + o]) != Float.floatToIntBits(expected[o])) {
                            throw new AssertionError(s + " argmax " + withArgmax + ": y[" + o + "] = " + got[yOff + o] + ", expected " + expected[o]);
                        }
                    }
                    if (withArgmax) {
                        int[] gotArg = arg.segment().asSlice(4L * yOff).toArray(ValueLayout.JAVA_INT);
                        assertArrayEquals(argmax, gotArg, s + " argmax");
                    }
                }
            }
        }
    }

    /**
     * Max-pooling backward, bit for bit the scalar scatter (dx = 0, then dx[argmax] += dy): windows that tile the
     * input, leave gaps or overlap, vector and tail channels, offsets, -0/NaN/infinite gradients, shapes big
     * enough to split over threads, and an argmax pointing into another window (valid in the plane, so it is
     * scattered, not rejected).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void maxPoolingBackwardIsBitExact(Variant<PoolKernels> v, SplittableRandom rnd) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        float[] specials = {-0f, 0f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
        List<Pool2dShape> shapes = List.of(Pool2dShape.of(2, 28, 28, 32, 2, 2, 0), Pool2dShape.of(1, 29, 31, 37, 2, 2, 0),
                new Pool2dShape(2, 13, 14, 16, 2, 2, 3, 3, 1, 0, 0, 1), new Pool2dShape(1, 9, 11, 19, 3, 3, 2, 2, 1, 1, 1, 1),
                Pool2dShape.of(4, 32, 32, 64, 2, 2, 0), Pool2dShape.of(1, 4, 4, 16, 2, 2, 0));
        for (Pool2dShape s : shapes) {
            int xLen = s.n() * s.h() * s.w() * s.c(), yLen = s.n() * s.outH() * s.outW() * s.c(), dyOff = 3, aOff = 1, dxOff = 2;
            float[] x = TestData.floats(rnd, xLen), dy = TestData.floats(rnd, dyOff + yLen);
            for (int i = 0; i < yLen / 8; i++) dy[dyOff + rnd.nextInt(yLen)] = specials[rnd.nextInt(specials.length)];
            int[] argmax = new int[yLen];
            reference(s, x, new float[yLen], argmax, null, false);
            if (s.h() == 4) argmax[0] = 2 * s.w() + 2; // output (0, 0)'s gradient sent into window (1, 1)
            float[] expected = new float[dxOff + xLen];
            java.util.Arrays.fill(expected, 0, dxOff, Float.NaN);
            int plane = s.outH() * s.outW() * s.c();
            for (int o = 0; o < yLen; o++) expected[dxOff + (o / plane) * s.h() * s.w() * s.c() + argmax[o] * s.c() + o % s.c()] += dy[dyOff + o];
            try (HostStorage dys = TestData.storage(dy); HostStorage arg = HostStorage.allocate(4L * (aOff + yLen));
                 HostStorage dx = TestData.poisoned(dxOff + xLen)) {
                dx.segment().asSlice(0, 4L * dxOff).fill((byte) 0xff); // NaN before the output: must stay
                MemorySegment.copy(argmax, 0, arg.segment(), ValueLayout.JAVA_INT, 4L * aOff, yLen);
                v.kernels().maxPool2dBackwardF32(s, dys, dyOff, arg, aOff, dx, dxOff);
                float[] got = TestData.floats(dx);
                for (int i = 0; i < expected.length; i++) {
                    if (Float.floatToIntBits(got[i]) != Float.floatToIntBits(expected[i]) && !(i < dxOff && Float.isNaN(got[i]))) {
                        throw new AssertionError(s + ": dx[" + (i - dxOff) + "] = " + got[i] + ", expected " + expected[i]);
                    }
                }
            }
        }
    }

    /** u8 max pooling equals the reference on codes (0 and 255 included) for random and vector-sized shapes. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void u8MaxPoolingMatchesTheReference(Variant<PoolKernels> v, SplittableRandom rnd) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        // 24, 120 and 127 channels: every vector width in turn (64, 32, 16, 8 bytes), then the scalar tail
        List<Pool2dShape> shapes = new java.util.ArrayList<>(List.of(Pool2dShape.of(4, 28, 28, 32, 2, 2, 0), new Pool2dShape(2, 15, 13, 70, 3, 3, 2, 2, 1, 1,
                1, 1), Pool2dShape.of(2, 14, 14, 24, 2, 2, 0), Pool2dShape.of(1, 9, 9, 120, 3, 2, 1), Pool2dShape.of(1, 7, 8, 127, 2, 2, 0),
                // 2x2 windows over whole vectors at every width (the pairs path), odd sizes, a padded last row and column
                Pool2dShape.of(3, 14, 14, 64, 2, 2, 0), Pool2dShape.of(1, 9, 7, 128, 2, 2, 0),
                new Pool2dShape(2, 7, 9, 64, 2, 2, 2, 2, 0, 1, 0, 1)));
        for (int i = 0; i < 30; i++) shapes.add(randomShape(rnd));
        for (Pool2dShape s : shapes) {
            int xLen = s.n() * s.h() * s.w() * s.c(), yLen = s.n() * s.outH() * s.outW() * s.c(), xOff = 7, yOff = 2;
            byte[] x = new byte[xOff + xLen];
            for (int i = xOff; i < x.length; i++) x[i] = (byte) (rnd.nextInt(4) == 0 ? (rnd.nextBoolean() ? 0 : 255) : rnd.nextInt(256));
            float[] codes = new float[xLen];
            for (int i = 0; i < xLen; i++) codes[i] = x[xOff + i] & 0xFF;
            float[] expected = new float[yLen];
            reference(s, codes, expected, new int[yLen], null, false);
            try (HostStorage xs = HostStorage.allocate(x.length); HostStorage y = HostStorage.allocate(yOff + yLen + 1)) {
                xs.segment().copyFrom(java.lang.foreign.MemorySegment.ofArray(x));
                y.segment().fill((byte) 0xA5);
                v.kernels().maxPool2dU8(s, xs, xOff, y, yOff);
                byte[] got = y.segment().toArray(ValueLayout.JAVA_BYTE);
                for (int o = 0; o < yLen; o++) {
                    assertEquals((int) expected[o], got[yOff + o] & 0xFF, s + " y[" + o + "]");
                }
                assertEquals((byte) 0xA5, got[yOff + yLen], s + ": wrote past y");
                assertEquals((byte) 0xA5, got[yOff - 1], s + ": wrote before y");
            }
        }
        Pool2dShape s = Pool2dShape.of(1, 4, 4, 2, 2, 2, 0);
        try (HostStorage x = HostStorage.allocate(32); HostStorage y = HostStorage.allocate(8)) {
            assertTrue(assertThrows(IllegalArgumentException.class, () -> v.kernels().maxPool2dU8(s, x, 0, y, 1)).getMessage().contains("y"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> v.kernels().maxPool2dU8(s, x, 0, x, 0)).getMessage().contains("overlaps"));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void badArgumentsAreClearExceptions(Variant<PoolKernels> v) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        assertThrows(IllegalArgumentException.class, () -> Pool2dShape.of(1, 4, 4, 1, 2, 1, 2)); // pad > half the window
        assertThrows(IllegalArgumentException.class, () -> Pool2dShape.of(1, 2, 2, 1, 5, 1, 0)); // window > input
        Pool2dShape s = Pool2dShape.of(1, 4, 4, 2, 2, 2, 0); // y: 2x2x2 = 8
        try (HostStorage x = HostStorage.allocate(4L * 32); HostStorage y = HostStorage.allocate(4L * 8); HostStorage arg = HostStorage.allocate(4L * 8)) {
            assertTrue(assertThrows(IllegalArgumentException.class, () -> v.kernels().maxPool2dF32(s, x, 0, y, 1, null, 0)).getMessage().contains("y"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> v.kernels().avgPool2dF32(s, true, x, 0, x, 0)).getMessage().contains("overlaps"));
            arg.segment().setAtIndex(ValueLayout.JAVA_INT, 3, 99);
            assertTrue(assertThrows(IllegalArgumentException.class, () -> v.kernels().maxPool2dBackwardF32(s, y, 0, arg, 0, x, 0))
                    .getMessage().contains("argmax"));
            x.close();
            assertThrows(IllegalStateException.class, () -> v.kernels().maxPool2dF32(s, x, 0, y, 0, null, 0));
        }
    }

    private static Pool2dShape randomShape(SplittableRandom rnd) {
        while (true) {
            int kh = 1 + rnd.nextInt(4), kw = 1 + rnd.nextInt(4);
            try {
                return new Pool2dShape(1 + rnd.nextInt(2), 1 + rnd.nextInt(13), 1 + rnd.nextInt(13), 1 + rnd.nextInt(19), kh, kw,
                        1 + rnd.nextInt(3), 1 + rnd.nextInt(3), rnd.nextInt(kh / 2 + 1), rnd.nextInt(kh / 2 + 1), rnd.nextInt(kw / 2 + 1),
                        rnd.nextInt(kw / 2 + 1));
            } catch (IllegalArgumentException tooSmall) {
                // window larger than the padded input: draw again
            }
        }
    }

    /**
     * Direct loops: max (with argmax) into y when argmax is given, else average into y; with grads = {dy, dx},
     * the average's backward into dx instead.
     */
    private static void reference(Pool2dShape s, float[] x, float[] y, int[] argmax, float[][] grads, boolean countPadding) {
        int c = s.c();
        for (int n = 0; n < s.n(); n++) {
            for (int oh = 0; oh < s.outH(); oh++) {
                for (int ow = 0; ow < s.outW(); ow++) {
                    for (int ch = 0; ch < c; ch++) {
                        int o = ((n * s.outH() + oh) * s.outW() + ow) * c + ch, count = 0, best = -1;
                        double sum = 0;
                        float max = 0;
                        for (int i = 0; i < s.kh(); i++) {
                            for (int j = 0; j < s.kw(); j++) {
                                int ih = oh * s.strideH() - s.padTop() + i, iw = ow * s.strideW() - s.padLeft() + j;
                                if (ih < 0 || ih >= s.h() || iw < 0 || iw >= s.w()) continue;
                                count++;
                                if (x == null) continue;
                                float v = x[((n * s.h() + ih) * s.w() + iw) * c + ch];
                                sum += v;
                                if (best < 0 || v > max || (Float.isNaN(v) && !Float.isNaN(max))) {
                                    max = v;
                                    best = ih * s.w() + iw;
                                }
                            }
                        }
                        double div = countPadding ? s.kh() * s.kw() : count;
                        if (grads != null) {
                            for (int i = 0; i < s.kh(); i++) {
                                for (int j = 0; j < s.kw(); j++) {
                                    int ih = oh * s.strideH() - s.padTop() + i, iw = ow * s.strideW() - s.padLeft() + j;
                                    if (ih < 0 || ih >= s.h() || iw < 0 || iw >= s.w()) continue;
                                    grads[1][((n * s.h() + ih) * s.w() + iw) * c + ch] += (float) (grads[0][o] / div);
                                }
                            }
                        } else if (argmax != null) {
                            y[o] = max;
                            argmax[o] = best;
                        } else {
                            y[o] = (float) (sum / div);
                        }
                    }
                }
            }
        }
    }
}
