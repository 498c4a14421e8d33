package org.tessera.kernels.conv;

import java.lang.foreign.MemorySegment;
import org.tessera.kernels.spi.Conv2dShape;

/**
 * A direct convolution kernel for short patches (r * s * c at most {@link GemmConv2d#DIRECT_MAX_PATCH}, one
 * group): a first layer on 1 to 3 channels, where a GEMM's k loop would be a handful of steps long and
 * gathering patches costs more than the arithmetic. Single-threaded: the caller splits output rows over the
 * pool. Arguments are validated by the caller.
 */
public interface DirectConv2d {
    /** The kernel's id, e.g. {@code f32_conv2d_direct_6x16__avx2}. */
    String kernelId();

    /**
     * pool 1: output rows [row0, row1) of the flattened (n, oh) range, y[n][oh][ow][j] = act(sum over in-bounds
     * taps (i, t) and channels ch of x[n][ih][iw][ch] * wt[i][t][ch][j], then + bias[j]). pool > 1: then
     * non-overlapping pool x pool max pooling ({@link org.tessera.kernels.spi.ConvKernels#conv2dMaxPoolF32}'s
     * rule), rows [row0, row1) of the pooled (n, outH / pool) range; the unpooled rows never reach memory.
     *
     * @param wt   the filters transposed to (r, s, c, kPad), kPad = k rounded up to 8, zeros past k
     * @param bias (k) or null
     */
    void rows(Conv2dShape shape, int pool, MemorySegment x, long xOffset, MemorySegment wt, MemorySegment bias, long biasOffset,
              MemorySegment y, long yOffset, boolean relu, int row0, int row1);
}
