package org.tessera.kernels.spi;

import org.tessera.kernels.Storage;

/**
 * Sparse x dense products: {@code Y (n x m) = W (n x k, sparse) * X (k x m)}, X and Y row-major with
 * leading dimensions in elements. CSR arrays are validated (sorted, in range) before they reach a kernel.
 * No backend provides this family yet.
 */
public interface SparseKernels {
    /** The kernel id, e.g. {@code f32_spmm_csr__avx2}. */
    String kernelId();

    /**
     * @param rowPtr (n + 1) s32 row offsets into colIdx / values
     * @param colIdx (nnz) s32 column indices, sorted within a row
     * @param values (nnz) f32
     */
    void spmmCsrF32(int n, int k, int m, Storage rowPtr, Storage colIdx, Storage values,
                    Storage x, long xOffset, long ldx, Storage y, long yOffset, long ldy);
}
