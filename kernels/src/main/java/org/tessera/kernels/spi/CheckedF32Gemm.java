package org.tessera.kernels.spi;

import org.tessera.kernels.Checks;
import org.tessera.kernels.MemoryKind;
import org.tessera.kernels.Storage;

/** Base of every {@link F32GemmKernels}: validates like {@code cblas_sgemm}, then runs the kernel. */
public abstract class CheckedF32Gemm implements F32GemmKernels {
    private final MemoryKind memory;

    protected CheckedF32Gemm(MemoryKind memory) {
        this.memory = memory;
    }

    @Override
    public final void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                            Storage a, long aOffset, long lda, Storage b, long bOffset, long ldb,
                            float beta, Storage c, long cOffset, long ldc) {
        Checks.nonNegative("m", m);
        Checks.nonNegative("n", n);
        Checks.nonNegative("k", k);
        long aRows = transA ? k : m, aCols = transA ? m : k;
        long bRows = transB ? n : k, bCols = transB ? k : n;
        // As in reference BLAS, a leading dimension is checked even when its matrix is empty.
        minimumLd("lda", lda, aCols);
        minimumLd("ldb", ldb, bCols);
        minimumLd("ldc", ldc, n);
        Checks.block("a", a, memory, Float.BYTES, aOffset, aRows, aCols, lda);
        Checks.block("b", b, memory, Float.BYTES, bOffset, bRows, bCols, ldb);
        Checks.block("c", c, memory, Float.BYTES, cOffset, m, n, ldc);
        if (m == 0 || n == 0) return;
        Storage.acquireAll(a, b, c);
        try {
            run(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
        } finally {
            Storage.releaseAll(a, b, c);
        }
    }

    private static void minimumLd(String name, long ld, long cols) {
        if (ld < Math.max(1, cols)) {
            throw new IllegalArgumentException(name + " must be >= max(1, " + cols + ") for this shape and transpose, got " + ld);
        }
    }

    /** The kernel, on validated, live operands with m, n > 0 (k may be 0, alpha may be 0). */
    protected abstract void run(boolean transA, boolean transB, int m, int n, int k, float alpha,
                                Storage a, long aOffset, long lda, Storage b, long bOffset, long ldb,
                                float beta, Storage c, long cOffset, long ldc);
}
