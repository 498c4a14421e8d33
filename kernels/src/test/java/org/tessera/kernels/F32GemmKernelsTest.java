package org.tessera.kernels;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.tessera.kernels.spi.F32GemmKernels;
import org.tessera.kernels.spi.OpFamily;
import org.tessera.testing.HostKernels;
import org.tessera.testing.HostKernels.Variant;
import org.tessera.testing.KernelAssertions;
import org.tessera.testing.Reference;
import org.tessera.testing.SeededRandom;
import org.tessera.testing.TestData;

/**
 * Every host f32 GEMM variant against the double-accumulating reference with cblas_sgemm semantics:
 * all transposes, alpha/beta in {0, 1, -0.5}, odd and prime sizes, padded leading dimensions, offsets,
 * NaN handling, bad arguments, and concurrent callers.
 */
@ExtendWith(SeededRandom.class)
class F32GemmKernelsTest {
    private static final AtomicInteger RAN = new AtomicInteger();
    private static final double TOLERANCE = 1e-5;
    private static final int[] SIZES = {1, 2, 7, 17, 31, 64};
    private static final float[] SCALARS = {0f, 1f, -0.5f};

    static List<Variant<F32GemmKernels>> variants() {
        return HostKernels.of(OpFamily.F32_GEMM, F32GemmKernels::kernelId);
    }

    @AfterAll
    static void atLeastOneVariantRan() {
        assertTrue(RAN.get() > 0, "no f32 GEMM variant could run on this machine");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void allTransposesAndScalars(Variant<F32GemmKernels> v, SplittableRandom rnd) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        RAN.incrementAndGet();
        for (int t = 0; t < 4; t++) {
            for (float alpha : SCALARS) {
                for (float beta : SCALARS) {
                    int m = pick(rnd), n = pick(rnd), k = pick(rnd);
                    check(v.kernels(), t >= 2, t % 2 == 1, m, n, k, alpha, beta, rnd);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void largerAndSkinnyShapes(Variant<F32GemmKernels> v, SplittableRandom rnd) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        int[][] shapes = {{127, 129, 257}, {1, 1000, 127}, {257, 1, 31}, {1000, 7, 3}, {5, 5, 1}, {3, 4, 0}};
        for (int[] s : shapes) {
            boolean ta = rnd.nextBoolean(), tb = rnd.nextBoolean();
            check(v.kernels(), ta, tb, s[0], s[1], s[2], 1f, rnd.nextBoolean() ? 0f : 1f, rnd);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void nanFollowsBlas(Variant<F32GemmKernels> v, SplittableRandom rnd) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        int m = 5, n = 6, k = 7;
        float[] a = TestData.floats(rnd, m * k), b = TestData.floats(rnd, k * n);
        float[] c = new float[m * n];
        java.util.Arrays.fill(c, Float.NaN);
        try (HostStorage as = TestData.storage(a); HostStorage bs = TestData.storage(b); HostStorage cs = TestData.storage(c)) {
            // beta == 0: C's NaN must not leak into the result.
            v.kernels().sgemm(false, false, m, n, k, 1f, as, 0, k, bs, 0, n, 0f, cs, 0, n);
            for (float x : TestData.floats(cs)) assertTrue(Float.isFinite(x), "beta = 0 must ignore NaN in C");
        }
        a[2 * k + 3] = Float.NaN; // row 2 of A: NaN must reach every element of row 2 of C, and only those
        try (HostStorage as = TestData.storage(a); HostStorage bs = TestData.storage(b); HostStorage cs = TestData.poisoned(m * n)) {
            v.kernels().sgemm(false, false, m, n, k, 1f, as, 0, k, bs, 0, n, 0f, cs, 0, n);
            float[] out = TestData.floats(cs);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) assertTrue(Float.isNaN(out[i * n + j]) == (i == 2), "NaN propagation at " + i + "," + j);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void invalidLeadingDimensionsNameTheArgument(Variant<F32GemmKernels> v) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        F32GemmKernels g = v.kernels();
        try (HostStorage s = TestData.poisoned(1000)) {
            assertMessage(assertThrows(IllegalArgumentException.class, () -> g.sgemm(false, false, 4, 5, 6, 1, s, 0, 5, s, 0, 5, 0, s, 0, 5)), "lda");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> g.sgemm(true, false, 4, 5, 6, 1, s, 0, 3, s, 0, 5, 0, s, 0, 5)), "lda");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> g.sgemm(false, false, 4, 5, 6, 1, s, 0, 6, s, 0, 4, 0, s, 0, 5)), "ldb");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> g.sgemm(false, true, 4, 5, 6, 1, s, 0, 6, s, 0, 5, 0, s, 0, 5)), "ldb");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> g.sgemm(false, false, 4, 5, 6, 1, s, 0, 6, s, 0, 5, 0, s, 0, 4)), "ldc");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> g.sgemm(false, false, -1, 5, 6, 1, s, 0, 6, s, 0, 5, 0, s, 0, 5)), "m");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> g.sgemm(false, false, 40, 50, 6, 1, s, 0, 6, s, 0, 50, 0, s, 0, 50)), "c block");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void concurrentCallersGetCorrectResults(Variant<F32GemmKernels> v, SplittableRandom rnd) throws Exception {
        assumeTrue(v.skipReason() == null, v.skipReason());
        long seed = rnd.nextLong();
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < 12; t++) {
                SplittableRandom r = new SplittableRandom(seed + t);
                int m = 33 + t;
                futures.add(pool.submit(() -> check(v.kernels(), r.nextBoolean(), r.nextBoolean(), m, 65, 47, 1f, 0.5f, r)));
            }
            for (Future<?> f : futures) f.get();
        } finally {
            pool.shutdownNow();
        }
    }

    private static int pick(SplittableRandom rnd) {
        return SIZES[rnd.nextInt(SIZES.length)];
    }

    private static void assertMessage(IllegalArgumentException e, String needle) {
        assertTrue(e.getMessage().contains(needle), "message should name " + needle + ": " + e.getMessage());
    }

    /** One sgemm call with padded leading dimensions and offsets, checked against the reference. */
    static void check(F32GemmKernels g, boolean ta, boolean tb, int m, int n, int k, float alpha, float beta, SplittableRandom rnd) {
        int aRows = ta ? k : m, aCols = ta ? m : k, bRows = tb ? n : k, bCols = tb ? k : n;
        int lda = Math.max(1, aCols) + rnd.nextInt(3), ldb = Math.max(1, bCols) + rnd.nextInt(3), ldc = Math.max(1, n) + rnd.nextInt(3);
        int aOff = rnd.nextInt(4), bOff = rnd.nextInt(4), cOff = rnd.nextInt(4);
        float[] a = TestData.floats(rnd, aOff + aRows * lda + 1), b = TestData.floats(rnd, bOff + bRows * ldb + 1);
        float[] c = TestData.floats(rnd, cOff + m * ldc + 1);
        float[] expected = c.clone();
        Reference.sgemm(ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, expected, cOff, ldc);
        try (HostStorage as = TestData.storage(a); HostStorage bs = TestData.storage(b); HostStorage cs = TestData.storage(c)) {
            g.sgemm(ta, tb, m, n, k, alpha, as, aOff, lda, bs, bOff, ldb, beta, cs, cOff, ldc);
            KernelAssertions.assertClose(String.format("%s ta=%b tb=%b m=%d n=%d k=%d alpha=%s beta=%s lda=%d ldb=%d ldc=%d",
                    g.kernelId(), ta, tb, m, n, k, alpha, beta, lda, ldb, ldc), expected, TestData.floats(cs), TOLERANCE);
        }
    }
}
