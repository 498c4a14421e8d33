package org.tessera.kernels.conv;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.tessera.kernels.GuidedChunks;
import org.tessera.kernels.HostStorage;
import org.tessera.kernels.MemoryKind;
import org.tessera.kernels.SharedPackedB;
import org.tessera.kernels.Storage;
import org.tessera.kernels.WorkerPool;
import org.tessera.kernels.spi.CheckedConv;
import org.tessera.kernels.spi.Conv2dShape;
import org.tessera.kernels.spi.F32GemmKernels;
import org.tessera.kernels.spi.Int8GemmKernels;
import org.tessera.kernels.spi.Int8Input;
import org.tessera.kernels.spi.Int8Output;
import org.tessera.kernels.spi.PackedF32Filters;
import org.tessera.kernels.spi.PackedInt8Filters;

/**
 * Host convolution composed from a backend's GEMM and depthwise kernel. The algorithm per shape
 * ({@link #algorithm}):
 * <ul>
 *   <li>1x1, stride 1, no padding, one group: y (n h w, k) = x (n h w, c) * w^T (c, k), one GEMM on the NHWC
 *       buffers, no copy (on a backend with an {@link ImplicitGemmConv2d}, that kernel: it reads the rows of x
 *       in place where the GEMM would pack them; native, 28x28x128: 87 -> 92 GFLOP/s, 1 thread);</li>
 *   <li>depthwise (groups = c = k): the direct kernel, rows of the output split over the pool;</li>
 *   <li>one group with a short patch (r s c at most {@link #DIRECT_MAX_PATCH}), on a backend with a
 *       {@link DirectConv2d}: that direct kernel, rows of the output over the pool;</li>
 *   <li>anything else, on a backend with an {@link ImplicitGemmConv2d}: per group, the filters packed once
 *       (shared by the threads), then the GEMM on patches gathered from x while packing, pixel ranges over
 *       the pool;</li>
 *   <li>anything else otherwise: per group, im2col of a chunk of output pixels into a reused per-thread workspace
 *       (at most {@link #WORKSPACE_FLOATS} floats, at least {@link #MIN_CHUNK_ROWS} rows), then the GEMM of
 *       the chunk with the group's filters, bias and ReLU fused, written straight into y's group columns.
 *       Chunks keep the copy cache-sized and the workspace bounded for any input size.</li>
 * </ul>
 * Backward: dx as the forward convolution of dy with flipped filters where one exists (stride 1, dilation 1, one
 * group; on the implicit GEMM the flipped filters are packed straight from w, not copied first), else GEMM + col2im;
 * depthwise dw (and db) on the backend's depthwise weight-gradient kernel where it has one, channel blocks over the
 * pool, else {@link DepthwiseBackward}; dw of general shapes from {@link ImplicitGemmConv2d#weightGradient} where the backend
 * has it (no im2col matrix), else im2col + GEMM.
 */
public final class GemmConv2d extends CheckedConv {
    /**
     * Which algorithm a shape runs on. IM2COL is the general case: im2col + GEMM, or the implicit GEMM on a
     * backend that has one ({@link #kernelId} names the kernel).
     */
    public enum Algorithm { GEMM_1X1, DEPTHWISE, IM2COL }

    /**
     * 1 MiB chunks: the GEMM packs a chunk while it is still in L2/L3. Measured (native, 3x3 at 56x56x64, 1 thread):
     * 8 MiB chunks 36, 1 MiB 62, 256 KiB 38, 128 KiB 51 GFLOP/s.
     */
    static final long WORKSPACE_FLOATS = 1L << 18;
    static final int MIN_CHUNK_ROWS = 96;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

    /** The calling thread's im2col workspace, transposed depthwise (or direct) filters, packed filters and flipped filters for dx; grown on demand, GC-freed. */
    private static final ThreadLocal<HostStorage[]> SCRATCH = ThreadLocal.withInitial(() -> new HostStorage[4]);

    /**
     * The longest patch (r s c) the direct kernel takes: up to a 3x3 window on 3 channels plus slack. Measured
     * (native, 2 threads, Fashion-MNIST first layer: 3x3 on one channel, 32 filters, 256 images): implicit GEMM
     * 6.0 ms, direct kernel ~1.7 ms, and fused with the 2x2 max pooling after it 2.3 ms against 1.7 + 2.2.
     */
    public static final int DIRECT_MAX_PATCH = 32;

    /**
     * Filters of up to this many packed floats are packed by the calling thread before the pool starts: packing
     * them takes less than a second wake-up of the pool would (native: 576 x 64 floats in 7 us, 2304 x 256 in 135 us).
     */
    static final long SERIAL_PACK_FLOATS = 1L << 17;

    /** Up to this many rows a GEMM skips packing (the backends' small-m path). */
    static final int SMALL_M = 16;

    /** Below this many flops a convolution runs on the calling thread: waking a worker costs more. */
    static final double MIN_PARALLEL_FLOPS = 4e6;


    private final F32GemmKernels gemm;
    private final DepthwiseConv2d depthwise;
    private final ImplicitGemmConv2d implicit;
    private final DirectConv2d direct;

    private final QuantizedConv2d quantized;

    /**
     * Convolution on {@code gemm} (general shapes through im2col) and {@code depthwise}; int8 on {@code int8Gemm}
     * and {@code int8Depthwise}.
     */
    public GemmConv2d(F32GemmKernels gemm, DepthwiseConv2d depthwise, Int8GemmKernels int8Gemm, Int8DepthwiseConv2d int8Depthwise) {
        this(gemm, depthwise, int8Gemm, int8Depthwise, null, null, null);
    }

    /**
     * As above, with general f32 shapes on {@code implicit} and general int8 shapes on {@code implicitInt8} (no
     * im2col copy), and short-patch f32 shapes on {@code direct}, where they are not null.
     */
    public GemmConv2d(F32GemmKernels gemm, DepthwiseConv2d depthwise, Int8GemmKernels int8Gemm, Int8DepthwiseConv2d int8Depthwise,
                      ImplicitGemmConv2d implicit, ImplicitInt8Conv2d implicitInt8, DirectConv2d direct) {
        super(MemoryKind.HOST);
        this.gemm = gemm;
        this.depthwise = depthwise;
        this.implicit = implicit;
        this.direct = direct;
        this.quantized = new QuantizedConv2d(this, int8Gemm, int8Depthwise, implicitInt8);
    }

    @Override
    public String int8KernelId(Conv2dShape shape) {
        return quantized.kernelId(shape);
    }

    @Override
    public PackedInt8Filters packInt8Filters(Conv2dShape shape, Storage w, long wOffset, float[] scales) {
        if (shape == null) throw new NullPointerException("shape is null");
        return quantized.pack(shape, w, wOffset, scales);
    }

    @Override
    public void conv2dInt8(Conv2dShape shape, Int8Input xq, Storage x, long xOffset, PackedInt8Filters filters, Int8Output out,
                           Storage bias, long biasOffset, Storage y, long yOffset) {
        if (shape == null) throw new NullPointerException("shape is null");
        if (xq == null || out == null) throw new NullPointerException("xq and out must not be null");
        quantized.forward(shape, xq, x, xOffset, filters, out, bias, biasOffset, y, yOffset);
    }

    /** The algorithm {@link #conv2dF32} uses for this shape. */
    public static Algorithm algorithm(Conv2dShape s) {
        if (s.groups() == 1 && s.r() == 1 && s.s() == 1 && s.strideH() == 1 && s.strideW() == 1
                && s.padTop() == 0 && s.padBottom() == 0 && s.padLeft() == 0 && s.padRight() == 0) {
            return Algorithm.GEMM_1X1;
        }
        if (s.groups() > 1 && s.groups() == s.c() && s.k() == s.c()) return Algorithm.DEPTHWISE;
        return Algorithm.IM2COL;
    }

    @Override
    public String kernelId(Conv2dShape shape) {
        return switch (algorithm(shape)) {
            case GEMM_1X1 -> "f32_conv2d_1x1_gemm/" + (useImplicit1x1(shape) ? implicit.kernelId() : gemm.kernelId());
            case DEPTHWISE -> depthwise.kernelId();
            case IM2COL -> useDirect(shape) ? direct.kernelId()
                    : useImplicit(shape) ? implicit.kernelId() : "f32_conv2d_im2col/" + gemm.kernelId();
        };
    }

    @Override
    protected void run(Conv2dShape s, Storage x, long xOff, Storage w, long wOff, Storage bias, long biasOff,
                       Storage y, long yOff, boolean relu) {
        switch (algorithm(s)) {
            case GEMM_1X1 -> {
                if (useImplicit1x1(s)) implicitGemm(s, x, xOff, w, wOff, bias, biasOff, y, yOff, relu);
                else pointwise(s, x, xOff, w, wOff, bias, biasOff, y, yOff, relu);
            }
            case DEPTHWISE -> depthwise(s, x, xOff, depthwiseTaps(s, w, wOff, depthwise.tapStride(s)), bias, biasOff, y, yOff, relu);
            case IM2COL -> {
                if (useDirect(s)) direct(s, x, xOff, w, wOff, bias, biasOff, y, yOff, relu);
                else if (useImplicit(s)) implicitGemm(s, x, xOff, w, wOff, bias, biasOff, y, yOff, relu);
                else im2colGemm(s, x, xOff, w, wOff, bias, biasOff, y, yOff, relu);
            }
        }
    }

    private boolean useDirect(Conv2dShape s) {
        return direct != null && s.groups() == 1 && (long) s.r() * s.s() * s.c() <= DIRECT_MAX_PATCH
                && (long) s.n() * s.outH() <= Integer.MAX_VALUE;
    }

    @Override
    public String conv2dMaxPoolKernelId(Conv2dShape shape, int pool) {
        return shape != null && pool >= 1 && useDirect(shape) ? direct.kernelId() + "+maxpool" : null;
    }

    @Override
    protected void runMaxPool(Conv2dShape s, int pool, Storage x, long xOff, Storage w, long wOff, Storage bias, long biasOff,
                              Storage y, long yOff, boolean relu) {
        direct(s, pool, x, xOff, w, wOff, bias, biasOff, y, yOff, relu);
    }

    private void direct(Conv2dShape s, Storage x, long xOff, Storage w, long wOff, Storage bias, long biasOff,
                        Storage y, long yOff, boolean relu) {
        direct(s, 1, x, xOff, w, wOff, bias, biasOff, y, yOff, relu);
    }

    /**
     * The filters transposed to (r, s, c, kPad) once per call (a few KiB), then output rows (pooled rows with
     * pool > 1) over the pool.
     */
    private void direct(Conv2dShape s, int pool, Storage x, long xOff, Storage w, long wOff, Storage bias, long biasOff,
                        Storage y, long yOff, boolean relu) {
        int k = s.k(), kPad = (k + 7) / 8 * 8, patch = s.r() * s.s() * s.c();
        MemorySegment ws = ((HostStorage) w).segment(), wt = scratch(1, 4L * patch * kPad).segment();
        for (int e = 0; e < patch; e++) { // (k, r, s, c) -> (r, s, c, kPad)
            for (int j = 0; j < kPad; j++) wt.setAtIndex(F32, (long) e * kPad + j, j < k ? ws.getAtIndex(F32, wOff + (long) j * patch + e) : 0f);
        }
        MemorySegment xs = ((HostStorage) x).segment(), ys = ((HostStorage) y).segment();
        MemorySegment bs = bias == null ? null : ((HostStorage) bias).segment();
        int rows = s.n() * (s.outH() / pool);
        WorkerPool workers = WorkerPool.shared();
        int parts = s.flops() < MIN_PARALLEL_FLOPS ? 1 : Math.min(rows, workers.threads());
        workers.parallelFor(parts, t -> direct.rows(s, pool, xs, xOff, wt, bs, biasOff, ys, yOff, relu,
                (int) ((long) rows * t / parts), (int) ((long) rows * (t + 1) / parts)));
    }

    /**
     * A 1x1 layer of more than {@link #SMALL_M} pixels runs on the implicit kernel; fewer pixels take the GEMM's
     * small-m path, which streams the filters once instead of packing them per call.
     */
    private boolean useImplicit1x1(Conv2dShape s) {
        return useImplicit(s) && (long) s.n() * s.outH() * s.outW() > SMALL_M;
    }

    private boolean useImplicit(Conv2dShape s) {
        return implicit != null && (long) s.n() * s.outH() * s.outW() <= Integer.MAX_VALUE;
    }

    /**
     * Per group, pixel ranges over the pool (the kernels run every filter tile against a pixel tile before the next,
     * so a thread given only some filters would lose that input reuse: 12x32, 14x14x256, 2 threads, in-JVM A/B, pixel
     * ranges 3% faster by median), against filters packed by the caller when they are small
     * ({@link #SERIAL_PACK_FLOATS}) or by all threads into one shared buffer. The first wakes the pool once per
     * group, with ranges in {@link GuidedChunks} down to one pixel tile; the second twice.
     */
    private void implicitGemm(Conv2dShape s, Storage x, long xOff, Storage w, long wOff, Storage bias, long biasOff,
                              Storage y, long yOff, boolean relu) {
        MemorySegment ws = ((HostStorage) w).segment();
        implicitGemm(s, x, xOff, (g, j0, j1, packed) -> implicit.packFilters(s, ws, wOff, g, j0, j1, packed), null, bias, biasOff, y, yOff, relu);
    }

    /** Packs filters [j0, j1) of group g for the implicit GEMM into packed (one group's buffer). */
    @FunctionalInterface
    private interface FilterPacker {
        void pack(int g, int j0, int j1, MemorySegment packed);
    }

    /**
     * The implicit GEMM on filters the packer packs per call, or, when {@code prepacked} is not null (and the packer
     * null), on every group's filters packed there already.
     */
    private void implicitGemm(Conv2dShape s, Storage x, long xOff, FilterPacker packer, MemorySegment prepacked, Storage bias,
                              long biasOff, Storage y, long yOff, boolean relu) {
        int pixels = s.n() * s.outH() * s.outW(), kg = s.k() / s.groups();
        long perGroup = implicit.packedFloats(s);
        boolean pack = prepacked == null;
        MemorySegment scratch = pack ? scratch(2, 4 * perGroup).segment() : null;
        MemorySegment xs = ((HostStorage) x).segment(), ys = ((HostStorage) y).segment();
        MemorySegment bs = bias == null ? null : ((HostStorage) bias).segment();
        WorkerPool pool = WorkerPool.shared();
        int threads = s.flops() >= MIN_PARALLEL_FLOPS ? pool.threads() : 1, mr = implicit.mr(), nr = implicit.nr();
        int tiles = (pixels + mr - 1) / mr;
        for (int g = 0; g < s.groups(); g++) {
            final int group = g;
            MemorySegment packed = pack ? scratch : prepacked.asSlice(4 * perGroup * g, 4 * perGroup);
            if (threads == 1) {
                if (pack) packer.pack(g, 0, kg, packed);
                implicit.rows(s, xs, xOff, g, packed, bs, biasOff, ys, yOff, relu, 0, kg, 0, pixels);
            } else if (!pack || perGroup <= SERIAL_PACK_FLOATS) {
                if (pack) packer.pack(g, 0, kg, packed);
                // shrinking chunks: the threads end less than a pixel tile apart (in-JVM A/B, 2 threads, 12x32, medians
                // of 60-80 alternating slices against 4 equal chunks per thread: 1x1 28x28x128 137 -> 134, 188 -> 167,
                // 150 -> 143 us)
                int tasks = GuidedChunks.count(tiles, threads);
                pool.parallelFor(tasks, t -> {
                    long p0 = Math.min(pixels, GuidedChunks.start(tiles, threads, t) * mr);
                    long p1 = Math.min(pixels, GuidedChunks.start(tiles, threads, t + 1) * mr);
                    if (p0 < p1) implicit.rows(s, xs, xOff, group, packed, bs, biasOff, ys, yOff, relu, 0, kg, p0, p1);
                });
            } else {
                SharedPackedB.run(pool, pixels, kg, kg, mr, nr,
                        (jc, nc, j0, j1) -> packer.pack(group, j0, j1, packed),
                        (jc, nc, p0, p1) -> implicit.rows(s, xs, xOff, group, packed, bs, biasOff, ys, yOff, relu, 0, kg, p0, p1));
            }
        }
    }

    /** Whether this shape runs on the implicit GEMM (1x1 layers included). */
    private boolean runsImplicit(Conv2dShape s) {
        return switch (algorithm(s)) {
            case GEMM_1X1 -> useImplicit1x1(s);
            case DEPTHWISE -> false;
            case IM2COL -> !useDirect(s) && useImplicit(s);
        };
    }

    @Override
    protected PackedF32Filters pack(Conv2dShape s, Storage w, long wOff) {
        long len = (long) s.k() * s.r() * s.s() * (s.c() / s.groups()), perGroup = implicit == null ? 0 : implicit.packedFloats(s);
        int kg = s.k() / s.groups();
        MemorySegment ws = ((HostStorage) w).segment();
        HostStorage plain = HostStorage.allocate(4 * len), packed = null;
        try {
            MemorySegment.copy(ws, 4 * wOff, plain.segment(), 0, 4 * len);
            if (algorithm(s) == Algorithm.DEPTHWISE) {
                long stride = depthwise.tapStride(s);
                packed = HostStorage.allocate(4L * s.r() * s.s() * stride);
                transposeTaps(s, ws, wOff, packed.segment(), stride);
            } else if (implicit != null) {
                packed = HostStorage.allocate(4 * perGroup * s.groups());
                for (int g = 0; g < s.groups(); g++) {
                    implicit.packFilters(s, ws, wOff, g, 0, kg, packed.segment().asSlice(4 * perGroup * g, 4 * perGroup));
                }
            }
        } catch (RuntimeException | Error e) {
            plain.close();
            if (packed != null) packed.close();
            throw e;
        }
        return new PackedF32Filters(this, s.k(), s.r(), s.s(), s.c(), s.groups(), plain, packed);
    }

    @Override
    protected void runPacked(Conv2dShape s, Storage x, long xOff, PackedF32Filters f, Storage bias, long biasOff, Storage y, long yOff,
                             boolean relu) {
        if (f.packed() != null && algorithm(s) == Algorithm.DEPTHWISE) {
            depthwise(s, x, xOff, ((HostStorage) f.packed()).segment(), bias, biasOff, y, yOff, relu);
        } else if (f.packed() != null && runsImplicit(s)) {
            implicitGemm(s, x, xOff, null, ((HostStorage) f.packed()).segment(), bias, biasOff, y, yOff, relu);
        } else {
            run(s, x, xOff, f.plain(), 0, bias, biasOff, y, yOff, relu);
        }
    }

    private void pointwise(Conv2dShape s, Storage x, long xOff, Storage w, long wOff, Storage bias, long biasOff,
                           Storage y, long yOff, boolean relu) {
        long pixels = (long) s.n() * s.h() * s.w();
        for (long p0 = 0; p0 < pixels; p0 += Integer.MAX_VALUE) { // GEMM sizes are ints
            int rows = (int) Math.min(Integer.MAX_VALUE, pixels - p0);
            gemm.gemm(false, true, rows, s.k(), s.c(), 1f, x, xOff + p0 * s.c(), s.c(), w, wOff, s.c(), 0f,
                    y, yOff + p0 * s.k(), s.k(), bias, biasOff, relu);
        }
    }

    private void im2colGemm(Conv2dShape s, Storage x, long xOff, Storage w, long wOff, Storage bias, long biasOff,
                            Storage y, long yOff, boolean relu) {
        long cols = Im2col.columns(s), pixels = (long) s.n() * s.outH() * s.outW();
        int kg = s.k() / s.groups();
        int chunk = chunkRows(s);
        MemorySegment xs = ((HostStorage) x).segment();
        WorkerPool pool = WorkerPool.shared();
        int threads = pool.threads();
        if (threads > 1 && s.flops() >= MIN_PARALLEL_FLOPS && pixels >= (long) threads * MIN_CHUNK_ROWS) {
            // Each thread takes whole chunks (im2col into its own workspace, then a one-thread GEMM): one pool
            // wake-up per call instead of two per chunk. Chunks are evened out to a multiple of the thread count.
            // java, 2 threads: 3x3 56x56x64 66 -> 101 GFLOP/s, 14x14x256 117 -> 118-120, FMNIST conv2 100 -> 95-101.
            long count = evenChunks(pixels, chunk, threads);
            int rowsPer = (int) ((pixels + count - 1) / count);
            pool.parallelFor(threads, t -> {
                HostStorage ws = scratch(0, 4 * rowsPer * cols);
                for (int g = 0; g < s.groups(); g++) {
                    for (long ci = t; ci < count; ci += threads) {
                        long p0 = ci * rowsPer;
                        int rows = (int) Math.min(rowsPer, pixels - p0);
                        if (rows <= 0) continue;
                        Im2col.rows(s, xs, xOff, g, p0, rows, ws.segment(), 0);
                        gemm.gemm(false, true, rows, kg, (int) cols, 1f, ws, 0, cols, w, wOff + (long) g * kg * cols, cols, 0f,
                                y, yOff + p0 * s.k() + (long) g * kg, s.k(), bias, bias == null ? 0 : biasOff + (long) g * kg, relu);
                    }
                }
            });
            return;
        }
        HostStorage ws = scratch(0, 4 * chunk * cols);
        MemorySegment wss = ws.segment();
        for (int g = 0; g < s.groups(); g++) {
            final int group = g;
            for (long p0 = 0; p0 < pixels; p0 += chunk) {
                final long first = p0;
                int rows = (int) Math.min(chunk, pixels - p0);
                int parts = pool.chunks((long) rows * cols, 1 << 16);
                pool.parallelFor(parts, t -> {
                    int r0 = (int) ((long) rows * t / parts), r1 = (int) ((long) rows * (t + 1) / parts);
                    Im2col.rows(s, xs, xOff, group, first + r0, r1 - r0, wss, r0 * cols);
                });
                gemm.gemm(false, true, rows, kg, (int) cols, 1f, ws, 0, cols, w, wOff + (long) g * kg * cols, cols, 0f,
                        y, yOff + p0 * s.k() + (long) g * kg, s.k(), bias, bias == null ? 0 : biasOff + (long) g * kg, relu);
            }
        }
    }

    /**
     * Depthwise convolution with the filters in taps layout (r, s, c), taps {@code depthwise.tapStride} apart, as
     * {@link #depthwiseTaps} writes them.
     */
    private void depthwise(Conv2dShape s, Storage x, long xOff, MemorySegment wt, Storage bias, long biasOff,
                           Storage y, long yOff, boolean relu) {
        int c = s.c(), taps = s.r() * s.s();
        MemorySegment xs = ((HostStorage) x).segment(), ys = ((HostStorage) y).segment();
        MemorySegment bs = bias == null ? null : ((HostStorage) bias).segment();
        long outRows = (long) s.n() * s.outH();
        if (outRows > Integer.MAX_VALUE) throw new IllegalArgumentException("depthwise conv2d supports up to 2^31-1 output rows (n * outH), got " + outRows);
        int rows = (int) outRows;
        WorkerPool pool = WorkerPool.shared();
        int parts = pool.chunks((long) rows * s.outW() * c * taps, 1 << 15);
        pool.parallelFor(parts, t -> depthwise.rows(s, xs, xOff, wt, bs, biasOff, ys, yOff, relu,
                (int) ((long) rows * t / parts), (int) ((long) rows * (t + 1) / parts)));
    }

    /**
     * Depthwise filters (c, r, s, 1) transposed to (r, s, c), taps {@code stride} floats apart, in the calling thread's
     * scratch slot 1.
     */
    private static MemorySegment depthwiseTaps(Conv2dShape s, Storage w, long wOff, long stride) {
        MemorySegment wt = scratch(1, 4L * s.r() * s.s() * stride).segment();
        transposeTaps(s, ((HostStorage) w).segment(), wOff, wt, stride);
        return wt;
    }

    /** Depthwise filters (c, r, s, 1) at {@code wOff} in {@code ws} written to {@code wt} as (r, s, c), taps stride apart. */
    private static void transposeTaps(Conv2dShape s, MemorySegment ws, long wOff, MemorySegment wt, long stride) {
        int c = s.c(), taps = s.r() * s.s();
        for (int ch = 0; ch < c; ch++) {
            for (int t = 0; t < taps; t++) wt.setAtIndex(F32, t * stride + ch, ws.getAtIndex(F32, wOff + (long) ch * taps + t));
        }
    }

    @Override
    protected void runBackwardData(Conv2dShape s, Storage dy, long dyOff, Storage w, long wOff, Storage dx, long dxOff) {
        Conv2dShape t = transposed(s);
        if (t != null && algorithm(t) == Algorithm.IM2COL && !useDirect(t) && useImplicit(t) && implicit.packsFlippedFilters()) {
            MemorySegment ws = ((HostStorage) w).segment();
            implicitGemm(t, dy, dyOff, (g, j0, j1, packed) -> implicit.packFlippedFilters(s, ws, wOff, j0, j1, packed), null, null, 0,
                    dx, dxOff, false);
            return;
        }
        if (t != null && (algorithm(t) == Algorithm.DEPTHWISE || useDirect(t) || runsImplicit(t))) {
            run(t, dy, dyOff, flippedFilters(s, w, wOff), 0, null, 0, dx, dxOff, false);
            return;
        }
        if (algorithm(s) == Algorithm.DEPTHWISE) {
            DepthwiseBackward.data(s, ((HostStorage) dy).segment(), dyOff, depthwiseTaps(s, w, wOff, s.c()), ((HostStorage) dx).segment(), dxOff);
            return;
        }
        int chunk = chunkRows(s);
        ConvBackward.data(gemm, scratch(0, 4 * chunk * Im2col.columns(s)), chunk, s, dy, dyOff, w, wOff, dx, dxOff);
    }

    @Override
    protected void runBackwardWeights(Conv2dShape s, Storage x, long xOff, Storage dy, long dyOff, Storage dw, long dwOff,
                                      Storage db, long dbOff) {
        if (implicit != null && algorithm(s) == Algorithm.IM2COL && implicit.hasWeightGradient(s)) {
            MemorySegment xs = ((HostStorage) x).segment(), dys = ((HostStorage) dy).segment(), dws = ((HostStorage) dw).segment();
            WorkerPool pool = WorkerPool.shared();
            int rows = implicit.weightGradientRows(s), tiles = (s.k() + rows - 1) / rows;
            int tasks = s.flops() >= MIN_PARALLEL_FLOPS ? Math.min(pool.threads(), tiles) : 1;
            MemorySegment dbs = db == null ? null : ((HostStorage) db).segment();
            // each task sums db for its own filters too: run serially after the parallel dw, db added 3-8% to the
            // two-thread call (FMNIST conv2 at 64 images, 3x3 56x56x64)
            pool.parallelFor(tasks, t -> {
                int j0 = Math.min(s.k(), tiles * t / tasks * rows), j1 = Math.min(s.k(), tiles * (t + 1) / tasks * rows);
                implicit.weightGradient(s, xs, xOff, dys, dyOff, dws, dwOff, j0, j1);
                if (dbs != null) ConvBackward.biasGradient(s, dys, dyOff, dbs, dbOff, j0, j1);
            });
            return;
        }
        if (algorithm(s) == Algorithm.DEPTHWISE && depthwise.weightGradientChannels(s) > 0) {
            MemorySegment xs = ((HostStorage) x).segment(), dys = ((HostStorage) dy).segment(), dws = ((HostStorage) dw).segment();
            MemorySegment sums = scratch(1, 4L * (s.r() * s.s() + 1) * s.c()).segment(), dbs = db == null ? null : ((HostStorage) db).segment();
            int block = depthwise.weightGradientChannels(s), blocks = (s.c() + block - 1) / block;
            WorkerPool pool = WorkerPool.shared();
            int tasks = Math.min(blocks, pool.chunks((long) s.n() * s.outH() * s.outW() * s.c() * s.r() * s.s(), 1 << 15));
            pool.parallelFor(tasks, t -> depthwise.weightGradient(s, xs, xOff, dys, dyOff, sums, dws, dwOff, dbs, dbOff,
                    Math.min(s.c(), blocks * t / tasks * block), Math.min(s.c(), blocks * (t + 1) / tasks * block)));
            return;
        }
        if (algorithm(s) == Algorithm.DEPTHWISE) {
            MemorySegment dys = ((HostStorage) dy).segment();
            DepthwiseBackward.weights(s, ((HostStorage) x).segment(), xOff, dys, dyOff, ((HostStorage) dw).segment(), dwOff,
                    scratch(1, 4L * s.r() * s.s() * s.c()).segment());
            if (db != null) ConvBackward.biasGradient(s, dys, dyOff, ((HostStorage) db).segment(), dbOff);
            return;
        }
        int chunk = chunkRows(s);
        ConvBackward.weights(gemm, scratch(0, 4 * chunk * Im2col.columns(s)), chunk, s, x, xOff, dy, dyOff, dw, dwOff, db, dbOff);
    }

    /**
     * The forward convolution that computes dx of {@code s}, or null where there is none: with stride 1, dilation
     * 1 and one group, dx[ih][iw][c] = sum over k, r, s of dy[ih + padTop - r][iw + padLeft - s][k] w[k][r][s][c],
     * a convolution of dy (k channels) with the filters flipped in space and transposed to (c, r, s, k), padded
     * by the rest of the window (r - 1 - pad on each side; a pad of the whole window or more has no such form).
     * Depthwise likewise, each channel with its own flipped filter. It runs on the fast forward kernels and needs
     * no col2im scatter.
     */
    static Conv2dShape transposed(Conv2dShape s) {
        boolean depthwise = algorithm(s) == Algorithm.DEPTHWISE;
        if ((s.groups() != 1 && !depthwise) || s.strideH() != 1 || s.strideW() != 1 || s.dilationH() != 1 || s.dilationW() != 1 || algorithm(s) == Algorithm.GEMM_1X1) {
            return null;
        }
        int top = s.r() - 1 - s.padTop(), bottom = s.r() - 1 - s.padBottom(), left = s.s() - 1 - s.padLeft(), right = s.s() - 1 - s.padRight();
        if (top < 0 || bottom < 0 || left < 0 || right < 0) return null;
        return new Conv2dShape(s.n(), s.outH(), s.outW(), s.k(), s.c(), s.r(), s.s(), 1, 1, top, bottom, left, right, 1, 1, s.groups());
    }

    /**
     * w (k, r, s, c) flipped in space and transposed to (c, r, s, k), in the calling thread's scratch slot 3;
     * depthwise filters (c, r, s, 1) only flipped.
     */
    private static HostStorage flippedFilters(Conv2dShape s, Storage w, long wOff) {
        int k = s.k(), r = s.r(), q = s.s(), c = s.c();
        HostStorage out = scratch(3, 4L * k * r * q * (c / s.groups()));
        MemorySegment src = ((HostStorage) w).segment(), dst = out.segment();
        if (s.groups() != 1) { // depthwise: one channel per filter
            for (int kk = 0; kk < k; kk++) {
                for (int t = 0; t < r * q; t++) dst.setAtIndex(F32, (long) kk * r * q + (r * q - 1 - t), src.getAtIndex(F32, wOff + (long) kk * r * q + t));
            }
            return out;
        }
        for (int kk = 0; kk < k; kk++) {
            for (int i = 0; i < r; i++) {
                for (int j = 0; j < q; j++) {
                    long from = wOff + (((long) kk * r + i) * q + j) * c, to = (((long) (r - 1 - i) * q) + (q - 1 - j)) * k + kk;
                    for (int cc = 0; cc < c; cc++) dst.setAtIndex(F32, (long) cc * r * q * k + to, src.getAtIndex(F32, from + cc));
                }
            }
        }
        return out;
    }

    /** How many im2col chunks of at most {@code chunk} rows cover {@code pixels}, rounded up to a multiple of threads. */
    static long evenChunks(long pixels, int chunk, int threads) {
        return ((pixels + chunk - 1) / chunk + threads - 1) / threads * threads;
    }

    /** Output pixels per im2col chunk: the workspace budget, at least {@link #MIN_CHUNK_ROWS}, at most all of them. */
    private static int chunkRows(Conv2dShape s) {
        long pixels = (long) s.n() * s.outH() * s.outW();
        return (int) Math.min(pixels, Math.max(MIN_CHUNK_ROWS, WORKSPACE_FLOATS / Im2col.columns(s)));
    }

    /** The calling thread's scratch buffer {@code slot} of at least {@code bytes}. */
    private static HostStorage scratch(int slot, long bytes) {
        HostStorage[] held = SCRATCH.get();
        if (held[slot] == null || held[slot].byteSize() < bytes) held[slot] = HostStorage.allocate(Arena.ofAuto(), bytes);
        return held[slot];
    }
}
