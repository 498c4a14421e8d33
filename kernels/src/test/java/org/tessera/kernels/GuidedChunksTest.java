package org.tessera.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class GuidedChunksTest {
    @Test
    void chunksCoverEveryUnitOnceAndShrink() {
        for (int threads : new int[] {1, 2, 3, 16}) {
            for (long units : new long[] {0, 1, 2, 3, 7, 17, 66, 262, 1000, 1L << 33}) {
                int n = GuidedChunks.count(units, threads);
                String what = units + " units, " + threads + " threads";
                assertEquals(0, GuidedChunks.start(units, threads, 0), what);
                assertEquals(units, GuidedChunks.start(units, threads, n), what);
                long previous = Long.MAX_VALUE;
                for (int i = 0; i < n; i++) {
                    long size = GuidedChunks.start(units, threads, i + 1) - GuidedChunks.start(units, threads, i);
                    assertTrue(size >= 1 && size <= previous, what + ": chunk " + i + " has " + size + " units after " + previous);
                    previous = size;
                }
                if (units > 0) assertEquals(1, previous, what + ": the last chunk is one unit");
                assertTrue(n <= 2 * threads * (64 + 1), what + ": " + n + " chunks");
            }
        }
    }

    /** 66 units (the 1x1 28x28 layer's 12-pixel tiles) on 2 threads: a quarter of what is left each time. */
    @Test
    void sizesForTwoThreads() {
        List<Long> sizes = new java.util.ArrayList<>();
        for (int i = 0; i < GuidedChunks.count(66, 2); i++) sizes.add(GuidedChunks.start(66, 2, i + 1) - GuidedChunks.start(66, 2, i));
        assertEquals(List.of(17L, 13L, 9L, 7L, 5L, 4L, 3L, 2L, 2L, 1L, 1L, 1L, 1L), sizes);
    }
}
