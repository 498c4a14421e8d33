package org.tessera.kernels.sparse;

import java.util.Arrays;

/**
 * N:M structured sparsity (e.g. 2:4, as NVIDIA Ampere's sparse tensor cores run it): every row is cut into
 * groups of M consecutive columns, each keeping at most N values. Group g of row i stores exactly N slots,
 * {@code values[(i*groups + g)*N + t]} at column {@code g*M + index[same]}, indices strictly increasing
 * within the group (a group with fewer than N non-zeros stores zeros in its spare slots). A fixed count per
 * row needs no row offsets, and each index fits in a byte.
 */
public final class NmSparseMatrix implements SparseMatrix {
    private final int rows, cols, keep, group;
    private final float[] values;
    private final byte[] index;

    /**
     * Validates and copies the arrays.
     *
     * @param keep  N: values kept per group, 1 <= N <= M
     * @param group M: the group length, <= 127; cols must be a multiple of it
     * @throws IllegalArgumentException naming the first problem: a bad N or M, cols not a multiple of M, array
     *                                  lengths other than rows*cols/M*N, an index outside [0, M) or not
     *                                  strictly increasing within its group
     */
    public NmSparseMatrix(int rows, int cols, int keep, int group, float[] values, byte[] index) {
        if (rows < 0 || cols < 0) throw new IllegalArgumentException("shape must be >= 0, got " + rows + "x" + cols);
        if (group < 1 || group > 127 || keep < 1 || keep > group) {
            throw new IllegalArgumentException("N:M needs 1 <= N <= M <= 127, got " + keep + ":" + group);
        }
        if (cols % group != 0) throw new IllegalArgumentException("cols (" + cols + ") must be a multiple of M = " + group + " for " + keep + ":" + group + " sparsity");
        if (values == null || index == null) throw new NullPointerException("N:M arrays must not be null");
        long slots = (long) rows * (cols / group) * keep;
        if (values.length != slots || index.length != slots) {
            throw new IllegalArgumentException("values and index must hold rows * cols / M * N = " + slots + " slots, got "
                    + values.length + " and " + index.length);
        }
        for (int q = 0; q < slots; q++) {
            int t = q % keep;
            if (index[q] < 0 || index[q] >= group) throw new IllegalArgumentException("index[" + q + "] = " + index[q] + " is outside [0, " + group + ")");
            if (t > 0 && index[q] <= index[q - 1]) {
                throw new IllegalArgumentException("index[" + q + "] = " + index[q] + " does not follow " + index[q - 1]
                        + "; indices must strictly increase within a group");
            }
        }
        this.rows = rows;
        this.cols = cols;
        this.keep = keep;
        this.group = group;
        this.values = values.clone();
        this.index = index.clone();
    }

    /**
     * Packs a dense row-major matrix (row stride ld) that already satisfies N:M (prune it first).
     *
     * @throws IllegalArgumentException if some group holds more than N non-zeros (naming it), or cols is not
     *                                  a multiple of M
     */
    public static NmSparseMatrix fromDense(float[] w, int rows, int cols, int ld, int keep, int group) {
        SparseMatrix.checkDense(w, rows, cols, ld);
        if (group < 1 || group > 127 || keep < 1 || keep > group) {
            throw new IllegalArgumentException("N:M needs 1 <= N <= M <= 127, got " + keep + ":" + group);
        }
        if (cols % group != 0) throw new IllegalArgumentException("cols (" + cols + ") must be a multiple of M = " + group + " for " + keep + ":" + group + " sparsity");
        int groups = cols / group, slots = Math.multiplyExact(Math.multiplyExact(rows, groups), keep);
        float[] values = new float[slots];
        byte[] index = new byte[slots];
        for (int i = 0; i < rows; i++) {
            for (int g = 0; g < groups; g++) {
                int base = (i * groups + g) * keep, t = 0;
                for (int s = 0; s < group; s++) {
                    float v = w[i * ld + g * group + s];
                    if (v == 0f) continue;
                    if (t == keep) {
                        throw new IllegalArgumentException("row " + i + ", columns " + g * group + ".." + (g * group + group - 1) + " hold more than "
                                + keep + " non-zeros: not " + keep + ":" + group + " sparse (prune with N:M first)");
                    }
                    values[base + t] = v;
                    index[base + t++] = (byte) s;
                }
                // Spare slots: zeros at the lowest unused positions, keeping indices increasing.
                if (t < keep) fillSpareSlots(values, index, base, t, keep, group);
            }
        }
        return new NmSparseMatrix(rows, cols, keep, group, values, index);
    }

    private static void fillSpareSlots(float[] values, byte[] index, int base, int used, int keep, int group) {
        boolean[] taken = new boolean[group];
        for (int t = 0; t < used; t++) taken[index[base + t]] = true;
        int[] all = new int[keep];
        for (int t = 0; t < used; t++) all[t] = index[base + t];
        for (int s = 0, t = used; t < keep; s++) if (!taken[s]) all[t++] = s;
        float[] v = new float[group];
        for (int t = 0; t < used; t++) v[index[base + t]] = values[base + t];
        Arrays.sort(all);
        for (int t = 0; t < keep; t++) {
            index[base + t] = (byte) all[t];
            values[base + t] = v[all[t]];
        }
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int cols() {
        return cols;
    }

    /** N: values kept per group. */
    public int keep() {
        return keep;
    }

    /** M: the group length. */
    public int group() {
        return group;
    }

    /** Copy of the slot values. */
    public float[] values() {
        return values.clone();
    }

    /** Copy of the slot indices within their group. */
    public byte[] index() {
        return index.clone();
    }

    /** The column of slot q. */
    public int column(int q) {
        return q / keep % (cols / group) * group + index[q];
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
        return keep + ":" + group;
    }

    @Override
    public long bytes() {
        return 4L * values.length + index.length;
    }

    @Override
    public float[] toDense() {
        float[] d = new float[SparseMatrix.denseSize(rows, cols)];
        int perRow = cols / group * keep;
        for (int q = 0; q < values.length; q++) d[q / perRow * cols + column(q)] = values[q];
        return d;
    }

    @Override
    public NmSparseMatrix mapValues(RowValueFunction f) {
        float[] v = new float[values.length];
        int perRow = cols / group * keep;
        for (int q = 0; q < values.length; q++) v[q] = f.apply(q / perRow, values[q]);
        return new NmSparseMatrix(rows, cols, keep, group, v, index);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NmSparseMatrix m && m.rows == rows && m.cols == cols && m.keep == keep && m.group == group
                && Arrays.equals(m.values, values) && Arrays.equals(m.index, index);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(index) + Arrays.hashCode(values);
    }

    @Override
    public String toString() {
        return report();
    }
}
