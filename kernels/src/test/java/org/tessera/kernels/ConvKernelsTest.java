package org.tessera.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.tessera.kernels.conv.GemmConv2d;
import org.tessera.kernels.conv.GemmConv2d.Algorithm;
import org.tessera.kernels.spi.Conv2dShape;
import org.tessera.kernels.spi.ConvKernels;
import org.tessera.kernels.spi.OpFamily;
import org.tessera.testing.ConvReference;
import org.tessera.testing.HostKernels;
import org.tessera.testing.HostKernels.Variant;
import org.tessera.testing.KernelAssertions;
import org.tessera.testing.SeededRandom;
import org.tessera.testing.TestData;

/**
 * Every host conv variant against the direct double-accumulating reference: random geometry (N 1..3,
 * C/K 1..67 with primes, H/W 1..33, kernel 1/3/5/7, stride 1/2, asymmetric padding 0..3, dilation 1/2,
 * groups 1/2/depthwise), each algorithm's own edge cases, offsets, poisoned outputs, bad arguments.
 */
@ExtendWith(SeededRandom.class)
class ConvKernelsTest {
    private static final AtomicInteger RAN = new AtomicInteger();
    private static final double TOLERANCE = 1e-5;
    private static final int[] CHANNELS = {1, 2, 3, 5, 7, 8, 16, 17, 31, 32, 33, 64, 67};
    private static final int[] KERNELS = {1, 3, 5, 7};

    static List<Variant<ConvKernels>> variants() {
        return HostKernels.of(OpFamily.CONV, c -> c.kernelId(Conv2dShape.of(1, 3, 3, 1, 1, 3, 1, 1)));
    }

    @AfterAll
    static void atLeastOneVariantRan() {
        assertTrue(RAN.get() > 0, "no conv variant could run on this machine");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void randomGeometryMatchesTheDirectReference(Variant<ConvKernels> v, SplittableRandom rnd) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        RAN.incrementAndGet();
        Set<Algorithm> seen = EnumSet.noneOf(Algorithm.class);
        for (int i = 0; i < 60; i++) {
            Conv2dShape s = randomShape(rnd);
            seen.add(GemmConv2d.algorithm(s));
            check(v.kernels(), s, rnd.nextBoolean(), rnd.nextBoolean(), rnd);
        }
        // The targeted cases below make sure of each algorithm; this says the random ones reach past them.
        assertTrue(seen.size() >= 2, "random shapes hit only " + seen);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void eachAlgorithmAndItsEdges(Variant<ConvKernels> v, SplittableRandom rnd) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        Object[][] cases = {
                {Conv2dShape.of(2, 9, 11, 67, 31, 1, 1, 0), Algorithm.GEMM_1X1},
                {Conv2dShape.of(1, 1, 1, 1, 1, 1, 1, 0), Algorithm.GEMM_1X1},
                {new Conv2dShape(1, 17, 13, 67, 67, 5, 5, 2, 1, 2, 1, 0, 3, 2, 1, 67), Algorithm.DEPTHWISE},
                {new Conv2dShape(2, 8, 9, 40, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 40), Algorithm.DEPTHWISE}, // 32 + 8 channels
                {new Conv2dShape(1, 5, 5, 3, 3, 7, 7, 1, 1, 3, 3, 3, 3, 1, 1, 3), Algorithm.DEPTHWISE},   // taps past both edges
                {new Conv2dShape(2, 10, 12, 6, 10, 3, 3, 1, 2, 1, 0, 2, 1, 1, 2, 2), Algorithm.IM2COL},    // groups 2, dilated w
                {new Conv2dShape(1, 12, 12, 16, 8, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1), Algorithm.IM2COL},    // strided 1x1
                // more pixels x columns than one im2col chunk holds: several chunks
                {new Conv2dShape(3, 33, 33, 67, 8, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 1), Algorithm.IM2COL},
        };
        for (Object[] c : cases) {
            Conv2dShape s = (Conv2dShape) c[0];
            assertEquals(c[1], GemmConv2d.algorithm(s), s.toString());
            check(v.kernels(), s, true, rnd.nextBoolean(), rnd);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void badArgumentsAreClearExceptions(Variant<ConvKernels> v) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        Conv2dShape s = Conv2dShape.of(1, 5, 5, 3, 4, 3, 1, 1);
        ConvKernels k = v.kernels();
        try (HostStorage x = HostStorage.allocate(4L * 75); HostStorage w = HostStorage.allocate(4L * 108);
             HostStorage y = HostStorage.allocate(4L * 100); HostStorage small = HostStorage.allocate(4L * 99)) {
            assertMessage(assertThrows(IllegalArgumentException.class, () -> k.conv2dF32(s, x, 0, w, 0, null, 0, small, 0, false)), "y");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> k.conv2dF32(s, x, 1, w, 0, null, 0, y, 0, false)), "x");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> k.conv2dF32(s, x, 0, small, 0, null, 0, y, 0, false)), "w");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> k.conv2dF32(s, x, 0, w, 0, small, 97, y, 0, false)), "bias");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> k.conv2dF32(s, y, 0, w, 0, null, 0, y, 0, false)), "overlaps");
            assertThrows(NullPointerException.class, () -> k.conv2dF32(null, x, 0, w, 0, null, 0, y, 0, false));
            x.close();
            assertThrows(IllegalStateException.class, () -> k.conv2dF32(s, x, 0, w, 0, null, 0, y, 0, false));
        }
    }

    private static void assertMessage(Exception e, String part) {
        assertTrue(e.getMessage().contains(part), "message should name " + part + ": " + e.getMessage());
    }

    /** A valid geometry from the ranges, at most ~2M multiply-adds so the reference stays fast. */
    private static Conv2dShape randomShape(SplittableRandom rnd) {
        while (true) {
            int c = CHANNELS[rnd.nextInt(CHANNELS.length)], kind = rnd.nextInt(3);
            int groups = kind == 0 ? 1 : kind == 1 ? 2 : c;
            int k = kind == 2 ? c : CHANNELS[rnd.nextInt(CHANNELS.length)] * (kind == 1 ? 2 : 1);
            if (kind == 1) c = c * 2 > 67 ? c : c * 2;
            if (c % groups != 0 || k % groups != 0) continue;
            int r = KERNELS[rnd.nextInt(KERNELS.length)], s = rnd.nextInt(4) == 0 ? KERNELS[rnd.nextInt(KERNELS.length)] : r;
            try {
                Conv2dShape shape = new Conv2dShape(1 + rnd.nextInt(3), 1 + rnd.nextInt(33), 1 + rnd.nextInt(33), c, k, r, s,
                        1 + rnd.nextInt(2), 1 + rnd.nextInt(2), rnd.nextInt(4), rnd.nextInt(4), rnd.nextInt(4), rnd.nextInt(4),
                        1 + rnd.nextInt(2), 1 + rnd.nextInt(2), groups);
                if (shape.flops() / 2 <= 2_000_000) return shape;
            } catch (IllegalArgumentException invalidGeometry) {
                // kernel larger than the padded input: draw again
            }
        }
    }

    /** Runs the conv at random offsets into a poisoned y and compares with the reference. */
    private static void check(ConvKernels kernels, Conv2dShape s, boolean withBias, boolean relu, SplittableRandom rnd) {
        int xLen = s.n() * s.h() * s.w() * s.c(), wLen = s.k() * s.r() * s.s() * (s.c() / s.groups());
        int yLen = s.n() * s.outH() * s.outW() * s.k();
        int xOff = rnd.nextInt(4), wOff = rnd.nextInt(4), yOff = rnd.nextInt(4), bOff = rnd.nextInt(4);
        float[] x = TestData.floats(rnd, xOff + xLen), w = TestData.floats(rnd, wOff + wLen), b = TestData.floats(rnd, bOff + s.k());
        float[] expected = ConvReference.conv2d(s, java.util.Arrays.copyOfRange(x, xOff, x.length),
                java.util.Arrays.copyOfRange(w, wOff, w.length), withBias ? java.util.Arrays.copyOfRange(b, bOff, b.length) : null, relu);
        try (HostStorage xs = TestData.storage(x); HostStorage ws = TestData.storage(w); HostStorage bs = TestData.storage(b);
             HostStorage ys = TestData.poisoned(yOff + yLen + 3)) {
            kernels.conv2dF32(s, xs, xOff, ws, wOff, withBias ? bs : null, bOff, ys, yOff, relu);
            float[] all = TestData.floats(ys);
            String what = kernels.kernelId(s) + " " + s + (withBias ? " +bias" : "") + (relu ? " relu" : "");
            KernelAssertions.assertClose(what, expected, java.util.Arrays.copyOfRange(all, yOff, yOff + yLen), TOLERANCE);
            for (int i = 0; i < yOff; i++) assertTrue(Float.isNaN(all[i]), what + ": wrote before y at " + i);
            for (int i = yOff + yLen; i < all.length; i++) assertTrue(Float.isNaN(all[i]), what + ": wrote past y at " + i);
        }
    }
}
