package org.tessera.kernels.spi;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.tessera.kernels.Checks;
import org.tessera.kernels.HostStorage;
import org.tessera.kernels.MemoryKind;
import org.tessera.kernels.Storage;

/**
 * Base of every {@link F32GemmKernels}: validates like {@code cblas_sgemm} (and the epilogue and packed
 * operands), holds the operands' storages for the call, then runs the kernel on arguments it may trust.
 * Backends without a packed layout of their own inherit a plain one: op(B) copied to a contiguous (k, n)
 * row-major matrix.
 */
public abstract class CheckedF32Gemm implements F32GemmKernels {
    private final MemoryKind memory;

    protected CheckedF32Gemm(MemoryKind memory) {
        this.memory = memory;
    }

    @Override
    public final void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                           Storage a, long aOffset, long lda, Storage b, long bOffset, long ldb,
                           float beta, Storage c, long cOffset, long ldc, Storage bias, long biasOffset, boolean relu) {
        checkSizes(m, n, k);
        checkOperand("a", "lda", a, aOffset, lda, transA ? k : m, transA ? m : k);
        checkOperand("b", "ldb", b, bOffset, ldb, transB ? n : k, transB ? k : n);
        checkOperand("c", "ldc", c, cOffset, ldc, m, n);
        if (bias != null) Checks.block("bias", bias, memory, Float.BYTES, biasOffset, 1, n, n);
        if (m == 0 || n == 0) return;
        Storage.acquireAll(a, b, c, bias);
        try {
            run(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc, bias, biasOffset, relu);
        } finally {
            Storage.releaseAll(a, b, c, bias);
        }
    }

    @Override
    public final PackedF32 pack(boolean transB, int k, int n, Storage b, long bOffset, long ldb) {
        checkSizes(0, n, k);
        checkOperand("b", "ldb", b, bOffset, ldb, transB ? n : k, transB ? k : n);
        Storage.acquireAll(b);
        try {
            return runPack(transB, k, n, b, bOffset, ldb);
        } finally {
            Storage.releaseAll(b);
        }
    }

    @Override
    public final void gemmPacked(boolean transA, int m, float alpha, Storage a, long aOffset, long lda, PackedF32 b,
                                 float beta, Storage c, long cOffset, long ldc, Storage bias, long biasOffset, boolean relu) {
        if (b == null) throw new NullPointerException("packed b is null");
        if (b.owner() != this) throw new IllegalArgumentException("b was packed by " + b.owner().kernelId() + ", not by " + kernelId());
        int n = b.n(), k = b.k();
        checkSizes(m, n, k);
        checkOperand("a", "lda", a, aOffset, lda, transA ? k : m, transA ? m : k);
        checkOperand("c", "ldc", c, cOffset, ldc, m, n);
        if (!b.storage().isAlive()) throw new IllegalStateException("packed b: " + b.storage().closedMessage());
        if (bias != null) Checks.block("bias", bias, memory, Float.BYTES, biasOffset, 1, n, n);
        if (m == 0 || n == 0) return;
        Storage.acquireAll(a, b.storage(), c, bias);
        try {
            runPacked(transA, m, alpha, a, aOffset, lda, b, beta, c, cOffset, ldc, bias, biasOffset, relu);
        } finally {
            Storage.releaseAll(a, b.storage(), c, bias);
        }
    }

    private static void checkSizes(int m, int n, int k) {
        Checks.nonNegative("m", m);
        Checks.nonNegative("n", n);
        Checks.nonNegative("k", k);
    }

    /** As in reference BLAS, a leading dimension is checked even when its matrix is empty. */
    private void checkOperand(String name, String ldName, Storage s, long offset, long ld, long rows, long cols) {
        if (ld < Math.max(1, cols)) {
            throw new IllegalArgumentException(ldName + " must be >= max(1, " + cols + ") for this shape and transpose, got " + ld);
        }
        Checks.block(name, s, memory, Float.BYTES, offset, rows, cols, ld);
    }

    /** The kernel, on validated, live operands with m, n > 0 (k may be 0, alpha may be 0). */
    protected abstract void run(boolean transA, boolean transB, int m, int n, int k, float alpha,
                                Storage a, long aOffset, long lda, Storage b, long bOffset, long ldb,
                                float beta, Storage c, long cOffset, long ldc, Storage bias, long biasOffset, boolean relu);

    /** Packs validated op(B); default: a contiguous row-major (k, n) host copy. */
    protected PackedF32 runPack(boolean transB, int k, int n, Storage b, long bOffset, long ldb) {
        HostStorage packed = HostStorage.allocate(4L * k * n);
        MemorySegment src = ((HostStorage) b).segment(), dst = packed.segment();
        for (long p = 0; p < k; p++) {
            for (long j = 0; j < n; j++) {
                float v = src.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, bOffset + (transB ? j * ldb + p : p * ldb + j));
                dst.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, p * n + j, v);
            }
        }
        return new PackedF32(this, k, n, packed);
    }

    /** The product with B from {@link #runPack}; default: the plain product on the contiguous copy. */
    protected void runPacked(boolean transA, int m, float alpha, Storage a, long aOffset, long lda, PackedF32 b,
                             float beta, Storage c, long cOffset, long ldc, Storage bias, long biasOffset, boolean relu) {
        run(transA, false, m, b.n(), b.k(), alpha, a, aOffset, lda, b.storage(), 0, Math.max(1, b.n()), beta, c, cOffset, ldc,
                bias, biasOffset, relu);
    }
}
