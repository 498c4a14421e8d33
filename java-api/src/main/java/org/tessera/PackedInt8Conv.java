package org.tessera;

import org.tessera.kernels.spi.Backend;
import org.tessera.kernels.spi.PackedInt8Filters;

/**
 * A quantized convolution layer's s8 filters (k, r, s, c / groups), packed once with their scales (per tensor
 * or per output channel) for one backend's int8 convolution, together with the layer's {@link Conv2dParams}:
 * {@link Ops#conv2d(Tensor, org.tessera.kernels.spi.Int8Input, PackedInt8Conv, org.tessera.kernels.spi.Int8Output, Tensor)}
 * runs it on any input size. Independent of the tensor it was packed from. Close it to free the packed copy.
 */
public final class PackedInt8Conv implements AutoCloseable {
    private final PackedInt8Filters filters;
    private final Conv2dParams params;
    private final Backend backend;

    PackedInt8Conv(PackedInt8Filters filters, Conv2dParams params, Backend backend) {
        this.filters = filters;
        this.params = params;
        this.backend = backend;
    }

    /** Output channels. */
    public int outChannels() {
        return filters.k();
    }

    /** Input channels (all groups). */
    public int inChannels() {
        return filters.c();
    }

    /** Filter height and width. */
    public int[] window() {
        return new int[] {filters.r(), filters.s()};
    }

    /** Stride, padding, dilation and groups of the layer. */
    public Conv2dParams params() {
        return params;
    }

    /** The backend whose kernels packed it; only they can use it. */
    public Backend backend() {
        return backend;
    }

    PackedInt8Filters filters() {
        return filters;
    }

    /** Frees the packed copy. Idempotent. */
    @Override
    public void close() {
        filters.close();
    }

    @Override
    public String toString() {
        return "PackedInt8Conv(k=" + filters.k() + ", " + filters.r() + "x" + filters.s() + ", c=" + filters.c() + ", " + params + ", "
                + backend.name() + ")";
    }
}
