package org.tessera.kernels;

/**
 * A GEMM schedule in which all threads share one packed copy of B, as OpenBLAS and BLIS do, instead of each
 * thread packing the part of an operand its block of C needs. Per block of {@link #columnBlock} columns: the
 * threads pack disjoint micro-panel ranges of B (all of k) into one buffer, the pool joins, then they compute
 * disjoint row ranges of C against all of it. Nothing is packed twice: a plain grid split makes every thread
 * pack all of B (row split) or all of A (column split), and a row-block loop outside the k loop repacks B per
 * row block.
 *
 * <p>The joins between phases are the pool's own ({@link WorkerPool#parallelFor} returns when all tasks are
 * done), so a call that runs on one thread (pool busy, nested) is still correct, just not parallel.
 */
public final class SharedPackedB {
    /** Packed B per column block is at most this many floats (16 MiB), unless one thread's minimum needs more. */
    static final long BUDGET_FLOATS = 4L << 20;
    /** Widest column block: its KC-row slice (KC = 256 rows x 4080 floats, ~4 MiB) stays in L3 while C is swept. */
    static final int MAX_COLUMNS = 4080;

    /** Packs columns [j0, j1) (relative to the block, multiples of nr but for the block's end) of block jc. */
    @FunctionalInterface
    public interface PackColumns {
        void pack(int jc, int nc, int j0, int j1);
    }

    /** Computes rows [i0, i1) of C for block columns [jc, jc + nc) from the packed block. */
    @FunctionalInterface
    public interface ComputeRows {
        void compute(int jc, int nc, int i0, int i1);
    }

    private SharedPackedB() {}

    /**
     * Column block width for this product: a multiple of nr, at most {@link #MAX_COLUMNS}, such that k rows of
     * it fit {@link #BUDGET_FLOATS} with room for every thread to pack at least 4 panels; 0 when k is too
     * large for that (the caller then uses its per-thread schedule).
     */
    public static int columnBlock(int n, int k, int nr, int threads) {
        long minColumns = 4L * nr * Math.max(1, threads);
        if ((long) k * minColumns > BUDGET_FLOATS) return 0;
        long fit = BUDGET_FLOATS / Math.max(1, k) / nr * nr;
        long padded = ((long) n + nr - 1) / nr * nr;
        return (int) Math.min(padded, Math.min(MAX_COLUMNS / nr * nr, fit));
    }

    /** Floats of the shared buffer for a block of ncb columns: k rows of ncb rounded up to nr. */
    public static long bufferFloats(int k, int ncb, int nr) {
        return (long) k * ((ncb + nr - 1) / nr * nr);
    }

    /** Runs the schedule over the pool: for each column block, pack (parallel over panels), then compute (parallel over rows). */
    public static void run(WorkerPool pool, int m, int n, int ncb, int mr, int nr, PackColumns pack, ComputeRows compute) {
        int threads = pool.threads();
        for (int jc = 0; jc < n; jc += ncb) {
            final int block = jc, nc = Math.min(ncb, n - jc);
            int packTasks = (int) Math.min(threads, ((long) nc + nr - 1) / nr);
            pool.parallelFor(packTasks, t -> {
                int j0 = cut(t, packTasks, nc, nr), j1 = cut(t + 1, packTasks, nc, nr);
                if (j0 < j1) pack.pack(block, nc, j0, j1);
            });
            int rowTasks = (int) Math.min(threads, ((long) m + mr - 1) / mr);
            pool.parallelFor(rowTasks, t -> {
                int i0 = cut(t, rowTasks, m, mr), i1 = cut(t + 1, rowTasks, m, mr);
                if (i0 < i1) compute.compute(block, nc, i0, i1);
            });
        }
    }

    /** Boundary i of parts cuts of size, on multiples of unit. */
    private static int cut(int i, int parts, int size, int unit) {
        long tiles = (size + unit - 1) / unit;
        return (int) Math.min(size, tiles * i / parts * unit);
    }
}
