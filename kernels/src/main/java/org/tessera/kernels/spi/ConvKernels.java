package org.tessera.kernels.spi;

import org.tessera.kernels.Storage;

/**
 * 2-D convolution on NHWC activations: {@code y = act(conv(x, w) + bias)}. Weights are (K, R, S, C/groups)
 * (output channel major). The geometry is validated by {@link Conv2dShape}. No backend provides this
 * family yet.
 */
public interface ConvKernels {
    /** The kernel id chosen for this shape, e.g. {@code f32_conv2d_igemm__avx2}. */
    String kernelId(Conv2dShape shape);

    /**
     * @param x    (n, h, w, c) f32
     * @param w    (k, r, s, c / groups) f32
     * @param bias (k) f32, or null
     * @param y    (n, outH, outW, k) f32, written
     * @param relu whether to clamp the output at zero
     */
    void conv2dF32(Conv2dShape shape, Storage x, long xOffset, Storage w, long wOffset,
                   Storage bias, long biasOffset, Storage y, long yOffset, boolean relu);
}
