package org.tessera.kernels;

/**
 * Splits {@code units} of equal work into chunks that shrink as they go, for threads that claim the next chunk
 * when done with their last (as {@link WorkerPool#parallelFor} does): chunk i takes a {@code 1 / (2 * threads)}
 * share of what is left, at least one unit (OpenMP's "guided" schedule). The large chunks first keep the calls
 * few; the single units last leave the threads at most a unit apart at the end, where equal chunks (8 and 9
 * tiles of 12 pixels for a 1x1 28x28 convolution in 8 tasks on 2 threads) can leave one a chunk behind.
 *
 * <p>Chunk bounds are computed, not stored: {@link #start} walks the chunks before it, a few dozen steps, so a
 * parallel call allocates nothing for them.
 */
public final class GuidedChunks {
    private GuidedChunks() {}

    /** How many chunks {@code units} units make for {@code threads} threads. */
    public static int count(long units, int threads) {
        int n = 0;
        for (long left = units; left > 0; n++) left -= size(left, threads);
        return n;
    }

    /** The first unit of chunk {@code chunk} (of {@link #count}); {@code units} for chunk {@code count}. */
    public static long start(long units, int threads, int chunk) {
        long at = 0;
        for (int i = 0; i < chunk && at < units; i++) at += size(units - at, threads);
        return at;
    }

    private static long size(long left, int threads) {
        long share = 2L * Math.max(1, threads);
        return Math.max(1, (left + share - 1) / share);
    }
}
