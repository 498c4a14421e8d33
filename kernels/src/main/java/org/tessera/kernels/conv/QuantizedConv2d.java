package org.tessera.kernels.conv;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.tessera.kernels.Checks;
import org.tessera.kernels.HostStorage;
import org.tessera.kernels.MemoryKind;
import org.tessera.kernels.Storage;
import org.tessera.kernels.WorkerPool;
import org.tessera.kernels.spi.Conv2dShape;
import org.tessera.kernels.spi.Int8GemmKernels;
import org.tessera.kernels.spi.Int8Input;
import org.tessera.kernels.spi.Int8Output;
import org.tessera.kernels.spi.PackedInt8;

/**
 * int8 convolution on a backend's int8 GEMM, with the GEMM's contract (exact s32 sums, the
 * {@link Int8Output} epilogue to the bit): filters (k, r, s, c) s8 are packed once with per-tensor or
 * per-output-channel scales; activations (n, h, w, c) u8/s8. 1x1 stride-1 unpadded layers are one GEMM on the
 * NHWC buffer; the rest run im2col of the activation bytes in chunks (padding filled with the activations'
 * zero point, i.e. real zero) feeding the GEMM, output written straight into y. Groups = 1 only, for now.
 */
final class QuantizedConv2d {
    private static final long WORKSPACE_BYTES = 1L << 20;
    private static final ThreadLocal<HostStorage[]> WORKSPACE = ThreadLocal.withInitial(() -> new HostStorage[1]);

    private final Int8GemmKernels gemm;

    QuantizedConv2d(Int8GemmKernels gemm) {
        this.gemm = gemm;
    }

    String kernelId(Conv2dShape s) {
        return (GemmConv2d.algorithm(s) == GemmConv2d.Algorithm.GEMM_1X1 ? "i8_conv2d_1x1_gemm/" : "i8_conv2d_im2col/") + gemm.kernelId();
    }

    PackedInt8 pack(Conv2dShape s, Storage w, long wOff, float[] scales) {
        requireOneGroup(s);
        int cols = columns(s);
        return gemm.pack(true, cols, s.k(), w, wOff, cols, scales);
    }

    void forward(Conv2dShape s, Int8Input xq, Storage x, long xOff, PackedInt8 filters, Int8Output out, Storage bias, long biasOff,
                 Storage y, long yOff) {
        requireOneGroup(s);
        int cols = columns(s);
        if (filters == null) throw new NullPointerException("filters is null");
        if (filters.k() != cols || filters.n() != s.k()) {
            throw new IllegalArgumentException("filters were packed for " + filters.n() + " filters of " + filters.k() + " taps, but the shape has "
                    + s.k() + " filters of r*s*c = " + cols + " taps");
        }
        long xLen = (long) s.n() * s.h() * s.w() * s.c(), pixels = (long) s.n() * s.outH() * s.outW();
        Checks.block("x", x, MemoryKind.HOST, 1, xOff, 1, xLen, xLen);
        long yLen = pixels * s.k();
        Checks.block("y", y, MemoryKind.HOST, out.type().byteSize(), yOff, 1, yLen, yLen);
        long yStart = yOff * out.type().byteSize(), yEnd = yStart + yLen * out.type().byteSize();
        if (x == y && xOff < yEnd && yStart < xOff + xLen) {
            throw new IllegalArgumentException("y overlaps x: a convolution cannot run in place; write y to its own buffer");
        }
        if (pixels > Integer.MAX_VALUE) throw new IllegalArgumentException("int8 conv2d supports up to 2^31-1 output pixels, got " + pixels);
        if (GemmConv2d.algorithm(s) == GemmConv2d.Algorithm.GEMM_1X1) {
            gemm.gemm((int) pixels, xq, x, xOff, s.c(), filters, out, y, yOff, s.k(), bias, biasOff);
            return;
        }
        int chunk = (int) Math.min(pixels, Math.max(GemmConv2d.MIN_CHUNK_ROWS, WORKSPACE_BYTES / cols));
        HostStorage ws = workspace((long) chunk * cols);
        MemorySegment xs = ((HostStorage) x).segment(), wss = ws.segment();
        byte pad = (byte) xq.zeroPoint();
        WorkerPool pool = WorkerPool.shared();
        Storage.acquireAll(x);
        try {
            for (long p0 = 0; p0 < pixels; p0 += chunk) {
                final long first = p0;
                int rows = (int) Math.min(chunk, pixels - p0);
                int parts = pool.chunks((long) rows * cols, 1 << 16);
                pool.parallelFor(parts, t -> {
                    int r0 = (int) ((long) rows * t / parts), r1 = (int) ((long) rows * (t + 1) / parts);
                    Im2col.rowsBytes(s, xs, xOff, first + r0, r1 - r0, wss, (long) r0 * cols, pad);
                });
                gemm.gemm(rows, xq, ws, 0, cols, filters, out, y, yOff + p0 * s.k(), s.k(), bias, biasOff);
            }
        } finally {
            Storage.releaseAll(x);
        }
    }

    private static int columns(Conv2dShape s) {
        long cols = (long) s.r() * s.s() * s.c();
        if (cols > Int8GemmKernels.MAX_K) {
            throw new IllegalArgumentException("r*s*c = " + cols + " exceeds " + Int8GemmKernels.MAX_K + ", the largest exact int8 sum length");
        }
        return (int) cols;
    }

    private static void requireOneGroup(Conv2dShape s) {
        if (s.groups() != 1) throw new IllegalArgumentException("int8 conv2d supports groups = 1 only so far, got groups = " + s.groups());
    }

    private static HostStorage workspace(long bytes) {
        HostStorage[] held = WORKSPACE.get();
        if (held[0] == null || held[0].byteSize() < bytes) held[0] = HostStorage.allocate(Arena.ofAuto(), bytes);
        return held[0];
    }
}
