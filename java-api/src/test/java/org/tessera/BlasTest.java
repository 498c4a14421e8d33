package org.tessera;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.tessera.Blas.Layout;
import org.tessera.Blas.Transpose;
import org.tessera.testing.KernelAssertions;
import org.tessera.testing.Reference;
import org.tessera.testing.SeededRandom;
import org.tessera.testing.TestData;

/**
 * {@link Blas#sgemm} against the double reference in both layouts: every transpose, alpha/beta in
 * {0, 1, -0.5}, sizes from 1 to 1000 including primes and skinny shapes, padded leading dimensions and
 * array offsets; BLAS edge semantics; errors that name the argument.
 */
@ExtendWith(SeededRandom.class)
class BlasTest {
    private static final int[] SIZES = {1, 2, 7, 17, 31, 64, 127, 257};
    private static final float[] SCALARS = {0f, 1f, -0.5f};

    @Test
    void bothLayoutsEveryTransposeAndScalar(SplittableRandom rnd) {
        for (Layout layout : Layout.values()) {
            for (Transpose ta : Transpose.values()) {
                for (Transpose tb : Transpose.values()) {
                    for (float alpha : SCALARS) {
                        for (float beta : SCALARS) {
                            check(layout, ta, tb, pick(rnd), pick(rnd), pick(rnd), alpha, beta, rnd);
                        }
                    }
                }
            }
        }
    }

    @Test
    void largeAndSkinnyShapes(SplittableRandom rnd) {
        int[][] shapes = {{1000, 1000, 64}, {1, 1000, 1000}, {1000, 1, 257}, {64, 1000, 7}, {3, 2, 1000}};
        for (int[] s : shapes) {
            Layout layout = rnd.nextBoolean() ? Layout.ROW_MAJOR : Layout.COL_MAJOR;
            check(layout, rnd.nextBoolean() ? Transpose.TRANS : Transpose.NO_TRANS, rnd.nextBoolean() ? Transpose.TRANS : Transpose.NO_TRANS,
                    s[0], s[1], s[2], 1f, 0.5f, rnd);
        }
    }

    @Test
    void segmentsAreZeroCopy(SplittableRandom rnd) {
        int m = 33, n = 17, k = 65;
        float[] a = TestData.floats(rnd, m * k), b = TestData.floats(rnd, k * n), c = TestData.floats(rnd, m * n);
        // column-major, A transposed: A stored (k x m) column-major, lda = k
        try (Arena arena = Arena.ofShared()) {
            MemorySegment as = arena.allocate(4L * a.length), bs = arena.allocate(4L * b.length), cs = arena.allocate(4L * c.length);
            MemorySegment.copy(a, 0, as, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, a.length);
            MemorySegment.copy(b, 0, bs, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, b.length);
            MemorySegment.copy(c, 0, cs, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, c.length);
            Blas.sgemm(Layout.COL_MAJOR, Transpose.TRANS, Transpose.NO_TRANS, m, n, k, 2f, as, k, bs, k, 1f, cs, m);
            float[] got = new float[c.length];
            MemorySegment.copy(cs, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, got, 0, got.length);
            float[] ref = c.clone();
            colMajorReference(true, false, m, n, k, 2f, a, 0, k, b, 0, k, 1f, ref, 0, m);
            KernelAssertions.assertClose("segment col-major", ref, got, 1e-5);
            MemorySegment small = arena.allocate(4L * 10);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Blas.sgemm(Layout.ROW_MAJOR, Transpose.NO_TRANS, Transpose.NO_TRANS, m, n, k, 1f, small, k, bs, n, 0f, cs, n));
            assertTrue(e.getMessage().startsWith("a needs"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Blas.sgemm(Layout.ROW_MAJOR, Transpose.NO_TRANS, Transpose.NO_TRANS, 1, 1, 1,
                    1f, MemorySegment.ofArray(new float[1]), 1, bs, 1, 0f, cs, 1));
        }
    }

    @Test
    void blasEdgeSemantics() {
        float[] a = {1, 2, 3, 4}, b = {5, 6, 7, 8};
        float[] c = {Float.NaN, Float.NaN, Float.NaN, Float.NaN};
        Blas.sgemm(Layout.ROW_MAJOR, Transpose.NO_TRANS, Transpose.NO_TRANS, 2, 2, 2, 1f, a, 0, 2, b, 0, 2, 0f, c, 0, 2);
        assertArrayEquals(new float[] {19, 22, 43, 50}, c, "beta = 0 ignores NaN in C");
        float[] nanA = {Float.NaN, 1, 1, 1};
        c = new float[] {1, 2, 3, 4};
        Blas.sgemm(Layout.ROW_MAJOR, Transpose.NO_TRANS, Transpose.NO_TRANS, 2, 2, 2, 0f, nanA, 0, 2, b, 0, 2, 2f, c, 0, 2);
        assertArrayEquals(new float[] {2, 4, 6, 8}, c, "alpha = 0 scales C and never reads A");
        Blas.sgemm(Layout.COL_MAJOR, Transpose.NO_TRANS, Transpose.NO_TRANS, 2, 2, 0, 1f, a, 0, 2, b, 0, 1, -0.5f, c, 0, 2);
        assertArrayEquals(new float[] {-1, -2, -3, -4}, c, "k = 0 scales C");
        float[] before = c.clone();
        Blas.sgemm(Layout.ROW_MAJOR, Transpose.NO_TRANS, Transpose.NO_TRANS, 0, 2, 2, 1f, a, 0, 2, b, 0, 2, 0f, c, 0, 2);
        Blas.sgemm(Layout.ROW_MAJOR, Transpose.NO_TRANS, Transpose.NO_TRANS, 2, 0, 2, 1f, a, 0, 2, b, 0, 1, 0f, c, 0, 1);
        assertArrayEquals(before, c, "m = 0 or n = 0 does nothing");
        c = new float[4];
        Blas.sgemm(Layout.ROW_MAJOR, Transpose.NO_TRANS, Transpose.NO_TRANS, 2, 2, 2, 1f, nanA, 0, 2, b, 0, 2, 0f, c, 0, 2);
        assertTrue(Float.isNaN(c[0]) && Float.isNaN(c[1]) && !Float.isNaN(c[2]), Arrays.toString(c) + ": NaN in A propagates to its row");
    }

    @Test
    void invalidArgumentsNameTheArgument() {
        float[] x = new float[100];
        assertMessage("lda", () -> Blas.sgemm(Layout.ROW_MAJOR, Transpose.NO_TRANS, Transpose.NO_TRANS, 3, 4, 5, 1, x, 0, 4, x, 0, 4, 0, x, 0, 4));
        assertMessage("lda", () -> Blas.sgemm(Layout.COL_MAJOR, Transpose.NO_TRANS, Transpose.NO_TRANS, 3, 4, 5, 1, x, 0, 2, x, 0, 5, 0, x, 0, 3));
        assertMessage("ldb", () -> Blas.sgemm(Layout.COL_MAJOR, Transpose.NO_TRANS, Transpose.TRANS, 3, 4, 5, 1, x, 0, 3, x, 0, 3, 0, x, 0, 3));
        assertMessage("ldc", () -> Blas.sgemm(Layout.COL_MAJOR, Transpose.NO_TRANS, Transpose.NO_TRANS, 3, 4, 5, 1, x, 0, 3, x, 0, 5, 0, x, 0, 2));
        assertMessage("ldc", () -> Blas.sgemm(Layout.ROW_MAJOR, Transpose.NO_TRANS, Transpose.NO_TRANS, 3, 4, 5, 1, x, 0, 5, x, 0, 4, 0, x, 0, 3));
        assertMessage("k must", () -> Blas.sgemm(Layout.ROW_MAJOR, Transpose.NO_TRANS, Transpose.NO_TRANS, 3, 4, -1, 1, x, 0, 5, x, 0, 4, 0, x, 0, 4));
        assertMessage("c needs", () -> Blas.sgemm(Layout.ROW_MAJOR, Transpose.NO_TRANS, Transpose.NO_TRANS, 3, 4, 5, 1, x, 0, 5, x, 0, 4, 0, x, 95, 4));
        assertMessage("a offset", () -> Blas.sgemm(Layout.ROW_MAJOR, Transpose.NO_TRANS, Transpose.NO_TRANS, 3, 4, 5, 1, x, -1, 5, x, 0, 4, 0, x, 0, 4));
    }

    private static void assertMessage(String needle, Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(needle), "should name " + needle + ": " + e.getMessage());
    }

    private static int pick(SplittableRandom rnd) {
        return SIZES[rnd.nextInt(SIZES.length)];
    }

    private static void check(Layout layout, Transpose ta, Transpose tb, int m, int n, int k, float alpha, float beta, SplittableRandom rnd) {
        boolean tA = ta == Transpose.TRANS, tB = tb == Transpose.TRANS, row = layout == Layout.ROW_MAJOR;
        // stored (rows, cols) in the layout's own terms: row-major rows, or column-major columns, come first
        int aOuter = row ? (tA ? k : m) : (tA ? m : k), aInner = row ? (tA ? m : k) : (tA ? k : m);
        int bOuter = row ? (tB ? n : k) : (tB ? k : n), bInner = row ? (tB ? k : n) : (tB ? n : k);
        int cOuter = row ? m : n, cInner = row ? n : m;
        int lda = aInner + rnd.nextInt(3), ldb = bInner + rnd.nextInt(3), ldc = cInner + rnd.nextInt(3);
        int aOff = rnd.nextInt(5), bOff = rnd.nextInt(5), cOff = rnd.nextInt(5);
        float[] a = TestData.floats(rnd, aOff + aOuter * lda + 2), b = TestData.floats(rnd, bOff + bOuter * ldb + 2);
        float[] c = TestData.floats(rnd, cOff + cOuter * ldc + 2), expected = c.clone();
        if (row) Reference.sgemm(tA, tB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, expected, cOff, ldc);
        else colMajorReference(tA, tB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, expected, cOff, ldc);
        Blas.sgemm(layout, ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        KernelAssertions.assertClose(layout + " " + ta + " " + tb + " " + m + "x" + n + "x" + k + " alpha=" + alpha + " beta=" + beta,
                expected, c, 1e-5);
    }

    /** Column-major reference written out directly (not via the row-major identity the code under test uses). */
    private static void colMajorReference(boolean tA, boolean tB, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
                                          float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double acc = 0;
                for (int p = 0; p < k && alpha != 0; p++) {
                    double av = tA ? a[aOff + i * lda + p] : a[aOff + p * lda + i];
                    double bv = tB ? b[bOff + p * ldb + j] : b[bOff + j * ldb + p];
                    acc += av * bv;
                }
                int ci = cOff + j * ldc + i;
                double prior = beta == 0 ? 0 : (double) beta * c[ci];
                c[ci] = (float) (alpha == 0 ? prior : alpha * acc + prior);
            }
        }
    }
}
