package org.tessera.prune;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.tessera.kernels.sparse.BsrMatrix;
import org.tessera.kernels.sparse.CsrMatrix;

/** Per-layer sparsity and what each format would cost in memory, as a table. Add layers, then print it. */
public final class SparsityReport {
    /** One layer: name, shape, non-zeros, and bytes dense / CSR / BSR 4x1 (f32). */
    public record Layer(String name, int rows, int cols, long nonZeros, long denseBytes, long csrBytes, long bsr4x1Bytes) {
        public double sparsity() {
            long size = (long) rows * cols;
            return size == 0 ? 0 : 1.0 - (double) nonZeros / size;
        }
    }

    private final List<Layer> layers = new ArrayList<>();

    /** Measures w (row-major rows x cols) and adds it as a row of the report; returns this. */
    public SparsityReport add(String name, float[] w, int rows, int cols) {
        CsrMatrix csr = CsrMatrix.fromDense(w, rows, cols);
        BsrMatrix bsr = BsrMatrix.fromDense(w, rows, cols, 4, 1);
        layers.add(new Layer(name, rows, cols, csr.nonZeros(), 4L * rows * cols, csr.bytes(), bsr.bytes()));
        return this;
    }

    public List<Layer> layers() {
        return List.copyOf(layers);
    }

    /** Overall sparsity, weighting layers by size. */
    public double sparsity() {
        long size = 0, nz = 0;
        for (Layer l : layers) {
            size += (long) l.rows() * l.cols();
            nz += l.nonZeros();
        }
        return size == 0 ? 0 : 1.0 - (double) nz / size;
    }

    /** A Markdown table, one row per layer plus the total. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("| layer | shape | non-zeros | sparsity | dense KiB | CSR KiB | BSR 4x1 KiB |\n|---|---|---:|---:|---:|---:|---:|\n");
        long nz = 0, dense = 0, csr = 0, bsr = 0;
        for (Layer l : layers) {
            sb.append(String.format(Locale.ROOT, "| %s | %dx%d | %d | %.1f%% | %.1f | %.1f | %.1f |%n", l.name(), l.rows(), l.cols(), l.nonZeros(),
                    100 * l.sparsity(), l.denseBytes() / 1024.0, l.csrBytes() / 1024.0, l.bsr4x1Bytes() / 1024.0));
            nz += l.nonZeros();
            dense += l.denseBytes();
            csr += l.csrBytes();
            bsr += l.bsr4x1Bytes();
        }
        sb.append(String.format(Locale.ROOT, "| total | | %d | %.1f%% | %.1f | %.1f | %.1f |%n", nz, 100 * sparsity(), dense / 1024.0, csr / 1024.0, bsr / 1024.0));
        return sb.toString();
    }
}
