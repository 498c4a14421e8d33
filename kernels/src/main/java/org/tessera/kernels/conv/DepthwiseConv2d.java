package org.tessera.kernels.conv;

import java.lang.foreign.MemorySegment;
import org.tessera.kernels.spi.Conv2dShape;

/**
 * A direct depthwise convolution kernel (groups = c = k: each channel convolved with its own r x s filter).
 * NHWC keeps a pixel's channels adjacent, so kernels vectorize across channels. Single-threaded: the caller
 * splits output rows over the pool. Arguments are validated by the caller.
 */
public interface DepthwiseConv2d {
    /** The kernel's id, e.g. {@code f32_dwconv2d__avx2}. */
    String kernelId();

    /**
     * Output rows [row0, row1) of the flattened (n, oh) range: y[n][oh][ow][c] = act(sum over
     * (r, s) of x[n][ih][iw][c] * wt[r][s][c], then + bias[c]), taps in the padding skipped.
     *
     * @param wt   the filters transposed to (r, s, c), so a tap's weights are adjacent like the pixel's channels, one tap
     *             {@link #tapStride} floats after the other
     * @param bias (c) or null
     */
    void rows(Conv2dShape shape, MemorySegment x, long xOffset, MemorySegment wt, MemorySegment bias, long biasOffset,
              MemorySegment y, long yOffset, boolean relu, int row0, int row1);

    /** Floats from one tap's weights to the next in the {@code wt} that {@link #rows} reads: c, or more. */
    default long tapStride(Conv2dShape shape) {
        return shape.c();
    }

    /**
     * Channel block of {@link #weightGradient} for this shape: channel ranges handed to it start on multiples of
     * it; 0 when the kernel has no weight gradient for the shape (the caller then runs {@link DepthwiseBackward}).
     */
    default int weightGradientChannels(Conv2dShape shape) {
        return 0;
    }

    /**
     * Channels [ch0, ch1) of dw (c, r, s), overwritten: dw[ch][i][j] = sum over output pixels of dy times the input
     * tap (i, j) reads, taps in the padding skipped; and of db (c) = sum of dy over output pixels, unless db is null.
     *
     * @param sums a (r s + 1, c) f32 scratch block; the call uses columns [ch0, ch1) only
     */
    default void weightGradient(Conv2dShape shape, MemorySegment x, long xOffset, MemorySegment dy, long dyOffset,
                                MemorySegment sums, MemorySegment dw, long dwOffset, MemorySegment db, long dbOffset, int ch0, int ch1) {
        throw new UnsupportedOperationException(kernelId() + " has no weight-gradient kernel");
    }
}
