package org.tessera;

import org.tessera.kernels.spi.Backend;
import org.tessera.kernels.spi.PackedInt8;

/**
 * Quantized s8 weights W (k, n), packed once with their column sums (for activation zero points) and
 * scales into the layout of one backend's int8 GEMM, for
 * {@link Ops#matmul(Tensor, org.tessera.kernels.spi.Int8Input, PackedInt8Matrix, org.tessera.kernels.spi.Int8Output, Tensor)}.
 * Independent of the tensor it was packed from. Close it to free the packed copy.
 */
public final class PackedInt8Matrix implements AutoCloseable {
    private final PackedInt8 packed;
    private final Backend backend;

    PackedInt8Matrix(PackedInt8 packed, Backend backend) {
        this.packed = packed;
        this.backend = backend;
    }

    /** Rows of W: the inner dimension. */
    public long rows() {
        return packed.k();
    }

    /** Columns of W: output channels. */
    public long cols() {
        return packed.n();
    }

    /** The backend whose kernels packed it; only they can use it. */
    public Backend backend() {
        return backend;
    }

    /** The kernel that runs products with these weights (the native AVX2 kernels pick one per weight matrix). */
    public String kernelId() {
        return packed.owner().kernelId(packed);
    }

    PackedInt8 packed() {
        return packed;
    }

    /** Frees the packed copy. Idempotent. */
    @Override
    public void close() {
        packed.close();
    }

    @Override
    public String toString() {
        return "PackedInt8Matrix(" + rows() + " x " + cols() + ", " + backend.name() + ", " + kernelId() + ")";
    }
}
