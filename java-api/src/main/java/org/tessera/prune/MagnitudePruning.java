package org.tessera.prune;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;

/**
 * Magnitude pruning (Han et al. 2015; Zhu and Gupta 2017): remove the weights, blocks, groups or channels
 * that contribute least, measured by |w| (blocks and channels by their L2 norm). Every method reaches the
 * requested sparsity exactly: {@code round(sparsity * units)} units are pruned, ties broken by position, so
 * results are deterministic. Weights are row-major (rows, cols) = (outputs, inputs), as the sparse kernels
 * take them.
 */
public final class MagnitudePruning {
    private MagnitudePruning() {}

    /** Unstructured: prunes the {@code round(sparsity * rows * cols)} weights of smallest |w|. */
    public static PruningMask unstructured(float[] w, int rows, int cols, double sparsity) {
        check(w, rows, cols, sparsity);
        return blocks(w, rows, cols, 1, 1, sparsity);
    }

    /**
     * Block-structured: cuts W into (br, bc) blocks (edge blocks partial) and prunes the
     * {@code round(sparsity * blocks)} blocks of smallest L2 norm; use the block of the sparse kernel
     * (4x1 for {@code BsrMatrix}) so the zeros turn into skipped work.
     */
    public static PruningMask blocks(float[] w, int rows, int cols, int br, int bc, double sparsity) {
        check(w, rows, cols, sparsity);
        if (br < 1 || bc < 1) throw new IllegalArgumentException("block must be at least 1x1, got " + br + "x" + bc);
        int blockRows = (rows + br - 1) / br, blockCols = (cols + bc - 1) / bc, units = blockRows * blockCols;
        double[] score = new double[units];
        for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) score[i / br * blockCols + j / bc] += (double) w[i * cols + j] * w[i * cols + j];
        BitSet prunedBlocks = smallest(score, count(units, sparsity));
        BitSet keep = new BitSet(rows * cols);
        for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) if (!prunedBlocks.get(i / br * blockCols + j / bc)) keep.set(i * cols + j);
        return new PruningMask(rows, cols, keep);
    }

    /**
     * Structured N:M: in every group of M consecutive weights of a row keeps the N of largest |w| (cols must be
     * a multiple of M). Sparsity is 1 - N/M by construction.
     */
    public static PruningMask nOfM(float[] w, int rows, int cols, int n, int m) {
        check(w, rows, cols, 0);
        if (m < 1 || n < 1 || n > m) throw new IllegalArgumentException("N:M needs 1 <= N <= M, got " + n + ":" + m);
        if (cols % m != 0) throw new IllegalArgumentException("cols (" + cols + ") must be a multiple of M = " + m);
        BitSet keep = new BitSet(rows * cols);
        double[] score = new double[m];
        for (int i = 0; i < rows; i++) {
            for (int g = 0; g < cols; g += m) {
                for (int t = 0; t < m; t++) score[t] = Math.abs(w[i * cols + g + t]);
                BitSet drop = smallest(score, m - n);
                for (int t = 0; t < m; t++) if (!drop.get(t)) keep.set(i * cols + g + t);
            }
        }
        return new PruningMask(rows, cols, keep);
    }

    /** Channel (filter) pruning: prunes the {@code round(sparsity * rows)} whole rows (output channels) of smallest L2 norm. */
    public static PruningMask channels(float[] w, int rows, int cols, double sparsity) {
        check(w, rows, cols, sparsity);
        return blocks(w, rows, cols, 1, Math.max(cols, 1), sparsity);
    }

    /**
     * Global unstructured pruning: one |w| threshold across all layers, so layers with many small weights
     * lose more (the usual choice for whole networks). Prunes {@code round(sparsity * total weights)}.
     *
     * @param layers each layer's weights; shapes[i] = {rows, cols} of layers[i]
     */
    public static List<PruningMask> global(List<float[]> layers, List<int[]> shapes, double sparsity) {
        if (layers.size() != shapes.size()) throw new IllegalArgumentException("one shape per layer: " + layers.size() + " layers, " + shapes.size() + " shapes");
        int total = 0;
        for (int l = 0; l < layers.size(); l++) {
            check(layers.get(l), shapes.get(l)[0], shapes.get(l)[1], sparsity);
            total = Math.addExact(total, layers.get(l).length);
        }
        double[] score = new double[total];
        int at = 0;
        for (float[] w : layers) for (float v : w) score[at++] = Math.abs(v);
        BitSet pruned = smallest(score, count(total, sparsity));
        List<PruningMask> masks = new ArrayList<>();
        at = 0;
        for (int l = 0; l < layers.size(); l++) {
            int size = layers.get(l).length;
            BitSet keep = new BitSet(size);
            for (int q = 0; q < size; q++) if (!pruned.get(at + q)) keep.set(q);
            at += size;
            masks.add(new PruningMask(shapes.get(l)[0], shapes.get(l)[1], keep));
        }
        return masks;
    }

    static int count(int units, double sparsity) {
        return (int) Math.round(sparsity * units);
    }

    /** The positions of the {@code count} smallest scores (ties: lower position first); a primitive sort, no boxing. */
    private static BitSet smallest(double[] score, int count) {
        BitSet out = new BitSet(score.length);
        if (count == 0) return out;
        double[] sorted = score.clone();
        Arrays.sort(sorted);
        double threshold = sorted[count - 1];
        int below = 0;
        for (double v : score) if (v < threshold) below++;
        int ties = count - below;
        for (int i = 0; i < score.length; i++) {
            if (score[i] < threshold) out.set(i);
            else if (score[i] == threshold && ties > 0) {
                out.set(i);
                ties--;
            }
        }
        return out;
    }

    private static void check(float[] w, int rows, int cols, double sparsity) {
        if (w == null) throw new NullPointerException("weights are null");
        if (rows < 0 || cols < 0) throw new IllegalArgumentException("shape must be >= 0, got " + rows + "x" + cols);
        if ((long) rows * cols != w.length) throw new IllegalArgumentException(rows + "x" + cols + " needs " + (long) rows * cols + " weights, got " + w.length);
        if (!(sparsity >= 0 && sparsity <= 1)) throw new IllegalArgumentException("sparsity must be in [0, 1], got " + sparsity);
        for (int q = 0; q < w.length; q++) {
            if (Float.isNaN(w[q])) throw new IllegalArgumentException("weight " + q + " is NaN: magnitude pruning needs finite weights (check the model for NaN first)");
        }
    }
}
