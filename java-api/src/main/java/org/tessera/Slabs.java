package org.tessera;

/**
 * Maps same-shape tensors onto the (rows, cols, ld) blocks that elementwise kernels take: the last
 * dimension becomes the columns, and leading dimensions merge into rows as far as every operand's strides
 * allow; dimensions that cannot merge are looped over, one kernel call per slab.
 */
final class Slabs {
    /** Receives one slab: the element offset of its first element in each operand's storage. */
    @FunctionalInterface
    interface Body {
        void run(long[] offsets);
    }

    final long rows, cols;
    /** Row stride (elements) of each operand. */
    final long[] ld;
    private final long[] outerShape;
    private final long[][] outerStrides;
    private final long[] baseOffsets;

    private Slabs(long rows, long cols, long[] ld, long[] outerShape, long[][] outerStrides, long[] baseOffsets) {
        this.rows = rows;
        this.cols = cols;
        this.ld = ld;
        this.outerShape = outerShape;
        this.outerStrides = outerStrides;
        this.baseOffsets = baseOffsets;
    }

    /** True if a kernel can read {@code t} row by row: unit stride along the last dimension. */
    static boolean rowContiguous(Tensor t) {
        return t.rank() == 0 || t.dim(-1) <= 1 || t.strides()[t.rank() - 1] == 1;
    }

    /** The slabs of operands that all have the same shape and are {@link #rowContiguous}. */
    static Slabs of(Tensor... operands) {
        long[] shape = operands[0].shape();
        int rank = shape.length, n = operands.length;
        long[][] strides = new long[n][];
        long[] base = new long[n], ld = new long[n];
        for (int o = 0; o < n; o++) {
            strides[o] = operands[o].strides();
            base[o] = operands[o].offset();
        }
        if (rank == 0) return new Slabs(1, 1, ones(n), new long[0], new long[n][0], base);
        long cols = shape[rank - 1];
        if (rank == 1) return new Slabs(1, cols, fill(n, Math.max(cols, 1)), new long[0], new long[n][0], base);
        // Merge dims rank-2, rank-3, ... into rows while every operand stores them back to back.
        long rows = shape[rank - 2];
        for (int o = 0; o < n; o++) ld[o] = rows == 1 ? Math.max(cols, 1) : strides[o][rank - 2];
        int first = rank - 2;
        while (first > 0 && mergeable(strides, shape, first - 1, ld)) {
            rows *= shape[--first];
        }
        long[] outerShape = new long[first];
        System.arraycopy(shape, 0, outerShape, 0, first);
        long[][] outer = new long[n][first];
        for (int o = 0; o < n; o++) System.arraycopy(strides[o], 0, outer[o], 0, first);
        return new Slabs(rows, cols, ld, outerShape, outer, base);
    }

    /** Dim {@code d} merges into the rows below it if each step along it skips exactly those rows. */
    private static boolean mergeable(long[][] strides, long[] shape, int d, long[] ld) {
        long rowsBelow = 1;
        for (int i = d + 1; i < shape.length - 1; i++) rowsBelow *= shape[i];
        for (int o = 0; o < strides.length; o++) {
            if (shape[d] != 1 && strides[o][d] != rowsBelow * ld[o]) return false;
        }
        return true;
    }

    /** Calls {@code body} once per slab (once if everything merged). */
    void forEach(Body body) {
        long[] offsets = new long[baseOffsets.length];
        for (long d : outerShape) if (d == 0) return;
        long[] index = new long[outerShape.length];
        while (true) {
            for (int o = 0; o < offsets.length; o++) {
                long off = baseOffsets[o];
                for (int i = 0; i < index.length; i++) off += index[i] * outerStrides[o][i];
                offsets[o] = off;
            }
            body.run(offsets);
            int i = index.length - 1;
            while (i >= 0 && ++index[i] == outerShape[i]) index[i--] = 0;
            if (i < 0) return;
        }
    }

    private static long[] ones(int n) {
        return fill(n, 1);
    }

    private static long[] fill(int n, long v) {
        long[] a = new long[n];
        java.util.Arrays.fill(a, v);
        return a;
    }
}
