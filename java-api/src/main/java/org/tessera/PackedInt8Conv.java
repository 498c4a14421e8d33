package org.tessera;

import org.tessera.kernels.spi.Backend;
import org.tessera.kernels.spi.PackedInt8Filters;

/**
 * A quantized convolution layer's s8 filters (k, r, s, c / groups), packed once with their scales (per tensor
 * or per output channel) for one backend's int8 convolution, together with the layer's {@link Conv2dParams}:
 * {@link Ops#conv2d(Tensor, org.tessera.kernels.spi.Int8Input, PackedInt8Conv, org.tessera.kernels.spi.Int8Output, Tensor)}
 * runs it on any input size. Independent of the tensor it was packed from. Close it to free the packed copy.
 */
public final class PackedInt8Conv extends PackedConvFilters {
    private final PackedInt8Filters filters;

    PackedInt8Conv(PackedInt8Filters filters, Conv2dParams params, Backend backend) {
        super(filters.k(), filters.r(), filters.s(), filters.c(), params, backend, filters.owner(), filters::close);
        this.filters = filters;
    }

    PackedInt8Filters filters() {
        return filters;
    }
}
