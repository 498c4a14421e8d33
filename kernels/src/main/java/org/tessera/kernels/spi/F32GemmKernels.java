package org.tessera.kernels.spi;

import org.tessera.kernels.Storage;

/**
 * f32 GEMM with the semantics of {@code cblas_sgemm} in row-major layout, plus a fused epilogue:
 * {@code C = act(alpha * op(A) * op(B) + beta * C + bias)}, op(A) is (m, k), op(B) is (k, n), C is (m, n),
 * bias is (n) or null, act is identity or ReLU (NaN stays NaN).
 * A is stored (m, k) with {@code lda >= k}, or (k, m) with {@code lda >= m} when transposed; B likewise.
 * Offsets and leading dimensions are in elements. BLAS edge cases: {@code beta == 0} ignores what C held
 * (NaN included); {@code alpha == 0} or {@code k == 0} reads neither A nor B; {@code m == 0} or
 * {@code n == 0} does nothing. Implementations extend {@link CheckedF32Gemm}, which validates every argument.
 */
public interface F32GemmKernels {
    /** The id of the kernel that runs large products, e.g. {@code f32_gemm_6x16__avx2}. */
    String kernelId();

    /** The id of the kernel that runs an (m, n, k) product (small m may take a dedicated kernel). */
    default String kernelId(int m, int n, int k) {
        return kernelId();
    }

    /** {@code C = alpha * op(A) * op(B) + beta * C}, exactly {@code cblas_sgemm} (row-major). */
    default void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                       Storage a, long aOffset, long lda, Storage b, long bOffset, long ldb,
                       float beta, Storage c, long cOffset, long ldc) {
        gemm(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc, null, 0, false);
    }

    /**
     * {@code C = act(alpha * op(A) * op(B) + beta * C + bias)} in one pass over C.
     *
     * @param bias (n) f32, or null
     * @param relu clamp the result at zero
     * @throws IllegalArgumentException for negative sizes, a leading dimension below its minimum (named),
     *                                  out-of-bounds operands or foreign memory
     * @throws IllegalStateException    if an operand's memory is closed
     */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
              Storage a, long aOffset, long lda, Storage b, long bOffset, long ldb,
              float beta, Storage c, long cOffset, long ldc, Storage bias, long biasOffset, boolean relu);

    /**
     * Packs op(B) (k, n) once into this kernel's layout, for products that reuse the same B (weights).
     * The caller owns the result and closes it.
     */
    PackedF32 pack(boolean transB, int k, int n, Storage b, long bOffset, long ldb);

    /**
     * {@code C = act(alpha * op(A) * B + beta * C + bias)} with B packed by this kernel's {@link #pack}.
     *
     * @throws IllegalArgumentException if {@code b} was packed by other kernels, or as {@link #gemm}
     */
    void gemmPacked(boolean transA, int m, float alpha, Storage a, long aOffset, long lda, PackedF32 b,
                    float beta, Storage c, long cOffset, long ldc, Storage bias, long biasOffset, boolean relu);
}
