package org.tessera.kernels.sparse;

import java.lang.foreign.MemorySegment;
import java.util.Objects;
import org.tessera.kernels.Checks;
import org.tessera.kernels.DType;
import org.tessera.kernels.HostStorage;
import org.tessera.kernels.MemoryKind;
import org.tessera.kernels.Storage;
import org.tessera.kernels.WorkerPool;
import org.tessera.kernels.spi.Int8GemmKernels;
import org.tessera.kernels.spi.Int8Input;
import org.tessera.kernels.spi.Int8Output;
import org.tessera.kernels.spi.PackedSparse;
import org.tessera.kernels.spi.SparseKernels;

/**
 * The host {@link SparseKernels}: validates every argument (shapes, strides, bounds, overlap, lifetimes,
 * ownership) before a kernel sees it, then splits the block rows over the worker pool so that each thread
 * gets about the same number of stored values (pruned layers are rarely uniform), and runs an
 * {@link SpmmRows} body per ISA on each part.
 */
public final class SparseSpmm implements SparseKernels {
    /** Below this many multiply-adds a product stays on the calling thread. */
    private static final long MIN_PER_THREAD = 1 << 16;

    private final SpmmRows f32Rows, int8Rows;

    /** @param f32Rows the f32 body; @param int8Rows the int8 body (may come from another backend) */
    public SparseSpmm(SpmmRows f32Rows, SpmmRows int8Rows) {
        this.f32Rows = Objects.requireNonNull(f32Rows);
        this.int8Rows = Objects.requireNonNull(int8Rows);
    }

    @Override
    public String kernelId(PackedSparse w) {
        boolean int8 = w.dtype() == DType.S8;
        return (int8 ? "i8" : "f32") + "_spmm_" + (w.br() == 1 && w.bc() == 1 ? "csr" : "bsr" + w.br() + "x" + w.bc()) + "__"
                + (int8 ? int8Rows : f32Rows).isa();
    }

    @Override
    public String kernelId() {
        return "f32_spmm_csr__" + f32Rows.isa();
    }

    @Override
    public PackedSparse pack(SparseMatrix w) {
        return SparsePacking.pack(this, w, false, null);
    }

    @Override
    public PackedSparse packInt8(SparseMatrix w, float[] scales) {
        if (w != null && w.cols() > Int8GemmKernels.MAX_K) {
            throw new IllegalArgumentException("k = " + w.cols() + " exceeds " + Int8GemmKernels.MAX_K + ", the largest k whose s32 "
                    + "accumulation cannot overflow; split the layer along k");
        }
        return SparsePacking.pack(this, w, true, scales);
    }

    @Override
    public void spmm(int m, PackedSparse w, Storage x, long xOffset, long ldx, Storage bias, long biasOffset, boolean relu,
                     Storage y, long yOffset, long ldy) {
        checkWeights(w, DType.F32);
        checkOperands(m, w, x, xOffset, ldx, Float.BYTES, y, yOffset, ldy, Float.BYTES, bias, biasOffset);
        if (m == 0 || w.n() == 0) return;
        Storage.acquireAll(x, y, bias, w.rowPtr(), w.colIdx(), w.values());
        try {
            MemorySegment xs = seg(x), ys = seg(y), bs = bias == null ? null : seg(bias);
            parallel(w, m, (b0, b1) -> f32Rows.f32(w, b0, b1, m, xs, xOffset, ldx, bs, biasOffset, relu, ys, yOffset, ldy));
        } finally {
            Storage.releaseAll(x, y, bias, w.rowPtr(), w.colIdx(), w.values());
        }
    }

    @Override
    public void spmmInt8(int m, PackedSparse w, Int8Input xq, Storage x, long xOffset, long ldx, Int8Output out, Storage y,
                         long yOffset, long ldy, Storage bias, long biasOffset) {
        if (xq == null) throw new NullPointerException("activation quantization (xq) is null");
        if (out == null) throw new NullPointerException("output (out) is null");
        checkWeights(w, DType.S8);
        if (bias != null && !out.takesBias()) throw new IllegalArgumentException("S32 output takes no bias (the accumulator is raw); use F32, U8 or S8");
        checkOperands(m, w, x, xOffset, ldx, 1, y, yOffset, ldy, out.type().byteSize(), bias, biasOffset);
        if (m == 0 || w.n() == 0) return;
        Storage.acquireAll(x, y, bias, w.rowPtr(), w.colIdx(), w.values(), w.rowsums(), w.scales());
        try {
            MemorySegment xs = seg(x), ys = seg(y), bs = bias == null ? null : seg(bias);
            if (bs != null && out.type() != DType.F32) Checks.finiteBias(bs, biasOffset, w.n());
            parallel(w, m, (b0, b1) -> int8Rows.int8(w, b0, b1, m, xq, xs, xOffset, ldx, out, bs, biasOffset, ys, yOffset, ldy));
        } finally {
            Storage.releaseAll(x, y, bias, w.rowPtr(), w.colIdx(), w.values(), w.rowsums(), w.scales());
        }
    }

    private void checkWeights(PackedSparse w, DType dtype) {
        if (w == null) throw new NullPointerException("packed sparse weights (w) are null");
        if (w.owner() != this) throw new IllegalArgumentException("weights were packed by " + w.owner().kernelId() + ", not by " + kernelId());
        if (!w.isAlive()) throw new IllegalStateException("packed sparse weights are closed");
        if (w.dtype() != dtype) {
            throw new IllegalArgumentException("weights are packed as " + w.dtype() + " but this product needs " + dtype
                    + (dtype == DType.S8 ? ": pack them with packInt8" : ": pack them with pack, or call spmmInt8"));
        }
    }

    private static void checkOperands(int m, PackedSparse w, Storage x, long xOffset, long ldx, int xBytes, Storage y,
                                      long yOffset, long ldy, int yBytes, Storage bias, long biasOffset) {
        Checks.nonNegative("m", m);
        if (ldx < Math.max(1, m)) throw new IllegalArgumentException("ldx must be >= max(1, m = " + m + "), got " + ldx);
        if (ldy < Math.max(1, m)) throw new IllegalArgumentException("ldy must be >= max(1, m = " + m + "), got " + ldy);
        Checks.block("x", x, MemoryKind.HOST, xBytes, xOffset, w.k(), m, ldx);
        Checks.block("y", y, MemoryKind.HOST, yBytes, yOffset, w.n(), m, ldy);
        if (bias != null) Checks.block("bias", bias, MemoryKind.HOST, Float.BYTES, biasOffset, 1, w.n(), w.n());
        if (x == y && m > 0 && w.n() > 0 && w.k() > 0) {
            long x0 = xOffset * xBytes, x1 = ((w.k() - 1) * ldx + xOffset + m) * xBytes;
            long y0 = yOffset * yBytes, y1 = ((w.n() - 1) * ldy + yOffset + m) * yBytes;
            if (x0 < y1 && y0 < x1) throw new IllegalArgumentException("y overlaps x: the product cannot run in place; give y its own memory");
        }
    }

    private static MemorySegment seg(Storage s) {
        return ((HostStorage) s).segment();
    }

    @FunctionalInterface
    private interface Part {
        void run(int blockRow0, int blockRow1);
    }

    /** Splits block rows into parts of about equal cost (stored values plus outputs), one per thread. */
    private static void parallel(PackedSparse w, int m, Part part) {
        int[] ptr = w.blockRowPtr();
        int rows = w.blockRowCount();
        long perBlock = (long) w.br() * w.bc(), total = cost(ptr, rows, perBlock, w.br());
        WorkerPool pool = WorkerPool.shared();
        int chunks = Math.min(rows, pool.chunks(total * m, MIN_PER_THREAD));
        if (chunks <= 1) {
            part.run(0, rows);
            return;
        }
        pool.parallelFor(chunks, t -> part.run(split(ptr, rows, perBlock, w.br(), total * t / chunks),
                split(ptr, rows, perBlock, w.br(), total * (t + 1) / chunks)));
    }

    private static long cost(int[] ptr, int b, long perBlock, int br) {
        return ptr[b] * perBlock + (long) b * br;
    }

    /** The first block row whose starting cost reaches target (binary search; cost grows with b). */
    private static int split(int[] ptr, int rows, long perBlock, int br, long target) {
        int lo = 0, hi = rows;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (cost(ptr, mid, perBlock, br) < target) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }
}
