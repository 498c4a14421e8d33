package org.tessera.kernels.spi;

import org.tessera.kernels.Storage;
import org.tessera.kernels.sparse.SparseMatrix;

/**
 * Sparse x dense products for pruned layers: {@code Y (n, m) = act(W (n, k) sparse . X (k, m) + bias)}, X and Y
 * row-major with row strides ldx, ldy in elements (m: the batch, or the spatial positions of a 1x1
 * convolution in channel-major layout). Bias is per row of Y (per output). Weights are packed once from any
 * {@link SparseMatrix} format with {@link #pack} (f32) or {@link #packInt8} (s8), then reused.
 */
public interface SparseKernels {
    /** The id of the kernel that runs products with these weights, e.g. {@code f32_spmm_bsr4x1__avx2}. */
    String kernelId(PackedSparse weights);

    /** The id of this family's kernels for CSR, e.g. {@code f32_spmm_csr__avx2}. */
    String kernelId();

    /** Packs f32 weights (CSR, BSR or N:M). */
    PackedSparse pack(SparseMatrix w);

    /**
     * Packs s8 weights: W's values must be integers in [-128, 127] (quantize with
     * {@link SparseMatrix#mapValues}); scales are per row (output channel), or one for the tensor.
     *
     * @throws IllegalArgumentException naming a value that is not an s8 integer, or a bad scale
     */
    PackedSparse packInt8(SparseMatrix w, float[] scales);

    /**
     * {@code Y = act(W . X + bias)}, act = ReLU when relu (NaN stays NaN), else identity.
     *
     * @param bias f32 (n) or null
     * @throws IllegalArgumentException for bad strides, bounds, Y overlapping X, or weights packed elsewhere or as s8
     * @throws IllegalStateException    if an operand's memory is closed
     */
    void spmm(int m, PackedSparse w, Storage x, long xOffset, long ldx, Storage bias, long biasOffset, boolean relu,
              Storage y, long yOffset, long ldy);

    /**
     * int8 {@code Y = epilogue(W . (X - za))} with s8 weights and u8/s8 activations X (k, m), accumulated exactly in
     * s32 (k <= {@link Int8GemmKernels#MAX_K}), the epilogue of {@link Int8Output} with the row's weight scale
     * and bias (so every element matches the dense int8 GEMM of the densified weights bit for bit).
     *
     * @param bias f32 (n) or null; null for S32 output
     */
    void spmmInt8(int m, PackedSparse w, Int8Input xq, Storage x, long xOffset, long ldx, Int8Output out, Storage y,
                  long yOffset, long ldy, Storage bias, long biasOffset);
}
