package org.tessera.kernels.spi;

import org.tessera.kernels.Storage;

/**
 * 2-D convolution, forward, f32: {@code y = act(conv(x, w) + bias)} (cross-correlation, as in every DL
 * framework). Layouts, all dense row-major:
 * <ul>
 *   <li>x: NHWC activations, (n, h, w, c);</li>
 *   <li>w: (k, r, s, c / groups), output channel major; group g's filters are rows [g k/groups, (g+1) k/groups)
 *       and read input channels [g c/groups, (g+1) c/groups);</li>
 *   <li>bias: (k) or null; y: NHWC (n, outH, outW, k).</li>
 * </ul>
 * Padding reads zeros. The geometry is validated by {@link Conv2dShape}; storages by the implementation
 * (see {@link CheckedConv}) before any kernel runs. y must not overlap x, w or bias.
 */
public interface ConvKernels {
    /**
     * The kernel this shape runs on: {@code f32_conv2d_1x1_gemm/...} (a 1x1, stride 1, unpadded, one-group
     * convolution is a GEMM on the NHWC buffer, no copy), {@code f32_dwconv2d...} (depthwise: groups = c = k,
     * a direct SIMD kernel), {@code f32_conv2d_direct...} (one group, a short patch r s c <= 32, on backends
     * with a direct kernel), {@code f32_conv2d_igemm...} (the rest, on backends with an implicit GEMM), or
     * {@code f32_conv2d_im2col/...} (the rest otherwise: im2col in chunks into a reused workspace, then the GEMM).
     */
    String kernelId(Conv2dShape shape);

    /**
     * @param x    (n, h, w, c) f32, NHWC
     * @param w    (k, r, s, c / groups) f32
     * @param bias (k) f32, or null
     * @param y    (n, outH, outW, k) f32, written
     * @param relu whether to clamp the output at zero (NaN stays NaN)
     */
    void conv2dF32(Conv2dShape shape, Storage x, long xOffset, Storage w, long wOffset,
                   Storage bias, long biasOffset, Storage y, long yOffset, boolean relu);

    /**
     * Prepares filters (k, r, s, c / groups) once for {@link #conv2dF32(Conv2dShape, Storage, long, PackedF32Filters,
     * Storage, long, Storage, long, boolean)}: a copy, and on backends with an implicit GEMM its packed layout, so
     * calls with the same filters skip the per-call packing (for 3x3 filters on 256 channels, 256 of them, 135 µs
     * of a 2.6 ms call on one core). The result fits any input size with the same k, r, s, c and groups, and is
     * independent of {@code w} afterwards. Close it to free it.
     */
    PackedF32Filters packF32Filters(Conv2dShape shape, Storage w, long wOffset);

    /**
     * {@link #conv2dF32(Conv2dShape, Storage, long, Storage, long, Storage, long, Storage, long, boolean)} with
     * filters from {@link #packF32Filters}: the same values, bit for bit.
     *
     * @throws IllegalArgumentException when the filters were packed by other kernels or for another geometry
     * @throws IllegalStateException    when they are closed
     */
    void conv2dF32(Conv2dShape shape, Storage x, long xOffset, PackedF32Filters filters, Storage bias, long biasOffset,
                   Storage y, long yOffset, boolean relu);

    /**
     * The kernel {@link #conv2dMaxPoolF32} runs for this shape and pool size, or null when this backend has no
     * fused kernel for them (callers then run {@link #conv2dF32} and a pooling kernel). Default: none.
     */
    default String conv2dMaxPoolKernelId(Conv2dShape shape, int pool) {
        return null;
    }

    /**
     * Convolution, bias, activation, then non-overlapping {@code pool x pool} max pooling (stride pool, no
     * padding, floor) in one pass, where {@link #conv2dMaxPoolKernelId} names a kernel: the same values as
     * {@link #conv2dF32} followed by max pooling (a tap replaces the maximum when it is greater, or when it is
     * NaN and the maximum is not), without the full-size activation going through memory.
     *
     * @param pool the window and stride, >= 1; outH and outW must be at least pool
     * @param y    (n, outH / pool, outW / pool, k) f32, written
     * @throws IllegalArgumentException when there is no fused kernel for these arguments, or for bad operands
     */
    default void conv2dMaxPoolF32(Conv2dShape shape, int pool, Storage x, long xOffset, Storage w, long wOffset,
                                  Storage bias, long biasOffset, Storage y, long yOffset, boolean relu) {
        throw new IllegalArgumentException("no fused convolution + max pooling kernel on this backend (conv2dMaxPoolKernelId is null); "
                + "run conv2dF32, then max pooling");
    }

    /**
     * Gradient of the convolution (before any activation) with respect to its input: dx = conv2d^T(dy, w),
     * overwritten. Callers that fused a ReLU mask dy with it first.
     *
     * @param dy (n, outH, outW, k) f32
     * @param w  (k, r, s, c / groups) f32
     * @param dx (n, h, w, c) f32, written; must not overlap dy or w
     */
    void conv2dBackwardDataF32(Conv2dShape shape, Storage dy, long dyOffset, Storage w, long wOffset, Storage dx, long dxOffset);

    /**
     * Gradients with respect to the filters and the bias: dw[k][r][s][c] = sum over pixels of dy * x (the
     * tap's input), db[k] = sum over pixels of dy; both overwritten.
     *
     * @param x  (n, h, w, c) f32, the forward input
     * @param dy (n, outH, outW, k) f32
     * @param dw (k, r, s, c / groups) f32, written; must not overlap x or dy
     * @param db (k) f32, written, or null
     */
    void conv2dBackwardWeightsF32(Conv2dShape shape, Storage x, long xOffset, Storage dy, long dyOffset, Storage dw, long dwOffset,
                                  Storage db, long dbOffset);

    /** The kernel {@link #conv2dInt8} runs for this shape, e.g. {@code i8_conv2d_im2col/i8_gemm_6x16__avx2} or {@code i8_dwconv2d__java}. */
    String int8KernelId(Conv2dShape shape);

    /**
     * Packs int8 filters (k, r, s, c / groups) s8 once, with one scale (per tensor) or k scales (per output
     * channel), for {@link #conv2dInt8}: per group a GEMM operand, or the taps of a depthwise filter. r * s * c /
     * groups at most {@link Int8GemmKernels#MAX_K}. The filters fit any input size with the same k, r, s, c and
     * groups.
     */
    PackedInt8Filters packInt8Filters(Conv2dShape shape, Storage w, long wOffset, float[] scales);

    /**
     * int8 convolution: x (n, h, w, c) u8/s8 quantized as {@code xq}, filters from {@link #packInt8Filters},
     * y (n, outH, outW, k) of {@code out.type()} with the int8 GEMM's epilogue (raw s32, dequantized f32 or
     * requantized u8/s8, bias and ReLU fused; exact s32 sums; see {@link Int8Output}). Padding is real zero
     * (the activations' zero point). Every group count, depthwise included.
     */
    void conv2dInt8(Conv2dShape shape, Int8Input xq, Storage x, long xOffset, PackedInt8Filters filters, Int8Output out,
                    Storage bias, long biasOffset, Storage y, long yOffset);
}
