package org.tessera;

import org.tessera.kernels.spi.Backend;
import org.tessera.kernels.spi.PackedF32Filters;

/**
 * A convolution layer's f32 filters (k, r, s, c / groups), prepared once for one backend's convolution together
 * with the layer's {@link Conv2dParams}: {@link Ops#conv2d(Tensor, PackedConv, Tensor, Activation)} runs it on any
 * input size without re-packing the filters per call, as inference with fixed weights wants. Independent of the
 * tensor it was packed from (later changes to that tensor do not show). Close it to free the packed copy.
 */
public final class PackedConv implements AutoCloseable {
    private final PackedF32Filters filters;
    private final Conv2dParams params;
    private final Backend backend;

    PackedConv(PackedF32Filters filters, Conv2dParams params, Backend backend) {
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

    PackedF32Filters filters() {
        return filters;
    }

    /** Frees the packed copy. Idempotent. */
    @Override
    public void close() {
        filters.close();
    }

    @Override
    public String toString() {
        return "PackedConv(k=" + filters.k() + ", " + filters.r() + "x" + filters.s() + ", c=" + filters.c() + ", " + params + ", "
                + backend.name() + ")";
    }
}
