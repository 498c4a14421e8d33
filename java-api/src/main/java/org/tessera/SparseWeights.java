package org.tessera;

import org.tessera.kernels.spi.Backend;
import org.tessera.kernels.spi.PackedSparse;

/**
 * Pruned weights W (n, k) ready for {@link Ops#spmm}: packed for the sparse kernels, or, when
 * {@link SparseCrossover} says the dense GEMM is faster at the expected batch width, kept dense. Created by
 * {@link Ops#packSparse} or {@link Ops#packSparseInt8}; independent of the matrix it came from. Close it to
 * free the memory.
 */
public final class SparseWeights implements AutoCloseable {
    private final Backend backend;
    private final PackedSparse packed; // null when dense
    private final Tensor dense;        // null when sparse
    private final String format;
    private final double sparsity;

    SparseWeights(Backend backend, PackedSparse packed, Tensor dense, String format, double sparsity) {
        this.backend = backend;
        this.packed = packed;
        this.dense = dense;
        this.format = format;
        this.sparsity = sparsity;
    }

    /** Rows of W: outputs. */
    public int rows() {
        return packed != null ? packed.n() : (int) dense.dim(0);
    }

    /** Columns of W: inputs. */
    public int cols() {
        return packed != null ? packed.k() : (int) dense.dim(1);
    }

    /** Whether products run on the sparse kernels (false: the dense GEMM was faster at this sparsity). */
    public boolean sparseKernels() {
        return packed != null;
    }

    /** The source format, e.g. {@code csr}, {@code bsr4x1}, {@code 2:4}. */
    public String format() {
        return format;
    }

    /** Fraction of W that is zero. */
    public double sparsity() {
        return sparsity;
    }

    /** The backend whose kernels run it. */
    public Backend backend() {
        return backend;
    }

    PackedSparse packed() {
        return packed;
    }

    Tensor dense() {
        return dense;
    }

    @Override
    public void close() {
        if (packed != null) packed.close();
        if (dense != null) dense.close();
    }

    @Override
    public String toString() {
        return String.format("SparseWeights(%dx%d %s, %.1f%% sparse, %s on %s)", rows(), cols(), format, 100 * sparsity,
                packed != null ? packed.owner().kernelId(packed) : "dense GEMM", backend.name());
    }
}
