package org.tessera.kernels.nativecpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.tessera.kernels.GemmGrid;
import org.tessera.kernels.HostStorage;
import org.tessera.kernels.MemoryKind;
import org.tessera.kernels.SharedPackedB;
import org.tessera.kernels.Storage;
import org.tessera.kernels.WorkerPool;
import org.tessera.kernels.spi.CheckedF32Gemm;
import org.tessera.kernels.spi.PackedF32;

/**
 * The native f32 GEMM: {@code f32_gemm_6x16__avx2}, or on AVX-512 CPUs {@code f32_gemm_12x32__avx512} (the same
 * drivers and packed layout on 12x32 tiles, bit-identical results), and {@code f32_gemm_smallm__avx2} for m <= 16.
 * C is split into a grid over the worker pool; each thread calls the single-threaded C driver on its block
 * with its own workspace (allocated once per thread, never per call). Products with enough rows share one
 * packed B across the threads instead ({@link SharedPackedB}).
 */
final class NativeF32Gemm extends CheckedF32Gemm {
    /**
     * Up to this many rows of C the no-packing kernel wins (measured, n = k = 4096, bench/RESULTS.md): with
     * transposed B its dot products beat the blocked kernel to m = 32; with plain B the crossover is near 10.
     */
    static final int SMALL_M_PLAIN_B = 8, SMALL_M_TRANSPOSED_B = 16;
    private static final int MR = 6, NR = 16;

    private static final long WORKSPACE_BYTES =
            Math.max(NativeCpu.tsr_f32_gemm_6x16_workspace_bytes__avx2(), NativeCpu.tsr_f32_gemm_smallm_workspace_bytes__avx2());
    /**
     * Threads share one packed B ({@link SharedPackedB}) from this many rows per thread up, and when m >= n /
     * threads; otherwise a column split wins: its only duplicated work is packing A (m x k per thread), and
     * each thread streams only its share of B instead of all of it (paired, 128x768x3072 at 2 threads:
     * 0.87x OpenBLAS with the shared B, see bench/RESULTS.md).
     */
    static final int SHARED_B_MIN_ROWS_PER_THREAD = 48;

    /** Per-thread packing buffers; freed with the thread (GC-managed arena). */
    private static final ThreadLocal<MemorySegment> WORKSPACE =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(WORKSPACE_BYTES, HostStorage.ALIGNMENT));
    /** The shared packed B of the calling thread's products (the workers fill and read it during the call); grows. */
    private static final ThreadLocal<MemorySegment> SHARED_B = ThreadLocal.withInitial(() -> MemorySegment.NULL);

    /** Whether the blocked products run the AVX-512 macro-kernel. */
    private final boolean avx512;
    /** The tile, for splitting C across threads on tile boundaries. */
    private final int mr, nr;

    /** @param avx512 run the 12x32 AVX-512 tiles (the caller checked CPU, OS and {@code tessera.maxIsa}) */
    NativeF32Gemm(boolean avx512) {
        super(MemoryKind.HOST);
        this.avx512 = avx512;
        this.mr = avx512 ? 2 * MR : MR;
        this.nr = avx512 ? 2 * NR : NR;
    }

    @Override
    public String kernelId() {
        return avx512 ? "f32_gemm_12x32__avx512" : "f32_gemm_6x16__avx2";
    }

    @Override
    public String kernelId(int m, int n, int k) {
        return m <= SMALL_M_PLAIN_B ? "f32_gemm_smallm__avx2" : kernelId(); // for plain B; see run()
    }

    @Override
    protected void run(boolean transA, boolean transB, int m, int n, int k, float alpha, Storage a, long aOffset, long lda,
                       Storage b, long bOffset, long ldb, float beta, Storage c, long cOffset, long ldc,
                       Storage bias, long biasOffset, boolean relu) {
        long ap = address(a, aOffset), bp = address(b, bOffset), cp = address(c, cOffset);
        long biasp = bias == null ? 0 : address(bias, biasOffset);
        boolean small = m <= (transB ? SMALL_M_TRANSPOSED_B : SMALL_M_PLAIN_B);
        int threads = WorkerPool.shared().threads();
        int ncb = SharedPackedB.columnBlock(n, k, nr, threads);
        if (!small && threads > 1 && ncb > 0 && k > 0 && alpha != 0f && m >= SHARED_B_MIN_ROWS_PER_THREAD * threads
                && (long) m * threads >= n && GemmGrid.plan(m, n, k, threads, mr, nr).tasks() > 1) {
            runSharedB(transA, transB, m, n, k, ncb, alpha, ap, lda, bp, ldb, beta, cp, ldc, biasp, relu);
            return;
        }
        GemmGrid grid = GemmGrid.plan(m, n, k, WorkerPool.shared().threads(), small ? m : mr, small ? NR : nr);
        int ta = transA ? 1 : 0, tb = transB ? 1 : 0;
        WorkerPool.shared().parallelFor(grid.tasks(), t -> {
            int i0 = grid.rowStart(t), i1 = grid.rowEnd(t), j0 = grid.colStart(t), j1 = grid.colEnd(t);
            if (i0 >= i1 || j0 >= j1) return;
            long as = ap + 4L * (transA ? i0 : i0 * lda), bs = bp + 4L * (transB ? j0 * ldb : j0);
            long cs = cp + 4L * (i0 * ldc + j0), biass = biasp == 0 ? 0 : biasp + 4L * j0;
            long ws = WORKSPACE.get().address();
            if (small) {
                NativeCpu.tsr_f32_gemm_smallm__avx2(ta, tb, i1 - i0, j1 - j0, k, alpha, as, lda, bs, ldb, beta, cs, ldc, biass, relu ? 1 : 0, ws);
            } else if (avx512) {
                NativeCpu.tsr_f32_gemm_12x32__avx512(ta, tb, i1 - i0, j1 - j0, k, alpha, as, lda, bs, ldb, beta, cs, ldc, biass, relu ? 1 : 0, ws);
            } else {
                NativeCpu.tsr_f32_gemm_6x16__avx2(ta, tb, i1 - i0, j1 - j0, k, alpha, as, lda, bs, ldb, beta, cs, ldc, biass, relu ? 1 : 0, ws);
            }
        });
    }

    /** Multi-threaded with one packed B shared by all threads (see {@link SharedPackedB}). */
    private void runSharedB(boolean transA, boolean transB, int m, int n, int k, int ncb, float alpha, long ap, long lda,
                            long bp, long ldb, float beta, long cp, long ldc, long biasp, boolean relu) {
        long bytes = 4 * SharedPackedB.bufferFloats(k, ncb, nr);
        MemorySegment shared = SHARED_B.get();
        if (shared.byteSize() < bytes) {
            shared = Arena.ofAuto().allocate(bytes, HostStorage.ALIGNMENT);
            SHARED_B.set(shared);
        }
        long pp = shared.address();
        int ta = transA ? 1 : 0, tb = transB ? 1 : 0, act = relu ? 1 : 0;
        SharedPackedB.run(WorkerPool.shared(), m, n, ncb, mr, nr,
                (jc, nc, j0, j1) -> NativeCpu.tsr_f32_gemm_pack_b_cols_6x16__avx2(tb, k, nc, j0, j1 - j0,
                        bp + 4L * (transB ? (jc + j0) * ldb : jc + j0), ldb, pp),
                (jc, nc, i0, i1) -> packed(ta, i1 - i0, nc, k, 0, nc, alpha, ap + 4L * (transA ? i0 : i0 * lda), lda, pp,
                        beta, cp + 4L * (i0 * ldc + jc), ldc, biasp == 0 ? 0 : biasp + 4L * jc, act));
    }

    @Override
    protected PackedF32 runPack(boolean transB, int k, int n, Storage b, long bOffset, long ldb) {
        HostStorage packed = HostStorage.allocate(NativeCpu.tsr_f32_gemm_packed_b_bytes_6x16__avx2(k, n));
        NativeCpu.tsr_f32_gemm_pack_b_6x16__avx2(transB ? 1 : 0, k, n, address(b, bOffset), ldb, packed.segment().address());
        return new PackedF32(this, k, n, packed);
    }

    @Override
    protected void runPacked(boolean transA, int m, float alpha, Storage a, long aOffset, long lda, PackedF32 b, float beta,
                             Storage c, long cOffset, long ldc, Storage bias, long biasOffset, boolean relu) {
        int n = b.n(), k = b.k();
        long ap = address(a, aOffset), cp = address(c, cOffset), pp = address(b.storage(), 0);
        long biasp = bias == null ? 0 : address(bias, biasOffset);
        GemmGrid grid = GemmGrid.plan(m, n, k, WorkerPool.shared().threads(), mr, nr);
        int ta = transA ? 1 : 0;
        WorkerPool.shared().parallelFor(grid.tasks(), t -> {
            int i0 = grid.rowStart(t), i1 = grid.rowEnd(t), j0 = grid.colStart(t), j1 = grid.colEnd(t);
            if (i0 >= i1 || j0 >= j1) return;
            long as = ap + 4L * (transA ? i0 : i0 * lda);
            // C and bias are passed whole: the kernel indexes columns from j0 itself (packed panels are absolute).
            packed(ta, i1 - i0, n, k, j0, j1 - j0, alpha, as, lda, pp, beta, cp + 4L * i0 * ldc, ldc, biasp, relu ? 1 : 0);
        });
    }

    /** C columns [j0, j0 + nc) from the pre-packed B, on this thread's workspace. */
    private void packed(int ta, long m, long n, long k, long j0, long nc, float alpha, long a, long lda, long packedB,
                        float beta, long c, long ldc, long bias, int relu) {
        long ws = WORKSPACE.get().address();
        if (avx512) NativeCpu.tsr_f32_gemm_packed_12x32__avx512(ta, m, n, k, j0, nc, alpha, a, lda, packedB, beta, c, ldc, bias, relu, ws);
        else NativeCpu.tsr_f32_gemm_packed_6x16__avx2(ta, m, n, k, j0, nc, alpha, a, lda, packedB, beta, c, ldc, bias, relu, ws);
    }

    private static long address(Storage s, long elementOffset) {
        return ((HostStorage) s).segment().address() + 4 * elementOffset;
    }
}
