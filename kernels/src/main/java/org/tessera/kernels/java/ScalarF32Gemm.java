package org.tessera.kernels.java;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import org.tessera.kernels.HostStorage;
import org.tessera.kernels.MemoryKind;
import org.tessera.kernels.Storage;
import org.tessera.kernels.WorkerPool;
import org.tessera.kernels.spi.CheckedF32Gemm;

/**
 * Scalar Java GEMM ({@code f32_gemm__scalar}): row-major {@code cblas_sgemm} semantics, rows of C spread
 * over the worker pool. Correct for every transpose and stride; not fast. The placeholder until the
 * packed Vector API GEMM lands.
 */
final class ScalarF32Gemm extends CheckedF32Gemm {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    /** Work per chunk (flops) below which waking a worker costs more than it saves. */
    private static final long MIN_FLOPS_PER_CHUNK = 1 << 18;

    ScalarF32Gemm() {
        super(MemoryKind.HOST);
    }

    @Override
    public String kernelId() {
        return "f32_gemm__scalar";
    }

    @Override
    protected void run(boolean transA, boolean transB, int m, int n, int k, float alpha,
                       Storage a, long aOffset, long lda, Storage b, long bOffset, long ldb,
                       float beta, Storage c, long cOffset, long ldc, Storage bias, long biasOffset, boolean relu) {
        MemorySegment as = ((HostStorage) a).segment(), bs = ((HostStorage) b).segment();
        MemorySegment cs = ((HostStorage) c).segment();
        MemorySegment biass = bias == null ? null : ((HostStorage) bias).segment();
        // Element (i, p) of op(A) and (p, j) of op(B), whatever the transpose.
        long aRow = transA ? 1 : lda, aCol = transA ? lda : 1;
        long bRow = transB ? 1 : ldb, bCol = transB ? ldb : 1;
        WorkerPool pool = WorkerPool.shared();
        int tasks = Math.min(m, pool.chunks(2L * m * n * Math.max(k, 1), MIN_FLOPS_PER_CHUNK));
        pool.parallelFor(tasks, task -> {
            int i0 = (int) ((long) m * task / tasks), i1 = (int) ((long) m * (task + 1) / tasks);
            float[] acc = new float[n];
            for (int i = i0; i < i1; i++) {
                Arrays.fill(acc, 0f);
                if (alpha != 0f) {
                    for (int p = 0; p < k; p++) {
                        float aip = as.getAtIndex(F32, aOffset + i * aRow + p * aCol);
                        long bp = bOffset + p * bRow;
                        for (int j = 0; j < n; j++) acc[j] += aip * bs.getAtIndex(F32, bp + j * bCol);
                    }
                }
                long ci = cOffset + i * ldc;
                for (int j = 0; j < n; j++) {
                    // BLAS: beta == 0 overwrites C without reading it, so NaN/Inf in C do not leak.
                    float prior = beta == 0f ? 0f : beta * cs.getAtIndex(F32, ci + j);
                    float x = alpha == 0f ? prior : alpha * acc[j] + prior;
                    if (biass != null) x += biass.getAtIndex(F32, biasOffset + j);
                    cs.setAtIndex(F32, ci + j, relu && !(x > 0f) && !Float.isNaN(x) ? 0f : x);
                }
            }
        });
    }
}
