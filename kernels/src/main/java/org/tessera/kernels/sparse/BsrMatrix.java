package org.tessera.kernels.sparse;

import java.util.Arrays;

/**
 * Block compressed sparse rows: W cut into (br, bc) blocks; a block row (rows {@code [b*br, b*br + br)}) stores
 * its non-zero blocks {@code blockRowPtr[b] .. blockRowPtr[b+1]}, each at block column {@code blockCol[p]}
 * (columns {@code [blockCol[p]*bc, +bc)}), strictly increasing, with its br*bc values row-major at
 * {@code values[p*br*bc]}. When rows or cols is not a multiple of the block, the last blocks hang over the
 * edge; their overhanging values must be 0.
 *
 * <p>Why blocks: one block of br rows by one column lets the kernel reuse each loaded row of X for br
 * outputs (4 FMAs per load for 4x1), where unstructured CSR gets one; the price is coarser pruning.
 */
public final class BsrMatrix implements SparseMatrix {
    private final int rows, cols, br, bc;
    private final int[] blockRowPtr, blockCol;
    private final float[] values;

    /**
     * Validates and copies the arrays.
     *
     * @throws IllegalArgumentException naming the first problem: a block size below 1, lengths that disagree,
     *                                  offsets not starting at 0 or decreasing, a block column out of range or
     *                                  not strictly increasing within its block row, or a non-zero hanging
     *                                  over the matrix edge
     */
    public BsrMatrix(int rows, int cols, int br, int bc, int[] blockRowPtr, int[] blockCol, float[] values) {
        if (rows < 0 || cols < 0) throw new IllegalArgumentException("shape must be >= 0, got " + rows + "x" + cols);
        if (br < 1 || bc < 1) throw new IllegalArgumentException("block must be at least 1x1, got " + br + "x" + bc);
        if (blockRowPtr == null || blockCol == null || values == null) throw new NullPointerException("BSR arrays must not be null");
        int blockRows = ceilDiv(rows, br), blockCols = ceilDiv(cols, bc);
        if (blockRowPtr.length != blockRows + 1) {
            throw new IllegalArgumentException("blockRowPtr must hold ceil(rows / br) + 1 = " + (blockRows + 1) + " offsets, got " + blockRowPtr.length);
        }
        if ((long) blockCol.length * br * bc != values.length) {
            throw new IllegalArgumentException("values must hold br*bc = " + br * bc + " per block: " + blockCol.length + " blocks need "
                    + (long) blockCol.length * br * bc + ", got " + values.length);
        }
        if (blockRowPtr[0] != 0) throw new IllegalArgumentException("blockRowPtr[0] must be 0, got " + blockRowPtr[0]);
        if (blockRowPtr[blockRows] != blockCol.length) {
            throw new IllegalArgumentException("blockRowPtr[last] must equal the number of blocks (" + blockCol.length + "), got " + blockRowPtr[blockRows]);
        }
        for (int b = 0; b < blockRows; b++) {
            if (blockRowPtr[b + 1] < blockRowPtr[b]) throw new IllegalArgumentException("blockRowPtr decreases at block row " + b);
        }
        for (int b = 0; b < blockRows; b++) {
            for (int p = blockRowPtr[b]; p < blockRowPtr[b + 1]; p++) {
                int c = blockCol[p];
                if (c < 0 || c >= blockCols) throw new IllegalArgumentException("blockCol[" + p + "] = " + c + " is outside [0, " + blockCols + ")");
                if (p > blockRowPtr[b] && c <= blockCol[p - 1]) {
                    throw new IllegalArgumentException("block row " + b + ": block column " + c + " at blockCol[" + p + "] does not follow "
                            + blockCol[p - 1] + "; block columns must strictly increase within a block row");
                }
                for (int r = 0; r < br; r++) {
                    for (int s = 0; s < bc; s++) {
                        if ((b * br + r >= rows || c * bc + s >= cols) && values[(p * br + r) * bc + s] != 0f) {
                            throw new IllegalArgumentException("block " + p + " has a non-zero at (" + (b * br + r) + ", " + (c * bc + s)
                                    + "), outside the " + rows + "x" + cols + " matrix");
                        }
                    }
                }
            }
        }
        this.rows = rows;
        this.cols = cols;
        this.br = br;
        this.bc = bc;
        this.blockRowPtr = blockRowPtr.clone();
        this.blockCol = blockCol.clone();
        this.values = values.clone();
    }

    /** Every (br, bc) block of the dense row-major matrix (row stride ld) that holds a non-zero. */
    public static BsrMatrix fromDense(float[] w, int rows, int cols, int ld, int br, int bc) {
        SparseMatrix.checkDense(w, rows, cols, ld);
        if (br < 1 || bc < 1) throw new IllegalArgumentException("block must be at least 1x1, got " + br + "x" + bc);
        int blockRows = ceilDiv(rows, br), blockCols = ceilDiv(cols, bc);
        int[] ptr = new int[blockRows + 1];
        int[] cols1 = new int[blockRows * blockCols];
        int nb = 0;
        for (int b = 0; b < blockRows; b++) {
            for (int c = 0; c < blockCols; c++) if (blockHasNonZero(w, rows, cols, ld, br, bc, b, c)) cols1[nb++] = c;
            ptr[b + 1] = nb;
        }
        float[] values = new float[Math.multiplyExact(nb, br * bc)];
        for (int b = 0; b < blockRows; b++) {
            for (int p = ptr[b]; p < ptr[b + 1]; p++) {
                for (int r = 0; r < br; r++) {
                    for (int s = 0; s < bc; s++) {
                        int i = b * br + r, j = cols1[p] * bc + s;
                        if (i < rows && j < cols) values[(p * br + r) * bc + s] = w[i * ld + j];
                    }
                }
            }
        }
        return new BsrMatrix(rows, cols, br, bc, ptr, Arrays.copyOf(cols1, nb), values);
    }

    /** {@link #fromDense(float[], int, int, int, int, int)} with ld = cols. */
    public static BsrMatrix fromDense(float[] w, int rows, int cols, int br, int bc) {
        return fromDense(w, rows, cols, cols, br, bc);
    }

    private static boolean blockHasNonZero(float[] w, int rows, int cols, int ld, int br, int bc, int b, int c) {
        for (int i = b * br; i < Math.min(rows, b * br + br); i++) {
            for (int j = c * bc; j < Math.min(cols, c * bc + bc); j++) if (w[i * ld + j] != 0f) return true;
        }
        return false;
    }

    static int ceilDiv(int a, int b) {
        return (int) (((long) a + b - 1) / b);
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int cols() {
        return cols;
    }

    /** Block height. */
    public int blockRows() {
        return br;
    }

    /** Block width. */
    public int blockCols() {
        return bc;
    }

    /** Copy of the block-row offsets (ceil(rows / br) + 1). */
    public int[] blockRowPtr() {
        return blockRowPtr.clone();
    }

    /** Copy of the block columns (one per stored block, in units of bc columns). */
    public int[] blockCol() {
        return blockCol.clone();
    }

    /** Copy of the stored values, br*bc per block, row-major within a block. */
    public float[] values() {
        return values.clone();
    }

    /** Number of stored blocks. */
    public int blocks() {
        return blockCol.length;
    }

    @Override
    public long storedValues() {
        return values.length;
    }

    @Override
    public long nonZeros() {
        return SparseMatrix.countNonZeros(values);
    }

    @Override
    public String format() {
        return "bsr" + br + "x" + bc;
    }

    @Override
    public long bytes() {
        return 4L * (blockRowPtr.length + blockCol.length + values.length);
    }

    @Override
    public float[] toDense() {
        float[] d = new float[SparseMatrix.denseSize(rows, cols)];
        for (int b = 0; b + 1 < blockRowPtr.length; b++) {
            for (int p = blockRowPtr[b]; p < blockRowPtr[b + 1]; p++) {
                for (int r = 0; r < br; r++) {
                    for (int s = 0; s < bc; s++) {
                        int i = b * br + r, j = blockCol[p] * bc + s;
                        if (i < rows && j < cols) d[i * cols + j] = values[(p * br + r) * bc + s];
                    }
                }
            }
        }
        return d;
    }

    @Override
    public BsrMatrix mapValues(RowValueFunction f) {
        float[] v = new float[values.length];
        for (int b = 0; b + 1 < blockRowPtr.length; b++) {
            for (int p = blockRowPtr[b]; p < blockRowPtr[b + 1]; p++) {
                for (int r = 0; r < br; r++) {
                    int i = b * br + r;
                    for (int s = 0; s < bc; s++) {
                        int q = (p * br + r) * bc + s;
                        v[q] = i < rows && blockCol[p] * bc + s < cols ? f.apply(i, values[q]) : 0f;
                    }
                }
            }
        }
        return new BsrMatrix(rows, cols, br, bc, blockRowPtr, blockCol, v);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BsrMatrix m && m.rows == rows && m.cols == cols && m.br == br && m.bc == bc
                && Arrays.equals(m.blockRowPtr, blockRowPtr) && Arrays.equals(m.blockCol, blockCol) && Arrays.equals(m.values, values);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(blockCol) + Arrays.hashCode(values);
    }

    @Override
    public String toString() {
        return report();
    }
}
