package org.tessera.prune;

import java.util.BitSet;

/**
 * Which weights of a (rows, cols) row-major matrix survive pruning. Immutable. After every optimizer step,
 * {@link #apply} puts the pruned weights back to zero (and {@link #applyToGradient} keeps their gradients
 * from moving them), so fine-tuning never revives them.
 */
public final class PruningMask {
    private final int rows, cols;
    private final BitSet keep;

    PruningMask(int rows, int cols, BitSet keep) {
        this.rows = rows;
        this.cols = cols;
        this.keep = (BitSet) keep.clone();
    }

    /** A mask that keeps everything. */
    public static PruningMask dense(int rows, int cols) {
        BitSet all = new BitSet(rows * cols);
        all.set(0, rows * cols);
        return new PruningMask(rows, cols, all);
    }

    /**
     * A mask that prunes whole columns: those set in {@code drop} (column indices below {@code cols}), in every row.
     * For a layer whose inputs are known to be zero, such as the inputs of removed filters.
     */
    public static PruningMask withoutColumns(int rows, int cols, BitSet drop) {
        if (rows < 0 || cols < 0 || (long) rows * cols > Integer.MAX_VALUE) throw new IllegalArgumentException("bad mask shape " + rows + "x" + cols);
        if (drop.length() > cols) throw new IllegalArgumentException("column " + (drop.length() - 1) + " is out of range for " + cols + " columns");
        BitSet keep = new BitSet(rows * cols);
        for (int i = 0; i < rows; i++) {
            for (int j = drop.nextClearBit(0); j < cols; j = drop.nextClearBit(j + 1)) keep.set(i * cols + j);
        }
        return new PruningMask(rows, cols, keep);
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    /** Whether weight (i, j) survives. */
    public boolean keeps(int i, int j) {
        return keep.get(i * cols + j);
    }

    /** A (rows, 1) mask keeping row i where this mask keeps any weight of row i: the bias mask of filter pruning. */
    public PruningMask rowMask() {
        BitSet rowsKept = new BitSet(rows);
        for (int i = 0; i < rows; i++) {
            int next = keep.nextSetBit(i * cols);
            if (next >= 0 && next < (i + 1) * cols) rowsKept.set(i);
        }
        return new PruningMask(rows, 1, rowsKept);
    }

    /** Weights kept. */
    public int kept() {
        return keep.cardinality();
    }

    /** Fraction pruned, in [0, 1]. */
    public double sparsity() {
        int size = rows * cols;
        return size == 0 ? 0 : 1.0 - (double) kept() / size;
    }

    /** Zeroes the pruned weights of w (row-major, rows * cols) in place and returns w. */
    public float[] apply(float[] w) {
        check(w);
        for (int q = keep.nextClearBit(0); q < rows * cols; q = keep.nextClearBit(q + 1)) w[q] = 0f;
        return w;
    }

    /** Zeroes the gradient of pruned weights in place (same as {@link #apply}); returns g. */
    public float[] applyToGradient(float[] g) {
        return apply(g);
    }

    /** This mask and another: a weight survives only if both keep it. */
    public PruningMask and(PruningMask other) {
        if (other.rows != rows || other.cols != cols) throw new IllegalArgumentException("masks differ in shape");
        BitSet b = (BitSet) keep.clone();
        b.and(other.keep);
        return new PruningMask(rows, cols, b);
    }

    private void check(float[] w) {
        if (w.length != rows * cols) throw new IllegalArgumentException("mask is " + rows + "x" + cols + " but the array holds " + w.length + " values");
    }

    @Override
    public String toString() {
        return String.format("PruningMask(%dx%d, %.1f%% pruned)", rows, cols, 100 * sparsity());
    }
}
