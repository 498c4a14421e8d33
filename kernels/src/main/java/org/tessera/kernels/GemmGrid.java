package org.tessera.kernels;

/**
 * How a GEMM's C is split across threads: a tm x tn grid of blocks, row cuts on multiples of {@code mr},
 * column cuts on multiples of {@code nr} (micro-tile boundaries, so no tile is split). The grid minimizes
 * each thread's share of the work plus the packing it repeats: splitting rows makes every thread pack all
 * of B, splitting columns makes every thread pack all of A. Small products stay on one thread.
 *
 * @param tm row blocks
 * @param tn column blocks
 */
public record GemmGrid(int m, int n, int mr, int nr, int tm, int tn) {
    /** Below this many flops a product runs on the calling thread: waking a worker costs more. */
    static final double MIN_PARALLEL_FLOPS = 4e6;

    public static GemmGrid plan(int m, int n, int k, int threads, int mr, int nr) {
        if (threads <= 1 || 2.0 * m * n * Math.max(k, 1) < MIN_PARALLEL_FLOPS) return new GemmGrid(m, n, mr, nr, 1, 1);
        long rowTiles = (m + mr - 1) / mr, colTiles = (n + nr - 1) / nr;
        int bestM = 1, bestN = 1;
        double best = Double.MAX_VALUE;
        for (int tm = 1; tm <= threads; tm++) {
            int tn = threads / tm;
            if (tm > rowTiles || tn > colTiles) continue;
            double mBlock = Math.ceil((double) rowTiles / tm) * mr, nBlock = Math.ceil((double) colTiles / tn) * nr;
            // per-thread multiply-adds, plus packing (about as costly per element as a few multiply-adds)
            double cost = mBlock * nBlock * Math.max(k, 1) + 4.0 * Math.max(k, 1) * (mBlock + nBlock);
            if (cost < best) {
                best = cost;
                bestM = tm;
                bestN = tn;
            }
        }
        return new GemmGrid(m, n, mr, nr, bestM, bestN);
    }

    public int tasks() {
        return tm * tn;
    }

    /** First row of task t's block. */
    public int rowStart(int t) {
        return cut(t / tn, tm, m, mr);
    }

    public int rowEnd(int t) {
        return cut(t / tn + 1, tm, m, mr);
    }

    public int colStart(int t) {
        return cut(t % tn, tn, n, nr);
    }

    public int colEnd(int t) {
        return cut(t % tn + 1, tn, n, nr);
    }

    /** Boundary i of parts cuts of size, on multiples of unit. */
    private static int cut(int i, int parts, int size, int unit) {
        long tiles = (size + unit - 1) / unit;
        return (int) Math.min(size, tiles * i / parts * unit);
    }
}
