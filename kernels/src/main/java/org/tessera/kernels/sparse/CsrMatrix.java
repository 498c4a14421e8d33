package org.tessera.kernels.sparse;

import java.util.Arrays;

/**
 * Compressed sparse rows: row i's non-zeros are {@code values[rowPtr[i] .. rowPtr[i+1])} at columns
 * {@code colIdx[same range]}, strictly increasing within a row. Unstructured: any pattern.
 */
public final class CsrMatrix implements SparseMatrix {
    private final int rows, cols;
    private final int[] rowPtr, colIdx;
    private final float[] values;

    /**
     * Validates and copies the arrays.
     *
     * @throws IllegalArgumentException naming the first problem: lengths that disagree, a row pointer that is
     *                                  not 0 at the start or decreases, a column out of [0, cols), or columns not
     *                                  strictly increasing within a row (unsorted or duplicate)
     */
    public CsrMatrix(int rows, int cols, int[] rowPtr, int[] colIdx, float[] values) {
        if (rows < 0 || cols < 0) throw new IllegalArgumentException("shape must be >= 0, got " + rows + "x" + cols);
        if (rowPtr == null || colIdx == null || values == null) throw new NullPointerException("CSR arrays must not be null");
        if (rowPtr.length != rows + 1) throw new IllegalArgumentException("rowPtr must hold rows + 1 = " + (rows + 1) + " offsets, got " + rowPtr.length);
        if (colIdx.length != values.length) {
            throw new IllegalArgumentException("colIdx and values must have the same length, got " + colIdx.length + " and " + values.length);
        }
        if (rowPtr[0] != 0) throw new IllegalArgumentException("rowPtr[0] must be 0, got " + rowPtr[0]);
        if (rowPtr[rows] != values.length) {
            throw new IllegalArgumentException("rowPtr[rows] must equal the number of values (" + values.length + "), got " + rowPtr[rows]);
        }
        for (int i = 0; i < rows; i++) {
            if (rowPtr[i + 1] < rowPtr[i]) throw new IllegalArgumentException("rowPtr decreases at row " + i + ": " + rowPtr[i] + " > " + rowPtr[i + 1]);
        }
        for (int i = 0; i < rows; i++) {
            for (int p = rowPtr[i]; p < rowPtr[i + 1]; p++) {
                int c = colIdx[p];
                if (c < 0 || c >= cols) throw new IllegalArgumentException("colIdx[" + p + "] = " + c + " (row " + i + ") is outside [0, " + cols + ")");
                if (p > rowPtr[i] && c <= colIdx[p - 1]) {
                    throw new IllegalArgumentException("row " + i + ": column " + c + " at colIdx[" + p + "] does not follow " + colIdx[p - 1]
                            + (c == colIdx[p - 1] ? " (duplicate)" : " (unsorted)") + "; columns must strictly increase within a row");
                }
            }
        }
        this.rows = rows;
        this.cols = cols;
        this.rowPtr = rowPtr.clone();
        this.colIdx = colIdx.clone();
        this.values = values.clone();
    }

    /** The non-zeros of a dense row-major (rows, cols) matrix with row stride ld (+0 and -0 are dropped, NaN kept). */
    public static CsrMatrix fromDense(float[] w, int rows, int cols, int ld) {
        SparseMatrix.checkDense(w, rows, cols, ld);
        int[] rowPtr = new int[rows + 1];
        long nnz = 0;
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) if (w[i * ld + j] != 0f) nnz++;
            if (nnz > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("more than 2^31 non-zeros do not fit CSR's s32 offsets");
            rowPtr[i + 1] = (int) nnz;
        }
        int[] colIdx = new int[(int) nnz];
        float[] values = new float[(int) nnz];
        int p = 0;
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                float v = w[i * ld + j];
                if (v != 0f) {
                    colIdx[p] = j;
                    values[p++] = v;
                }
            }
        }
        return new CsrMatrix(rows, cols, rowPtr, colIdx, values);
    }

    /** {@link #fromDense(float[], int, int, int)} with ld = cols. */
    public static CsrMatrix fromDense(float[] w, int rows, int cols) {
        return fromDense(w, rows, cols, cols);
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int cols() {
        return cols;
    }

    /** Copy of the row offsets (rows + 1). */
    public int[] rowPtr() {
        return rowPtr.clone();
    }

    /** Copy of the column indices (one per stored value). */
    public int[] colIdx() {
        return colIdx.clone();
    }

    /** Copy of the stored values. */
    public float[] values() {
        return values.clone();
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
        return "csr";
    }

    @Override
    public long bytes() {
        return 4L * (rowPtr.length + colIdx.length + values.length);
    }

    @Override
    public float[] toDense() {
        float[] d = new float[SparseMatrix.denseSize(rows, cols)];
        for (int i = 0; i < rows; i++) for (int p = rowPtr[i]; p < rowPtr[i + 1]; p++) d[i * cols + colIdx[p]] = values[p];
        return d;
    }

    @Override
    public CsrMatrix mapValues(RowValueFunction f) {
        float[] v = new float[values.length];
        for (int i = 0; i < rows; i++) for (int p = rowPtr[i]; p < rowPtr[i + 1]; p++) v[p] = f.apply(i, values[p]);
        return new CsrMatrix(rows, cols, rowPtr, colIdx, v);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CsrMatrix m && m.rows == rows && m.cols == cols && Arrays.equals(m.rowPtr, rowPtr)
                && Arrays.equals(m.colIdx, colIdx) && Arrays.equals(m.values, values);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(colIdx) + Arrays.hashCode(values);
    }

    @Override
    public String toString() {
        return report();
    }
}
