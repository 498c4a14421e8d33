package org.tessera.kernels.openblas;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.tessera.kernels.HostStorage;
import org.tessera.kernels.MemoryKind;
import org.tessera.kernels.Storage;
import org.tessera.kernels.WorkerPool;
import org.tessera.kernels.spi.CheckedF32Gemm;

/**
 * {@code cblas_sgemm} behind the GEMM SPI. The epilogue (bias, ReLU) is a second pass over C here: OpenBLAS
 * has no fused form. Packed B uses the SPI's plain contiguous copy.
 */
final class OpenBlasF32Gemm extends CheckedF32Gemm {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private final OpenBlasCalls calls;
    private volatile int threads;

    OpenBlasF32Gemm(OpenBlasCalls calls) {
        super(MemoryKind.HOST);
        this.calls = calls;
    }

    @Override
    public String kernelId() {
        return "f32_gemm__openblas";
    }

    @Override
    protected void run(boolean transA, boolean transB, int m, int n, int k, float alpha, Storage a, long aOffset, long lda,
                       Storage b, long bOffset, long ldb, float beta, Storage c, long cOffset, long ldc,
                       Storage bias, long biasOffset, boolean relu) {
        int poolThreads = WorkerPool.shared().threads();
        try {
            if (threads != poolThreads) {
                calls.setThreads().invokeExact(poolThreads);
                threads = poolThreads;
            }
            calls.sgemm().invokeExact(OpenBlasCalls.ROW_MAJOR, transA ? OpenBlasCalls.TRANS : OpenBlasCalls.NO_TRANS,
                    transB ? OpenBlasCalls.TRANS : OpenBlasCalls.NO_TRANS, m, n, k, alpha, at(a, aOffset), (int) lda,
                    at(b, bOffset), (int) ldb, beta, at(c, cOffset), (int) ldc);
        } catch (Throwable t) {
            throw new IllegalStateException("cblas_sgemm failed", t);
        }
        if (bias != null || relu) epilogue(m, n, c, cOffset, ldc, bias, biasOffset, relu);
    }

    private static void epilogue(int m, int n, Storage c, long cOffset, long ldc, Storage bias, long biasOffset, boolean relu) {
        MemorySegment cs = ((HostStorage) c).segment(), bs = bias == null ? null : ((HostStorage) bias).segment();
        for (long i = 0; i < m; i++) {
            for (long j = 0; j < n; j++) {
                long ci = cOffset + i * ldc + j;
                float x = cs.getAtIndex(F32, ci);
                if (bs != null) x += bs.getAtIndex(F32, biasOffset + j);
                if (relu && !(x > 0f) && !Float.isNaN(x)) x = 0f;
                cs.setAtIndex(F32, ci, x);
            }
        }
    }

    private static MemorySegment at(Storage s, long elementOffset) {
        return ((HostStorage) s).segment().asSlice(4 * elementOffset);
    }
}
