package org.tessera.kernels.conv;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.tessera.kernels.Checks;
import org.tessera.kernels.DType;
import org.tessera.kernels.HostStorage;
import org.tessera.kernels.MemoryKind;
import org.tessera.kernels.Storage;
import org.tessera.kernels.WorkerPool;
import org.tessera.kernels.spi.ConvKernels;
import org.tessera.kernels.spi.Conv2dShape;
import org.tessera.kernels.spi.Int8GemmKernels;
import org.tessera.kernels.spi.Int8Input;
import org.tessera.kernels.spi.Int8Output;
import org.tessera.kernels.spi.PackedInt8;
import org.tessera.kernels.spi.PackedInt8Filters;

/**
 * int8 convolution with the int8 GEMM's contract (exact s32 sums, the {@link Int8Output} epilogue to the bit):
 * filters (k, r, s, c / groups) s8 are packed once with per-tensor or per-output-channel scales; activations
 * (n, h, w, c) u8/s8. 1x1 stride-1 unpadded one-group layers are one GEMM on the NHWC buffer; depthwise layers
 * run the direct {@link QuantizedDepthwiseConv2d}; the rest, per group, run the backend's
 * {@link ImplicitInt8Conv2d} when it has one (patches gathered while packing; pixel ranges over the pool), or
 * else im2col of the activation bytes in chunks (padding filled with the activations' zero point, i.e. real
 * zero) feeding the GEMM; output written straight into the group's columns of y.
 */
final class QuantizedConv2d {
    private static final long WORKSPACE_BYTES = 1L << 20;
    private static final ThreadLocal<HostStorage[]> WORKSPACE = ThreadLocal.withInitial(() -> new HostStorage[1]);

    private final ConvKernels owner;
    private final Int8GemmKernels gemm;
    private final Int8DepthwiseConv2d depthwise;
    private final ImplicitInt8Conv2d implicit;

    /** {@code implicit} may be null: general shapes then run im2col + the GEMM. */
    QuantizedConv2d(ConvKernels owner, Int8GemmKernels gemm, Int8DepthwiseConv2d depthwise, ImplicitInt8Conv2d implicit) {
        this.owner = owner;
        this.gemm = gemm;
        this.depthwise = depthwise;
        this.implicit = implicit;
    }

    String kernelId(Conv2dShape s) {
        return switch (GemmConv2d.algorithm(s)) {
            case GEMM_1X1 -> "i8_conv2d_1x1_gemm/" + gemm.kernelId();
            case DEPTHWISE -> depthwise.kernelId();
            case IM2COL -> implicit != null ? implicit.kernelId() : "i8_conv2d_im2col/" + gemm.kernelId();
        };
    }

    PackedInt8Filters pack(Conv2dShape s, Storage w, long wOff, float[] scales) {
        int cols = columns(s), groups = s.groups(), kg = s.k() / groups;
        if (scales == null) throw new NullPointerException("scales is null");
        if (scales.length != 1 && scales.length != s.k()) {
            throw new IllegalArgumentException("scales must hold 1 (per tensor) or k = " + s.k() + " (per output channel) values, got "
                    + scales.length);
        }
        if (GemmConv2d.algorithm(s) == GemmConv2d.Algorithm.DEPTHWISE) {
            return QuantizedDepthwiseConv2d.pack(owner, s, w, wOff, scales);
        }
        List<PackedInt8> packed = new ArrayList<>(groups);
        try {
            for (int g = 0; g < groups; g++) {
                float[] sg = scales.length == 1 ? scales : Arrays.copyOfRange(scales, g * kg, (g + 1) * kg);
                packed.add(gemm.pack(true, cols, kg, w, wOff + (long) g * kg * cols, cols, sg));
            }
        } catch (RuntimeException | Error e) {
            packed.forEach(PackedInt8::close);
            throw e;
        }
        return new PackedInt8Filters(owner, s.k(), s.r(), s.s(), s.c(), groups, packed, null, null);
    }

    void forward(Conv2dShape s, Int8Input xq, Storage x, long xOff, PackedInt8Filters filters, Int8Output out, Storage bias, long biasOff,
                 Storage y, long yOff) {
        int cols = columns(s);
        if (filters == null) throw new NullPointerException("filters is null");
        if (filters.owner() != owner) throw new IllegalArgumentException("filters were packed by other conv kernels; pack them with these");
        if (!filters.isAlive()) throw new IllegalStateException("packed filters are closed");
        if (!filters.fits(s)) {
            throw new IllegalArgumentException("filters were packed for k=" + filters.k() + " r=" + filters.r() + " s=" + filters.s() + " c="
                    + filters.c() + " groups=" + filters.groups() + ", but the shape is " + s);
        }
        long xLen = (long) s.n() * s.h() * s.w() * s.c(), pixels = (long) s.n() * s.outH() * s.outW();
        Checks.block("x", x, MemoryKind.HOST, 1, xOff, 1, xLen, xLen);
        long yLen = pixels * s.k();
        Checks.block("y", y, MemoryKind.HOST, out.type().byteSize(), yOff, 1, yLen, yLen);
        long yStart = yOff * out.type().byteSize(), yEnd = yStart + yLen * out.type().byteSize();
        if (x == y && xOff < yEnd && yStart < xOff + xLen) {
            throw new IllegalArgumentException("y overlaps x: a convolution cannot run in place; write y to its own buffer");
        }
        if (bias != null) {
            if (!out.takesBias()) throw new IllegalArgumentException("S32 output takes no bias (the accumulator is raw); use F32, U8 or S8");
            Checks.block("bias", bias, MemoryKind.HOST, Float.BYTES, biasOff, 1, s.k(), s.k());
        }
        if (pixels > Integer.MAX_VALUE) throw new IllegalArgumentException("int8 conv2d supports up to 2^31-1 output pixels, got " + pixels);
        if (pixels == 0 || s.k() == 0) return;
        if (filters.depthwise()) {
            QuantizedDepthwiseConv2d.forward(depthwise, s, xq, x, xOff, filters, out, bias, biasOff, y, yOff);
            return;
        }
        List<PackedInt8> groups = filters.perGroup();
        if (GemmConv2d.algorithm(s) == GemmConv2d.Algorithm.GEMM_1X1) {
            gemm.gemm((int) pixels, xq, x, xOff, s.c(), groups.get(0), out, y, yOff, s.k(), bias, biasOff);
            return;
        }
        if (implicit != null && implicit.accepts(groups.get(0))) {
            implicitForward(s, xq, x, xOff, groups, out, bias, biasOff, y, yOff, (int) pixels, cols);
            return;
        }
        int kg = s.k() / s.groups();
        int chunk = (int) Math.min(pixels, Math.max(GemmConv2d.MIN_CHUNK_ROWS, WORKSPACE_BYTES / Math.max(cols, 1)));
        MemorySegment xs = ((HostStorage) x).segment();
        byte pad = (byte) xq.zeroPoint();
        WorkerPool pool = WorkerPool.shared();
        int threads = pool.threads();
        if (threads > 1 && 2.0 * pixels * cols * s.k() >= GemmConv2d.MIN_PARALLEL_FLOPS && pixels >= (long) threads * GemmConv2d.MIN_CHUNK_ROWS) {
            // as GemmConv2d's f32 im2col: each thread takes whole chunks into its own workspace, one pool wake-up per call
            long count = GemmConv2d.evenChunks(pixels, chunk, threads);
            int rowsPer = (int) ((pixels + count - 1) / count);
            Storage.acquireAll(x);
            try {
                pool.parallelFor(threads, t -> {
                    HostStorage ws = workspace((long) rowsPer * cols);
                    for (int g = 0; g < s.groups(); g++) {
                        for (long ci = t; ci < count; ci += threads) {
                            long p0 = ci * rowsPer;
                            int rows = (int) Math.min(rowsPer, pixels - p0);
                            if (rows <= 0) continue;
                            Im2col.rowsBytes(s, xs, xOff, g, p0, rows, ws.segment(), 0, pad);
                            gemm.gemm(rows, xq, ws, 0, cols, groups.get(g), out, y, yOff + p0 * s.k() + (long) g * kg, s.k(), bias,
                                    bias == null ? 0 : biasOff + (long) g * kg);
                        }
                    }
                });
            } finally {
                Storage.releaseAll(x);
            }
            return;
        }
        HostStorage ws = workspace((long) chunk * cols);
        MemorySegment wss = ws.segment();
        Storage.acquireAll(x);
        try {
            for (int g = 0; g < s.groups(); g++) {
                final int group = g;
                for (long p0 = 0; p0 < pixels; p0 += chunk) {
                    final long first = p0;
                    int rows = (int) Math.min(chunk, pixels - p0);
                    int parts = pool.chunks((long) rows * cols, 1 << 16);
                    pool.parallelFor(parts, t -> {
                        int r0 = (int) ((long) rows * t / parts), r1 = (int) ((long) rows * (t + 1) / parts);
                        Im2col.rowsBytes(s, xs, xOff, group, first + r0, r1 - r0, wss, (long) r0 * cols, pad);
                    });
                    gemm.gemm(rows, xq, ws, 0, cols, groups.get(g), out, y, yOff + p0 * s.k() + (long) g * kg, s.k(), bias,
                            bias == null ? 0 : biasOff + (long) g * kg);
                }
            }
        } finally {
            Storage.releaseAll(x);
        }
    }

    /** Per group, output pixel ranges (multiples of the kernel's row tile) over the pool. */
    private void implicitForward(Conv2dShape s, Int8Input xq, Storage x, long xOff, List<PackedInt8> groups, Int8Output out,
                                 Storage bias, long biasOff, Storage y, long yOff, int pixels, int cols) {
        MemorySegment xs = ((HostStorage) x).segment(), ys = ((HostStorage) y).segment();
        MemorySegment bs = bias == null ? null : ((HostStorage) bias).segment();
        WorkerPool pool = WorkerPool.shared();
        int mr = implicit.mr(), tiles = (pixels + mr - 1) / mr;
        long ops = 2L * pixels * cols * s.k();
        int parts = ops < GemmConv2d.MIN_PARALLEL_FLOPS ? 1 : Math.min(tiles, pool.threads());
        for (PackedInt8 w : groups) Storage.acquireAll(w.data(), w.colsums(), w.scales());
        Storage.acquireAll(x, y, bias);
        try {
            if (bias != null && out.type() != DType.F32) Checks.finiteBias(bs, biasOff, s.k());
            for (int g = 0; g < s.groups(); g++) {
                final int group = g;
                final PackedInt8 w = groups.get(g);
                pool.parallelFor(parts, t -> {
                    long p0 = Math.min(pixels, (long) tiles * t / parts * mr), p1 = Math.min(pixels, (long) tiles * (t + 1) / parts * mr);
                    if (p0 < p1) implicit.rows(s, xq, xs, xOff, group, w, out, bs, biasOff, ys, yOff, p0, p1);
                });
            }
        } finally {
            Storage.releaseAll(x, y, bias);
            for (PackedInt8 w : groups) Storage.releaseAll(w.data(), w.colsums(), w.scales());
        }
    }

    /** Taps per group, r * s * c / groups, bounded by the exact-sum limit of the int8 GEMM. */
    private static int columns(Conv2dShape s) {
        long cols = Im2col.columns(s);
        if (cols > Int8GemmKernels.MAX_K) {
            throw new IllegalArgumentException("r*s*c/groups = " + cols + " exceeds " + Int8GemmKernels.MAX_K + ", the largest exact int8 sum length");
        }
        return (int) cols;
    }

    private static HostStorage workspace(long bytes) {
        HostStorage[] held = WORKSPACE.get();
        if (held[0] == null || held[0].byteSize() < bytes) held[0] = HostStorage.allocate(Arena.ofAuto(), Math.max(bytes, 1));
        return held[0];
    }
}
