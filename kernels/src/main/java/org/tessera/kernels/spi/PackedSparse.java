package org.tessera.kernels.spi;

import org.tessera.kernels.DType;
import org.tessera.kernels.Storage;

/**
 * Sparse weights W (n, k) packed once by one {@link SparseKernels} for its kernels, in one layout for every
 * format: block rows of br rows, each with its blocks (br, bc) at element column {@code colIdx[p]},
 * {@code rowPtr} offsets into the blocks, a block's values column-major (the br values of one column
 * adjacent, so one broadcast per output row and one load of X serve them all). CSR and N:M pack as 1x1
 * blocks. Closing frees the memory; a closed one is refused before any kernel runs.
 *
 * @param owner       the kernels that packed it (only they may run it)
 * @param format      the source format, e.g. {@code csr}, {@code bsr4x1}, {@code 2:4}
 * @param dtype       F32, or S8 for int8 kernels
 * @param n           rows of W (outputs)
 * @param k           columns of W (inputs)
 * @param br          block height
 * @param bc          block width
 * @param blockRowPtr host copy of the block-row offsets, for splitting work across threads (do not modify)
 * @param rowPtr      s32 (ceil(n / br) + 1) block-row offsets
 * @param colIdx      s32 (blocks) first column of each block
 * @param values      f32 or s8 (blocks * br * bc)
 * @param rowsums     s32 (n) sum of each row's weights, for zero-point compensation (int8 only, else null)
 * @param scales      f32 (n) each row's weight scale (int8 only, else null)
 * @param nonZeros    non-zero weights
 */
public record PackedSparse(SparseKernels owner, String format, DType dtype, int n, int k, int br, int bc, int[] blockRowPtr,
                           Storage rowPtr, Storage colIdx, Storage values, Storage rowsums, Storage scales, long nonZeros)
        implements AutoCloseable {
    /** Number of block rows. */
    public int blockRowCount() {
        return blockRowPtr.length - 1;
    }

    /** Whether the memory is still there. */
    public boolean isAlive() {
        return rowPtr.isAlive() && colIdx.isAlive() && values.isAlive() && (rowsums == null || rowsums.isAlive())
                && (scales == null || scales.isAlive());
    }

    /** Bytes of packed memory. */
    public long bytes() {
        return rowPtr.byteSize() + colIdx.byteSize() + values.byteSize() + (rowsums == null ? 0 : rowsums.byteSize() + scales.byteSize());
    }

    @Override
    public void close() {
        rowPtr.close();
        colIdx.close();
        values.close();
        if (rowsums != null) rowsums.close();
        if (scales != null) scales.close();
    }
}
