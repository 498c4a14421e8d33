package org.tessera.nn;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.tessera.Tensor;
import org.tessera.io.SafetensorsFile;
import org.tessera.kernels.DType;

/**
 * A pruned weight in a model file as CSR: the weight viewed as (shape[0], rest) rows, stored as three tensors
 * {@code <name>.csr_values} (F32, nnz), {@code <name>.csr_col_indices} (I32, nnz, increasing within a row) and
 * {@code <name>.csr_row_offsets} (I32, rows + 1). Reading checks every index before building the dense weight, so
 * a corrupt or hostile file is an {@link IOException}, never an out-of-bounds write. int8 model files store their
 * s8 weights the same way, with I8 values, where that is smaller (above ~80% zeros).
 */
final class CsrWeights {
    static final String VALUES = ".csr_values", COLUMNS = ".csr_col_indices", OFFSETS = ".csr_row_offsets";
    /** Stored as CSR from this fraction of zeros: below it, values + indices take more bytes than the dense floats. */
    static final double MIN_ZEROS = 0.5;

    private CsrWeights() {}

    /** Whether {@code w} (2-D or more) is sparse enough for CSR to be smaller. */
    static boolean worthIt(Tensor w) {
        if (w.rank() < 2 || w.numel() == 0) return false;
        return SparseLinear.zeroFraction(w.toFloatArray()) >= MIN_ZEROS;
    }

    /** The three CSR tensors of {@code w}, owned by the caller. */
    static Map<String, Tensor> encode(String name, Tensor w) {
        float[] v = w.toFloatArray();
        int rows = (int) w.dim(0), cols = (int) (w.numel() / rows), nnz = 0;
        for (float x : v) if (x != 0f) nnz++;
        float[] values = new float[nnz];
        int[] columns = new int[nnz], offsets = new int[rows + 1];
        for (int r = 0, k = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                float x = v[r * cols + c];
                if (x == 0f) continue;
                values[k] = x;
                columns[k++] = c;
            }
            offsets[r + 1] = k;
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        out.put(name + VALUES, Tensor.of(values, nnz));
        out.put(name + COLUMNS, ints(columns));
        out.put(name + OFFSETS, ints(offsets));
        return out;
    }

    private static Tensor ints(int[] a) {
        Tensor t = Tensor.allocate(DType.S32, a.length);
        for (int i = 0; i < a.length; i++) t.segment().setAtIndex(ValueLayout.JAVA_INT, i, a[i]);
        return t;
    }

    /** The dense weight of shape {@code shape} stored as CSR under {@code name}, every index checked. */
    static float[] decode(SafetensorsFile f, String name, long[] shape) throws IOException {
        Layout l = layout(f, name, shape, "F32");
        float[] values = f.readFloats(name + VALUES), dense = new float[l.rows * l.cols];
        for (int k = 0; k < values.length; k++) dense[l.at[k]] = values[k];
        return dense;
    }

    /** As {@link #decode}, for an int8 layer's s8 weight (I8 values). */
    static byte[] decodeInt8(SafetensorsFile f, String name, long[] shape) throws IOException {
        Layout l = layout(f, name, shape, "I8");
        byte[] dense = new byte[l.rows * l.cols];
        try (Tensor t = f.read(name + VALUES)) {
            byte[] values = t.toByteArray();
            for (int k = 0; k < values.length; k++) dense[l.at[k]] = values[k];
        }
        return dense;
    }

    /** Whether an s8 weight of {@code rows} rows takes fewer bytes as CSR (1 + 4 bytes per non-zero, 4 per row). */
    static boolean worthItInt8(byte[] q, int rows) {
        long nnz = 0;
        for (byte b : q) if (b != 0) nnz++;
        return q.length > 0 && 5 * nnz + 4L * (rows + 1) < q.length;
    }

    /** The three CSR tensors of an s8 weight (values I8), owned by the caller. */
    static Map<String, Tensor> encodeInt8(String name, byte[] q, int rows) {
        int cols = q.length / rows, nnz = 0;
        for (byte b : q) if (b != 0) nnz++;
        Tensor values = Tensor.allocate(DType.S8, nnz);
        int[] columns = new int[nnz], offsets = new int[rows + 1];
        for (int r = 0, k = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                byte b = q[r * cols + c];
                if (b == 0) continue;
                values.segment().set(ValueLayout.JAVA_BYTE, k, b);
                columns[k++] = c;
            }
            offsets[r + 1] = k;
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        out.put(name + VALUES, values);
        out.put(name + COLUMNS, ints(columns));
        out.put(name + OFFSETS, ints(offsets));
        return out;
    }

    /** Where each stored value goes in the dense (rows x cols) weight, after checking every index. */
    private record Layout(int rows, int cols, int[] at) {}

    private static Layout layout(SafetensorsFile f, String name, long[] shape, String valueType) throws IOException {
        String where = f.path() + ": sparse weight " + name;
        for (String part : new String[] {VALUES, COLUMNS, OFFSETS}) {
            if (!f.contains(name + part)) throw new IOException(where + " lacks its tensor " + name + part);
        }
        long numel = Arrays.stream(shape).reduce(1, Math::multiplyExact);
        if (shape.length < 2 || shape[0] < 1 || numel > Integer.MAX_VALUE) throw new IOException(where + " has an unusable shape " + Arrays.toString(shape));
        int rows = (int) shape[0], cols = (int) (numel / rows);
        SafetensorsFile.Entry ve = f.entry(name + VALUES), ce = f.entry(name + COLUMNS), oe = f.entry(name + OFFSETS);
        if (ve.shape().length != 1 || ce.shape().length != 1 || oe.shape().length != 1 || oe.shape()[0] != rows + 1L || ce.shape()[0] != ve.shape()[0] || ve.shape()[0] > numel) {
            throw new IOException(where + ": values " + Arrays.toString(ve.shape()) + ", column indices " + Arrays.toString(ce.shape()) + " and row offsets "
                    + Arrays.toString(oe.shape()) + " do not describe a " + rows + " x " + cols + " matrix");
        }
        if (!ce.dtype().equals("I32") || !oe.dtype().equals("I32")) throw new IOException(where + ": indices must be I32, got " + ce.dtype() + " and " + oe.dtype());
        if (valueType.equals("I8") != ve.dtype().equals("I8")) throw new IOException(where + ": values are " + ve.dtype() + ", expected " + (valueType.equals("I8") ? "I8" : "a float type"));
        int[] columns = readInts(f, name + COLUMNS), offsets = readInts(f, name + OFFSETS);
        int nnz = columns.length;
        if (offsets[0] != 0 || offsets[rows] != nnz) throw new IOException(where + ": row offsets must run from 0 to " + nnz + ", got " + offsets[0] + " to " + offsets[rows]);
        int[] at = new int[nnz];
        for (int r = 0; r < rows; r++) {
            if (offsets[r + 1] < offsets[r] || offsets[r + 1] > nnz) throw new IOException(where + ": row offsets decrease or pass " + nnz + " at row " + r);
            for (int k = offsets[r], last = -1; k < offsets[r + 1]; k++) {
                int c = columns[k];
                if (c <= last || c >= cols) throw new IOException(where + ": column index " + c + " at " + k + " (row " + r + ") is out of order or outside [0, " + cols + ")");
                last = c;
                at[k] = r * cols + c;
            }
        }
        return new Layout(rows, cols, at);
    }

    private static int[] readInts(SafetensorsFile f, String name) {
        try (Tensor t = f.read(name)) {
            int[] a = new int[(int) t.numel()];
            for (int i = 0; i < a.length; i++) a[i] = t.segment().getAtIndex(ValueLayout.JAVA_INT, i);
            return a;
        }
    }
}
