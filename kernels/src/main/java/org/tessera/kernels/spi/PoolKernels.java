package org.tessera.kernels.spi;

import org.tessera.kernels.Storage;

/**
 * 2-D pooling on NHWC f32 activations, forward and backward (and u8 max pooling for quantized models). x is (n, h, w, c), y (n, outH, outW, c); padding
 * is never read (max ignores it; average divides by the window or by the in-bounds count, see
 * {@code countPadding}). Outputs are overwritten; gradients dx are overwritten, not accumulated.
 */
public interface PoolKernels {
    /** The kernel id, e.g. {@code f32_pool2d__java}. */
    String kernelId();

    /**
     * Max pooling. NaN propagates (a window holding NaN gives NaN). argmax, if not null, receives for each output
     * element the flat index ih * w + iw of the chosen input in its image and channel (int32, y-shaped).
     */
    void maxPool2dF32(Pool2dShape shape, Storage x, long xOffset, Storage y, long yOffset, Storage argmax, long argmaxOffset);

    /**
     * Max pooling of u8 codes (quantized activations; exact, since quantization is monotonic). Offsets in bytes;
     * y (n, outH, outW, c) u8.
     */
    void maxPool2dU8(Pool2dShape shape, Storage x, long xOffset, Storage y, long yOffset);

    /** dx = 0, then dx[argmax] += dy for every output element. */
    void maxPool2dBackwardF32(Pool2dShape shape, Storage dy, long dyOffset, Storage argmax, long argmaxOffset, Storage dx, long dxOffset);

    /** Average pooling: the window's sum over kh * kw (countPadding, PyTorch's default) or over its in-bounds elements. */
    void avgPool2dF32(Pool2dShape shape, boolean countPadding, Storage x, long xOffset, Storage y, long yOffset);

    /** dx = 0, then each output's dy / divisor added to its window's in-bounds inputs. */
    void avgPool2dBackwardF32(Pool2dShape shape, boolean countPadding, Storage dy, long dyOffset, Storage dx, long dxOffset);

    /** y (n, c) = mean of x (n, h, w, c) over h and w (summed in double). */
    void globalAvgPoolF32(int n, int h, int w, int c, Storage x, long xOffset, Storage y, long yOffset);

    /** dx (n, h, w, c) = dy (n, c) / (h * w) broadcast. */
    void globalAvgPoolBackwardF32(int n, int h, int w, int c, Storage dy, long dyOffset, Storage dx, long dxOffset);
}
