package org.tessera.kernels.spi;

import org.tessera.kernels.Storage;

/**
 * int8 GEMM: {@code C (s32, m x n) = A (u8, m x k) * B (s8, k x n)}, exact integer accumulation.
 * Row-major, offsets and leading dimensions in elements. Requantizing epilogues and packed weights are
 * added with the int8 GEMM kernels; no backend provides this family yet.
 */
public interface Int8GemmKernels {
    /** The kernel id, e.g. {@code u8s8_gemm_4x16__avx2}. */
    String kernelId();

    void gemmU8S8S32(int m, int n, int k, Storage a, long aOffset, long lda,
                     Storage b, long bOffset, long ldb, Storage c, long cOffset, long ldc);
}
