package org.tessera.kernels.spi;

import org.tessera.kernels.Storage;

/**
 * int8 GEMM for quantized inference: {@code C = epilogue(A . W)}, A (m, k) u8 or s8 activations
 * (row-major, row stride lda), W (k, n) s8 symmetric weights (zero point 0) packed once with
 * {@link #pack}, C (m, n) of the {@link Int8Output} type (row stride ldc). Offsets and strides in elements.
 *
 * <p>Accumulation is exact in s32: {@code |A - za| <= 255} and {@code |W| <= 128}, so
 * {@code |acc| <= 32640 k < 2^31} for {@code k <= }{@link #MAX_K}; larger k is refused when packing.
 * The epilogue (dequantize or requantize, bias, ReLU) is defined bit for bit in {@link Int8Output}.
 * Implementations extend {@link CheckedInt8Gemm}, which validates every argument.
 */
public interface Int8GemmKernels {
    /** The largest k whose s32 accumulation cannot overflow: floor((2^31 - 1) / (255 * 128)). */
    int MAX_K = 65793;

    /** The id of the kernel that runs products with these weights, e.g. {@code i8_gemm_6x16__avx2}. */
    String kernelId(PackedInt8 weights);

    /** The id of this family's main kernel. */
    String kernelId();

    /**
     * Packs s8 weights with their scales. {@code transW}: W is stored (n, k) (the usual [out][in] layout of
     * a dense layer) instead of (k, n). The native AVX2 kernels check every pair of weights here: when
     * {@code 255 * (sum of a pair's same-sign weights)} fits in s16 for all pairs (true for 7-bit weights in
     * [-64, 64]: quantize with a reduced range to get it), products run on {@code vpmaddubsw} at about twice
     * the multiply rate, still exactly; otherwise on the exact s16 widening kernel.
     *
     * @param scales n per-column scales, or 1 per-tensor scale; positive and finite
     * @throws IllegalArgumentException for a bad shape, stride, scale or k > {@link #MAX_K}
     */
    PackedInt8 pack(boolean transW, int k, int n, Storage w, long wOffset, long ldw, float[] scales);

    /**
     * {@code C = epilogue(A . W)}.
     *
     * @param bias f32 (n) for F32/U8/S8 outputs, or null; must be null for S32; finite for U8/S8
     * @throws IllegalArgumentException for bad shapes, strides, types, bounds, or weights packed elsewhere
     * @throws IllegalStateException    if an operand's memory is closed
     */
    void gemm(int m, Int8Input aq, Storage a, long aOffset, long lda, PackedInt8 w, Int8Output out,
              Storage c, long cOffset, long ldc, Storage bias, long biasOffset);
}
