package org.tessera.kernels;

/**
 * Splits a (rows, cols) elementwise block into one chunk per pool thread (by rows when there are enough,
 * else by columns) and runs them on the {@link WorkerPool}. Blocks under {@code minPerChunk} elements stay
 * on the calling thread, where waking a worker would cost more than it saves.
 */
public final class ParallelBlocks {
    /** A sub-block: rows [r0, r1) x columns [c0, c1). */
    @FunctionalInterface
    public interface Body {
        void run(long r0, long r1, long c0, long c1);
    }

    private ParallelBlocks() {}

    public static void run(WorkerPool pool, long rows, long cols, long minPerChunk, Body body) {
        int chunks = pool.chunks(rows * cols, minPerChunk);
        if (chunks == 1) {
            body.run(0, rows, 0, cols);
        } else if (rows >= chunks) {
            pool.parallelFor(chunks, i -> body.run(rows * i / chunks, rows * (i + 1) / chunks, 0, cols));
        } else {
            // Few long rows: split columns on 16-element boundaries so chunks start on whole vectors.
            long units = (cols + 15) / 16;
            pool.parallelFor(chunks, i -> body.run(0, rows,
                    Math.min(cols, units * i / chunks * 16), Math.min(cols, units * (i + 1) / chunks * 16)));
        }
    }
}
