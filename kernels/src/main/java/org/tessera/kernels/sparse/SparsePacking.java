package org.tessera.kernels.sparse;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.tessera.kernels.DType;
import org.tessera.kernels.HostStorage;
import org.tessera.kernels.spi.Int8Output;
import org.tessera.kernels.spi.PackedSparse;
import org.tessera.kernels.spi.SparseKernels;

/**
 * Converts every {@link SparseMatrix} format into the one layout the host kernels run (see
 * {@link PackedSparse}): CSR and N:M become 1x1 blocks (N:M keeps its fixed N slots per group, spare zeros
 * included), BSR keeps its blocks, transposed to column-major inside a block.
 */
final class SparsePacking {
    private SparsePacking() {}

    static PackedSparse pack(SparseKernels owner, SparseMatrix w, boolean int8, float[] scales) {
        if (w == null) throw new NullPointerException("sparse weights are null");
        int n = w.rows();
        if (int8) checkScales(scales, n);
        int br, bc;
        int[] ptr, col;
        float[] values; // column-major within each block
        switch (w) {
            case CsrMatrix c -> {
                br = bc = 1;
                ptr = c.rowPtr();
                col = c.colIdx();
                values = c.values();
            }
            case NmSparseMatrix s -> {
                br = bc = 1;
                int perRow = s.cols() / s.group() * s.keep();
                ptr = new int[n + 1];
                for (int i = 0; i <= n; i++) ptr[i] = Math.multiplyExact(i, perRow);
                col = new int[(int) s.storedValues()];
                for (int q = 0; q < col.length; q++) col[q] = s.column(q);
                values = s.values();
            }
            case BsrMatrix b -> {
                br = b.blockRows();
                bc = b.blockCols();
                ptr = b.blockRowPtr();
                col = b.blockCol();
                for (int p = 0; p < col.length; p++) col[p] *= bc;
                float[] rowMajor = b.values();
                values = new float[rowMajor.length];
                int size = br * bc;
                for (int p = 0; p < col.length; p++) {
                    for (int r = 0; r < br; r++) for (int s = 0; s < bc; s++) values[p * size + s * br + r] = rowMajor[p * size + r * bc + s];
                }
            }
        }
        if (int8) checkInt8(values, w.format());
        HostStorage rowPtr = null, colIdx = null, vals = null, rowsums = null, sc = null;
        try {
            rowPtr = ints(ptr);
            colIdx = ints(col);
            if (int8) {
                vals = HostStorage.allocate(values.length);
                for (int q = 0; q < values.length; q++) vals.segment().set(ValueLayout.JAVA_BYTE, q, (byte) values[q]);
                rowsums = ints(rowSums(values, ptr, br, bc, n));
                sc = HostStorage.allocate(4L * n);
                for (int i = 0; i < n; i++) sc.segment().setAtIndex(ValueLayout.JAVA_FLOAT, i, scales.length == 1 ? scales[0] : scales[i]);
            } else {
                vals = HostStorage.allocate(4L * values.length);
                MemorySegment.copy(values, 0, vals.segment(), ValueLayout.JAVA_FLOAT, 0, values.length);
            }
            return new PackedSparse(owner, w.format(), int8 ? DType.S8 : DType.F32, n, w.cols(), br, bc, ptr, rowPtr, colIdx, vals,
                    rowsums, sc, w.nonZeros());
        } catch (RuntimeException | Error e) {
            for (HostStorage s : new HostStorage[] {rowPtr, colIdx, vals, rowsums, sc}) if (s != null) s.close();
            throw e;
        }
    }

    private static HostStorage ints(int[] a) {
        HostStorage s = HostStorage.allocate(4L * a.length);
        MemorySegment.copy(a, 0, s.segment(), ValueLayout.JAVA_INT, 0, a.length);
        return s;
    }

    private static int[] rowSums(float[] values, int[] ptr, int br, int bc, int n) {
        int[] sums = new int[n];
        for (int b = 0; b + 1 < ptr.length; b++) {
            for (int p = ptr[b]; p < ptr[b + 1]; p++) {
                for (int s = 0; s < bc; s++) {
                    for (int r = 0; r < br && b * br + r < n; r++) sums[b * br + r] += (int) values[p * br * bc + s * br + r];
                }
            }
        }
        return sums;
    }

    private static void checkScales(float[] scales, int n) {
        if (scales == null) throw new NullPointerException("scales is null");
        if (scales.length != 1 && scales.length != n) {
            throw new IllegalArgumentException("scales must hold 1 (per tensor) or n = " + n + " (per row) values, got " + scales.length);
        }
        for (float s : scales) Int8Output.checkScale("weight scale", s);
    }

    private static void checkInt8(float[] values, String format) {
        for (int q = 0; q < values.length; q++) {
            float v = values[q];
            if (!(v >= -128f && v <= 127f) || v != Math.rint(v)) {
                throw new IllegalArgumentException(format + " value " + v + " (stored value " + q + ") is not an s8 integer in [-128, 127]: "
                        + "quantize the weights first, e.g. w.mapValues((row, v) -> Math.round(v / scale[row]))");
            }
        }
    }
}
