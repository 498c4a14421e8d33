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
 * a corrupt or hostile file is an {@link IOException}, never an out-of-bounds write.
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
        float[] values = f.readFloats(name + VALUES);
        int[] columns = readInts(f, name + COLUMNS), offsets = readInts(f, name + OFFSETS);
        if (offsets[0] != 0 || offsets[rows] != values.length) throw new IOException(where + ": row offsets must run from 0 to " + values.length + ", got " + offsets[0] + " to " + offsets[rows]);
        float[] dense = new float[(int) numel];
        for (int r = 0; r < rows; r++) {
            if (offsets[r + 1] < offsets[r]) throw new IOException(where + ": row offsets decrease at row " + r);
            for (int k = offsets[r], last = -1; k < offsets[r + 1]; k++) {
                int c = columns[k];
                if (c <= last || c >= cols) throw new IOException(where + ": column index " + c + " at " + k + " (row " + r + ") is out of order or outside [0, " + cols + ")");
                last = c;
                dense[r * cols + c] = values[k];
            }
        }
        return dense;
    }

    private static int[] readInts(SafetensorsFile f, String name) {
        try (Tensor t = f.read(name)) {
            int[] a = new int[(int) t.numel()];
            for (int i = 0; i < a.length; i++) a[i] = t.segment().getAtIndex(ValueLayout.JAVA_INT, i);
            return a;
        }
    }
}
