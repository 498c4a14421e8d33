package org.tessera.kernels.sparse;

/**
 * An immutable sparse f32 matrix W of (rows, cols), in one of the formats the sparse kernels run:
 * {@link CsrMatrix} (unstructured), {@link BsrMatrix} (blocks) and {@link NmSparseMatrix} (N of every M).
 * Every format validates its arrays when constructed and copies them, so a malformed matrix can never
 * reach a kernel, and nothing a caller does afterwards changes it.
 *
 * <p>For int8 kernels the values hold the quantized s8 weights (integers in [-128, 127]); see
 * {@link #mapValues}.
 */
public sealed interface SparseMatrix permits CsrMatrix, BsrMatrix, NmSparseMatrix {
    /** Rows of W (n: output channels). */
    int rows();

    /** Columns of W (k: input features). */
    int cols();

    /** Values the format stores, zeros inside stored blocks or groups included. */
    long storedValues();

    /** Stored values that are not zero. */
    long nonZeros();

    /** Short name of the format and its geometry, e.g. {@code csr}, {@code bsr4x1}, {@code 2:4}. */
    String format();

    /** Bytes of the f32 format: values plus every index array. */
    long bytes();

    /** Fraction of W's elements that are zero, in [0, 1]; 0 for an empty matrix. */
    default double sparsity() {
        long size = (long) rows() * cols();
        return size == 0 ? 0 : 1.0 - (double) nonZeros() / size;
    }

    /** W as a dense row-major (rows, cols) array. */
    float[] toDense();

    /** The same sparsity pattern with every stored value v of row i replaced by {@code f.apply(i, v)}. */
    SparseMatrix mapValues(RowValueFunction f);

    /** One line: format, shape, non-zeros, sparsity and memory against dense f32. */
    default String report() {
        long dense = 4L * rows() * cols();
        return String.format("%s %dx%d: %d non-zeros (%.1f%% sparse), %d bytes = %.2fx dense f32", format(), rows(), cols(),
                nonZeros(), 100 * sparsity(), bytes(), dense == 0 ? 0 : (double) bytes() / dense);
    }

    /** A value transform that knows the value's row (e.g. per-output-channel quantization). */
    @FunctionalInterface
    interface RowValueFunction {
        float apply(int row, float value);
    }

    /** Values that are not zero (+0 and -0 count as zero, NaN does not). */
    static long countNonZeros(float[] values) {
        long nz = 0;
        for (float v : values) if (v != 0f) nz++;
        return nz;
    }

    /** rows * cols as an array length, or an exception when a Java array cannot hold it. */
    static int denseSize(int rows, int cols) {
        long size = (long) rows * cols;
        if (size > Integer.MAX_VALUE - 8) throw new IllegalStateException(rows + "x" + cols + " does not fit one Java array");
        return (int) size;
    }

    /** Checks a dense source array: non-null, non-negative sizes, long enough for a (rows, cols) block with row stride ld. */
    static void checkDense(float[] w, int rows, int cols, int ld) {
        if (w == null) throw new NullPointerException("dense matrix is null");
        if (rows < 0 || cols < 0) throw new IllegalArgumentException("shape must be >= 0, got " + rows + "x" + cols);
        if (ld < Math.max(1, cols)) throw new IllegalArgumentException("ld must be >= max(1, cols = " + cols + "), got " + ld);
        long need = rows == 0 || cols == 0 ? 0 : (long) (rows - 1) * ld + cols;
        if (w.length < need) throw new IllegalArgumentException("a " + rows + "x" + cols + " matrix with ld " + ld + " needs " + need
                + " elements, the array holds " + w.length);
    }
}
