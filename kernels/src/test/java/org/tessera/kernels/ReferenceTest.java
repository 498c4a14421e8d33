package org.tessera.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.tessera.kernels.spi.BinaryOp;
import org.tessera.testing.KernelAssertions;
import org.tessera.testing.Reference;

/** Known answers that pin the references every kernel is compared against. */
class ReferenceTest {
    @Test
    void relu() {
        float[] x = {-1f, 0f, 2.5f, Float.NaN, Float.NEGATIVE_INFINITY, -0f};
        float[] y = new float[6];
        Reference.relu(1, 6, x, 0, 6, y, 0, 6);
        assertArrayEquals(new float[] {0f, 0f, 2.5f, Float.NaN, 0f, 0f}, y);
    }

    @Test
    void stridedBinaryTouchesOnlyTheBlock() {
        float[] a = {1, 2, 99, 3, 4}, b = {10, 20, 99, 30, 40}, y = {-1, -1, -1, -1, -1};
        Reference.binary(BinaryOp.ADD, 2, 2, a, 0, 3, b, 0, 3, y, 0, 3);
        assertArrayEquals(new float[] {11, 22, -1, 33, 44}, y);
    }

    @Test
    void reluGradientPassesOnlyWherePositive() {
        float[] a = {1, -1, 0, -0f, Float.NaN, 2, Float.POSITIVE_INFINITY}, b = {5, 6, 7, 8, 9, Float.NaN, -0f}, y = new float[7];
        Reference.binary(BinaryOp.RELU_GRAD, 1, 7, a, 0, 7, b, 0, 7, y, 0, 7);
        assertArrayEquals(new float[] {5, 0, 0, 0, 0, Float.NaN, -0f}, y);
    }

    @Test
    void sgemmKnownProductsAllTransposes() {
        // A = [[1,2,3],[4,5,6]] (2x3), B = [[7,8],[9,10],[11,12]] (3x2), A*B = [[58,64],[139,154]]
        float[] a = {1, 2, 3, 4, 5, 6}, at = {1, 4, 2, 5, 3, 6}, b = {7, 8, 9, 10, 11, 12}, bt = {7, 9, 11, 8, 10, 12};
        float[] expected = {58, 64, 139, 154};
        float[][] as = {a, at}, bs = {b, bt};
        for (int ta = 0; ta < 2; ta++) {
            for (int tb = 0; tb < 2; tb++) {
                float[] c = new float[4];
                Reference.sgemm(ta == 1, tb == 1, 2, 2, 3, 1f, as[ta], 0, ta == 1 ? 2 : 3, bs[tb], 0, tb == 1 ? 3 : 2, 0f, c, 0, 2);
                assertArrayEquals(expected, c, "ta=" + ta + " tb=" + tb);
            }
        }
    }

    @Test
    void sgemmAlphaBetaAndNanSemantics() {
        float[] a = {1, 2}, b = {3, 4}; // (1x2)(2x1) = 11
        float[] c = {Float.NaN};
        Reference.sgemm(false, false, 1, 1, 2, 2f, a, 0, 2, b, 0, 1, 0f, c, 0, 1);
        assertArrayEquals(new float[] {22f}, c, "beta = 0 overwrites NaN");
        c[0] = 10f;
        Reference.sgemm(false, false, 1, 1, 2, 0f, new float[] {Float.NaN, 1}, 0, 2, b, 0, 1, -0.5f, c, 0, 1);
        assertArrayEquals(new float[] {-5f}, c, "alpha = 0 does not read A");
        c[0] = 10f;
        Reference.sgemm(false, false, 1, 1, 0, 1f, a, 0, 2, b, 0, 1, 2f, c, 0, 1);
        assertArrayEquals(new float[] {20f}, c, "k = 0 only scales C");
    }

    @Test
    void relativeErrorDetectsNanAndScale() {
        assertTrue(KernelAssertions.relativeError(new float[] {1, 2}, new float[] {1, Float.NaN}) == Double.POSITIVE_INFINITY);
        assertTrue(Math.abs(KernelAssertions.relativeError(new float[] {3, 4}, new float[] {3, 4.5f}) - 0.1) < 1e-9);
        assertTrue(KernelAssertions.relativeError(new float[] {Float.NaN}, new float[] {Float.NaN}) == 0);
    }
}
