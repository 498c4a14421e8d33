package org.tessera;

import org.tessera.kernels.spi.Backend;
import org.tessera.kernels.spi.PackedF32Filters;

/**
 * A convolution layer's f32 filters (k, r, s, c / groups), prepared once for one backend's convolution together
 * with the layer's {@link Conv2dParams}: {@link Ops#conv2d(Tensor, PackedConv, Tensor, Activation)} runs it on any
 * input size without re-packing the filters per call, as inference with fixed weights wants. Independent of the
 * tensor it was packed from (later changes to that tensor do not show). Close it to free the packed copy.
 */
public final class PackedConv extends PackedConvFilters {
    private final PackedF32Filters filters;

    PackedConv(PackedF32Filters filters, Conv2dParams params, Backend backend) {
        super(filters.k(), filters.r(), filters.s(), filters.c(), params, backend, filters.owner(), filters::close);
        this.filters = filters;
    }

    PackedF32Filters filters() {
        return filters;
    }
}
