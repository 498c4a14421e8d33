package org.tessera;

import org.tessera.kernels.spi.Backend;
import org.tessera.kernels.spi.PackedF32;

/**
 * A weight matrix B (k, n) packed once into the layout of one backend's GEMM kernel, for inference where
 * the same weights meet many batches: {@link Ops#matmul(Tensor, PackedMatrix, Tensor, Activation, Tensor)}
 * then skips packing B on every call. Independent of the tensor it was packed from (which may be closed).
 * Close it to free the packed copy.
 */
public final class PackedMatrix implements AutoCloseable {
    private final PackedF32 packed;
    private final Backend backend;

    PackedMatrix(PackedF32 packed, Backend backend) {
        this.packed = packed;
        this.backend = backend;
    }

    /** Rows of B: the inner dimension of products with it. */
    public long rows() {
        return packed.k();
    }

    /** Columns of B: the output width. */
    public long cols() {
        return packed.n();
    }

    /** The backend whose kernels packed it; only they can use it. */
    public Backend backend() {
        return backend;
    }

    PackedF32 packed() {
        return packed;
    }

    /** Frees the packed copy. Idempotent. */
    @Override
    public void close() {
        packed.close();
    }

    @Override
    public String toString() {
        return "PackedMatrix(" + rows() + " x " + cols() + ", " + backend.name() + ", " + packed.owner().kernelId() + ")";
    }
}
