package org.tessera.kernels.conv;

import java.lang.foreign.MemorySegment;
import org.tessera.kernels.spi.Conv2dShape;
import org.tessera.kernels.spi.Int8Input;
import org.tessera.kernels.spi.Int8Output;

/**
 * A direct int8 depthwise convolution kernel (groups = c = k): exact s32 sums over the in-bounds taps of
 * {@code (x - zx) * w} per channel (padding is real zero, so it is skipped), then the {@link Int8Output}
 * epilogue in the int8 GEMM's float operations. Single-threaded: the caller splits output rows over the pool
 * and validates every argument.
 */
public interface Int8DepthwiseConv2d {
    /** The kernel's id, e.g. {@code i8_dwconv2d__panama256}. */
    String kernelId();

    /**
     * Output rows [row0, row1) of the flattened (n, oh) range.
     *
     * @param wt     s8 filters transposed to (r, s, c), channel fastest
     * @param scales f32 (c) weight scales
     * @param bias   f32 (c) or null
     */
    void rows(Conv2dShape shape, Int8Input xq, MemorySegment x, long xOffset, MemorySegment wt, MemorySegment scales, Int8Output out,
              MemorySegment bias, long biasOffset, MemorySegment y, long yOffset, int row0, int row1);
}
