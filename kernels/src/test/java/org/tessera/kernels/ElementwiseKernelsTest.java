package org.tessera.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.tessera.kernels.spi.BinaryOp;
import org.tessera.kernels.spi.ElementwiseKernels;
import org.tessera.kernels.spi.OpFamily;
import org.tessera.kernels.spi.UnaryOp;
import org.tessera.testing.HostKernels;
import org.tessera.testing.HostKernels.Variant;
import org.tessera.testing.KernelAssertions;
import org.tessera.testing.Reference;
import org.tessera.testing.SeededRandom;
import org.tessera.testing.TestData;

/**
 * Every host elementwise kernel variant against the double reference, bit-exact (one rounding per element
 * on both sides), over edge sizes, padded rows (ld > cols), offsets, in place, NaN/Inf/-0, and blocks
 * large enough to be split over the worker pool. Outputs start poisoned with NaN, and the gaps between
 * rows must stay poisoned: a kernel that skips or overruns an element fails.
 */
@ExtendWith(SeededRandom.class)
class ElementwiseKernelsTest {
    private static final AtomicInteger RAN = new AtomicInteger();

    /** (rows, cols): edge sizes in one row, small blocks, and blocks above the parallel threshold. */
    private static final int[][] SHAPES = {{1, 1}, {1, 7}, {1, 8}, {1, 31}, {1, 33}, {2, 3}, {3, 17}, {5, 64}, {7, 65},
            {13, 127}, {64, 1000}, {1, 70_001}, {300, 257}, {0, 5}, {5, 0}};

    static List<Variant<ElementwiseKernels>> variants() {
        return HostKernels.of(OpFamily.ELEMENTWISE, k -> k.kernelId(UnaryOp.RELU));
    }

    @AfterAll
    static void atLeastOneVariantRan() {
        assertTrue(RAN.get() > 0, "no elementwise kernel variant could run on this machine");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void unaryMatchesReference(Variant<ElementwiseKernels> v, SplittableRandom rnd) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        RAN.incrementAndGet();
        for (int[] shape : SHAPES) {
            for (UnaryOp op : UnaryOp.values()) {
                int rows = shape[0], cols = shape[1];
                int ldx = cols + rnd.nextInt(3), ldy = cols + rnd.nextInt(3), xOff = rnd.nextInt(5), yOff = rnd.nextInt(5);
                float alpha = (float) (rnd.nextDouble() * 4 - 2);
                float[] x = withSpecials(TestData.floats(rnd, xOff + rows * ldx + 1), rnd);
                float[] expected = nanArray(yOff + rows * ldy + 1);
                if (op == UnaryOp.RELU) Reference.relu(rows, cols, x, xOff, ldx, expected, yOff, ldy);
                else Reference.scale(rows, cols, alpha, x, xOff, ldx, expected, yOff, ldy);
                try (HostStorage xs = TestData.storage(x); HostStorage ys = TestData.poisoned(expected.length)) {
                    v.kernels().unary(op, alpha, rows, cols, xs, xOff, ldx, ys, yOff, ldy);
                    KernelAssertions.assertExact(v.kernels().kernelId(op) + " " + rows + "x" + cols + " ldx=" + ldx + " ldy=" + ldy,
                            expected, TestData.floats(ys));
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void binaryMatchesReference(Variant<ElementwiseKernels> v, SplittableRandom rnd) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        RAN.incrementAndGet();
        for (int[] shape : SHAPES) {
            for (BinaryOp op : BinaryOp.values()) {
                int rows = shape[0], cols = shape[1];
                int lda = cols + rnd.nextInt(3), ldb = cols + rnd.nextInt(3), ldy = cols + rnd.nextInt(3);
                float[] a = withSpecials(TestData.floats(rnd, rows * lda + 3), rnd);
                float[] b = withSpecials(TestData.floats(rnd, rows * ldb + 3), rnd);
                float[] expected = nanArray(rows * ldy + 2);
                Reference.binary(op, rows, cols, a, 1, lda, b, 2, ldb, expected, 1, ldy);
                try (HostStorage as = TestData.storage(a); HostStorage bs = TestData.storage(b);
                     HostStorage ys = TestData.poisoned(expected.length)) {
                    v.kernels().binary(op, rows, cols, as, 1, lda, bs, 2, ldb, ys, 1, ldy);
                    KernelAssertions.assertExact(v.kernels().kernelId(op) + " " + rows + "x" + cols, expected, TestData.floats(ys));
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void inPlace(Variant<ElementwiseKernels> v, SplittableRandom rnd) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        int rows = 9, cols = 1003;
        float[] x = TestData.floats(rnd, rows * cols);
        float[] expected = new float[x.length];
        Reference.scale(rows, cols, -3f, x, 0, cols, expected, 0, cols);
        float[] twice = new float[x.length];
        Reference.binary(BinaryOp.ADD, rows, cols, expected, 0, cols, expected, 0, cols, twice, 0, cols);
        try (HostStorage s = TestData.storage(x)) {
            v.kernels().unary(UnaryOp.SCALE, -3f, rows, cols, s, 0, cols, s, 0, cols);
            KernelAssertions.assertExact("in-place scale", expected, TestData.floats(s));
            v.kernels().binary(BinaryOp.ADD, rows, cols, s, 0, cols, s, 0, cols, s, 0, cols);
            KernelAssertions.assertExact("in-place add", twice, TestData.floats(s));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void badArgumentsThrowBeforeTouchingMemory(Variant<ElementwiseKernels> v) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        ElementwiseKernels k = v.kernels();
        try (HostStorage x = TestData.poisoned(100); HostStorage y = TestData.poisoned(100)) {
            assertThrows(IllegalArgumentException.class, () -> k.unary(UnaryOp.RELU, 0, -1, 5, x, 0, 5, y, 0, 5));
            assertThrows(IllegalArgumentException.class, () -> k.unary(UnaryOp.RELU, 0, 2, 5, x, 0, 4, y, 0, 5), "ld < cols");
            assertThrows(IllegalArgumentException.class, () -> k.unary(UnaryOp.RELU, 0, 10, 11, x, 0, 11, y, 0, 11), "past the end");
            assertThrows(IllegalArgumentException.class, () -> k.unary(UnaryOp.RELU, 0, 1, 10, x, 91, 10, y, 0, 10), "offset past end");
            assertThrows(IllegalArgumentException.class, () -> k.unary(UnaryOp.RELU, 0, 1, 10, x, -1, 10, y, 0, 10), "negative offset");
            assertThrows(IllegalArgumentException.class,
                    () -> k.unary(UnaryOp.RELU, 0, Long.MAX_VALUE / 2, 4, x, 0, 4, y, 0, 4), "overflowing extent");
            assertThrows(IllegalArgumentException.class, () -> k.binary(BinaryOp.ADD, 1, 101, x, 0, 101, y, 0, 101, y, 0, 101));
            HostStorage closed = TestData.poisoned(100);
            closed.close();
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> k.unary(UnaryOp.RELU, 0, 1, 10, closed, 0, 10, y, 0, 10));
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
            assertEquals(100, TestData.floats(y).length);
        }
    }

    /** Sprinkles NaN, +-Inf and -0 over a tenth of the elements. */
    private static float[] withSpecials(float[] a, SplittableRandom rnd) {
        float[] specials = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0f, 0f};
        for (int i = 0; i < a.length / 10; i++) a[rnd.nextInt(a.length)] = specials[rnd.nextInt(specials.length)];
        return a;
    }

    private static float[] nanArray(int n) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, Float.NaN);
        return a;
    }
}
