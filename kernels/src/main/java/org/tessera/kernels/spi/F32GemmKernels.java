package org.tessera.kernels.spi;

import org.tessera.kernels.Storage;

/**
 * f32 GEMM with the semantics of {@code cblas_sgemm} in row-major layout:
 * {@code C = alpha * op(A) * op(B) + beta * C}, op(A) is (m, k), op(B) is (k, n), C is (m, n).
 * A is stored (m, k) with {@code lda >= k}, or (k, m) with {@code lda >= m} when transposed; B likewise.
 * Offsets and leading dimensions are in elements. BLAS edge cases: {@code beta == 0} ignores what C held
 * (NaN included); {@code alpha == 0} or {@code k == 0} only scales C; {@code m == 0} or {@code n == 0}
 * does nothing. Implementations extend {@link CheckedF32Gemm}, which validates every argument.
 */
public interface F32GemmKernels {
    /** The kernel id, e.g. {@code f32_gemm_6x16__avx2}. */
    String kernelId();

    /**
     * @throws IllegalArgumentException for negative sizes, a leading dimension below its minimum (named),
     *                                  out-of-bounds operands or foreign memory
     * @throws IllegalStateException    if an operand's memory is closed
     */
    void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
               Storage a, long aOffset, long lda, Storage b, long bOffset, long ldb,
               float beta, Storage c, long cOffset, long ldc);
}
