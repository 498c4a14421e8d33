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
import org.tessera.kernels.spi.PackedF32;
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
    /** Edge sizes around the 6x16 tile, the small-m cut (16) and the k block (256). */
    private static final int[] SIZES = {1, 2, 5, 6, 7, 16, 17, 31, 64, 127};
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
        int[][] shapes = {{127, 129, 257}, {257, 257, 257}, {1, 1000, 127}, {257, 1, 31}, {1000, 7, 3}, {5, 5, 1}, {3, 4, 0},
                {16, 1000, 600}, {17, 33, 1000}, {1000, 31, 17}, {7, 4100, 65}, {300, 4097, 2}, {150, 40, 520}};
        for (int[] s : shapes) {
            boolean ta = rnd.nextBoolean(), tb = rnd.nextBoolean();
            check(v.kernels(), ta, tb, s[0], s[1], s[2], 1f, rnd.nextBoolean() ? 0f : 1f, rnd);
        }
    }

    /** Every row count of the small-m paths and its neighbours, every layout, n and k past their chunk/block sizes. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void smallRowCountsEveryLayout(Variant<F32GemmKernels> v, SplittableRandom rnd) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        for (int m = 1; m <= 17; m++) {
            for (int t = 0; t < 4; t++) {
                int n = m > 8 ? 1100 + rnd.nextInt(9) : 65 + rnd.nextInt(40), k = 1030 + rnd.nextInt(7);
                check(v.kernels(), t >= 2, t % 2 == 1, m, n, k, 1f, t == 0 ? 0f : 0.5f, rnd);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void fusedBiasAndRelu(Variant<F32GemmKernels> v, SplittableRandom rnd) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        int[][] shapes = {{1, 17, 9}, {7, 33, 64}, {5, 200, 40}, {40, 70, 300}, {6, 16, 0}};
        for (int[] s : shapes) {
            for (float beta : SCALARS) {
                checkFused(v.kernels(), rnd.nextBoolean(), rnd.nextBoolean(), s[0], s[1], s[2], rnd.nextBoolean() ? 1f : -0.5f, beta,
                        rnd.nextBoolean(), rnd);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void prepackedBMatchesThePlainProduct(Variant<F32GemmKernels> v, SplittableRandom rnd) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        int[][] shapes = {{1, 1, 1}, {5, 17, 3}, {64, 100, 300}, {200, 33, 513}, {16, 48, 260}};
        for (int[] s : shapes) {
            int m = s[0], n = s[1], k = s[2];
            boolean ta = rnd.nextBoolean(), tb = rnd.nextBoolean();
            int lda = (ta ? m : k) + 1, ldb = (tb ? k : n) + 2, ldc = n + 1;
            float[] a = TestData.floats(rnd, (ta ? k : m) * lda), b = TestData.floats(rnd, (tb ? n : k) * ldb);
            float[] bias = TestData.floats(rnd, n), c = TestData.floats(rnd, m * ldc);
            float[] expected = c.clone();
            Reference.gemm(ta, tb, m, n, k, 0.5f, a, 0, lda, b, 0, ldb, 1f, expected, 0, ldc, bias, true);
            try (HostStorage as = TestData.storage(a); HostStorage bs = TestData.storage(b); HostStorage cs = TestData.storage(c);
                 HostStorage biass = TestData.storage(bias); PackedF32 packed = v.kernels().pack(tb, k, n, bs, 0, ldb)) {
                v.kernels().gemmPacked(ta, m, 0.5f, as, 0, lda, packed, 1f, cs, 0, ldc, biass, 0, true);
                KernelAssertions.assertClose(v + " packed " + m + "x" + n + "x" + k, expected, TestData.floats(cs), TOLERANCE);
                packed.close();
                assertThrows(IllegalStateException.class,
                        () -> v.kernels().gemmPacked(ta, m, 1f, as, 0, lda, packed, 0f, cs, 0, ldc, null, 0, false), "closed packed B");
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void oneThreadAndAllThreadsAgree(Variant<F32GemmKernels> v, SplittableRandom rnd) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        int m = 300, n = 257, k = 190;
        float[] a = TestData.floats(rnd, m * k), b = TestData.floats(rnd, k * n);
        int before = WorkerPool.shared().threads();
        float[][] results = new float[2][];
        try {
            for (int run = 0; run < 2; run++) {
                WorkerPool.setSharedThreads(run == 0 ? 1 : Math.max(2, before));
                try (HostStorage as = TestData.storage(a); HostStorage bs = TestData.storage(b); HostStorage cs = TestData.poisoned(m * n)) {
                    v.kernels().sgemm(false, false, m, n, k, 1f, as, 0, k, bs, 0, n, 0f, cs, 0, n);
                    results[run] = TestData.floats(cs);
                }
            }
        } finally {
            WorkerPool.setSharedThreads(before);
        }
        KernelAssertions.assertClose(v + " 1 thread vs many", results[0], results[1], 1e-6);
    }

    /**
     * Products the native GEMM runs on the shared packed-B schedule at 2 threads (m >= 48 per thread and
     * m >= n / threads): n past the widest column block (4080: two blocks, the last 20 columns wide) and k past
     * the k block; fused epilogue; then the same shapes on one thread (no sharing).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void sharedPackedBAcrossColumnBlocks(Variant<F32GemmKernels> v, SplittableRandom rnd) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        int before = WorkerPool.shared().threads();
        try {
            int[][] shapes = {{2060, 4100, 40}, {560, 1100, 300}};
            for (int threads : new int[] {Math.max(2, before), 1}) {
                WorkerPool.setSharedThreads(threads);
                for (int[] s : shapes) {
                    checkFused(v.kernels(), rnd.nextBoolean(), rnd.nextBoolean(), s[0], s[1], s[2], 1f, rnd.nextBoolean() ? 0f : 0.5f, true, rnd);
                }
            }
        } finally {
            WorkerPool.setSharedThreads(before);
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
    void infinityFollowsBlas(Variant<F32GemmKernels> v, SplittableRandom rnd) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        for (int[] s : new int[][] {{3, 20, 9}, {40, 33, 300}}) {
            int m = s[0], n = s[1], k = s[2];
            float[] a = TestData.floats(rnd, m * k), b = TestData.floats(rnd, k * n);
            a[1 * k + 2] = Float.POSITIVE_INFINITY; // row 1 of C: +-Inf (sign of B), or NaN where B's element is 0
            b[4 * n + 5] = Float.NEGATIVE_INFINITY; // column 5 of C: -+Inf; (1, 5) meets both
            float[] expected = new float[m * n];
            Reference.sgemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, expected, 0, n);
            try (HostStorage as = TestData.storage(a); HostStorage bs = TestData.storage(b); HostStorage cs = TestData.poisoned(m * n)) {
                v.kernels().sgemm(false, false, m, n, k, 1f, as, 0, k, bs, 0, n, 0f, cs, 0, n);
                float[] got = TestData.floats(cs);
                for (int i = 0; i < m * n; i++) {
                    if (!Float.isFinite(expected[i])) {
                        assertTrue(Float.compare(expected[i], got[i]) == 0 || (Float.isNaN(expected[i]) && Float.isNaN(got[i])),
                                v + " at " + i + ": reference " + expected[i] + ", actual " + got[i]);
                    } else {
                        assertTrue(Float.isFinite(got[i]), v + " at " + i + " should be finite, got " + got[i]);
                    }
                }
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
                int m = 33 + 13 * t; // up to 176: the shared packed-B schedule too
                futures.add(pool.submit(() -> check(v.kernels(), r.nextBoolean(), r.nextBoolean(), m, 65, 47, 1f, 0.5f, r)));
            }
            for (Future<?> f : futures) f.get();
        } finally {
            pool.shutdownNow();
        }
    }

    private static void checkFused(F32GemmKernels g, boolean ta, boolean tb, int m, int n, int k, float alpha, float beta,
                                   boolean withBias, SplittableRandom rnd) {
        int lda = Math.max(1, ta ? m : k), ldb = Math.max(1, tb ? k : n), ldc = n + 3;
        float[] a = TestData.floats(rnd, (ta ? k : m) * lda + 1), b = TestData.floats(rnd, (tb ? n : k) * ldb + 1);
        float[] c = TestData.floats(rnd, m * ldc), bias = withBias ? TestData.floats(rnd, n + 2) : null;
        float[] biasView = bias == null ? null : java.util.Arrays.copyOfRange(bias, 2, n + 2);
        float[] expected = c.clone();
        Reference.gemm(ta, tb, m, n, k, alpha, a, 0, lda, b, 0, ldb, beta, expected, 0, ldc, biasView, true);
        try (HostStorage as = TestData.storage(a); HostStorage bs = TestData.storage(b); HostStorage cs = TestData.storage(c);
             HostStorage biass = bias == null ? null : TestData.storage(bias)) {
            g.gemm(ta, tb, m, n, k, alpha, as, 0, lda, bs, 0, ldb, beta, cs, 0, ldc, biass, 2, true);
            KernelAssertions.assertClose(String.format("%s fused ta=%b tb=%b %dx%dx%d beta=%s bias=%b", g.kernelId(m, n, k), ta, tb, m, n, k,
                    beta, withBias), expected, TestData.floats(cs), TOLERANCE);
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
                    g.kernelId(m, n, k), ta, tb, m, n, k, alpha, beta, lda, ldb, ldc), expected, TestData.floats(cs), TOLERANCE);
        }
    }
}
