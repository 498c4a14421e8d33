package org.tessera.kernels.spi;

import org.tessera.kernels.Storage;

/**
 * s8 weights (k, n) packed once by one {@link Int8GemmKernels} into its layout, with their column sums
 * (for zero-point compensation) and per-column scales (a per-tensor scale is repeated). Only the kernels
 * that packed it can use it. Closing frees all three; a closed one is refused before any kernel runs.
 *
 * @param owner        the kernels whose layout this is
 * @param k            rows (the inner dimension)
 * @param n            columns (output channels)
 * @param reducedRange true when every weight pair fits the fast {@code vpmaddubsw} path exactly (see
 *                     {@link Int8GemmKernels#pack}); informational for the java kernels
 * @param data         the packed weights
 * @param colsums      s32 (n): column sums of the weights
 * @param scales       f32 (n): the weights' scale per column
 */
public record PackedInt8(Int8GemmKernels owner, int k, int n, boolean reducedRange, Storage data, Storage colsums,
                         Storage scales) implements AutoCloseable {
    /** Whether the memory is still there. */
    public boolean isAlive() {
        return data.isAlive() && colsums.isAlive() && scales.isAlive();
    }

    @Override
    public void close() {
        data.close();
        colsums.close();
        scales.close();
    }
}
