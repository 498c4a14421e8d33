package org.tessera;

import java.util.Arrays;
import java.util.Objects;
import org.tessera.kernels.Backends;
import org.tessera.kernels.Backends.Selection;
import org.tessera.kernels.DType;
import org.tessera.kernels.MemoryKind;
import org.tessera.kernels.spi.Backend;
import org.tessera.kernels.spi.BinaryOp;
import org.tessera.kernels.spi.Conv2dShape;
import org.tessera.kernels.spi.ElementwiseKernels;
import org.tessera.kernels.spi.F32GemmKernels;
import org.tessera.kernels.spi.Int8GemmKernels;
import org.tessera.kernels.spi.Int8Input;
import org.tessera.kernels.spi.Int8Output;
import org.tessera.kernels.spi.OpFamily;
import org.tessera.kernels.spi.UnaryOp;

/**
 * Tensor ops, run on the best available backend for the operands' memory ({@link #auto()}) or on one
 * chosen backend ({@link #on}). Every op validates dtypes, shapes and lifetimes before any kernel runs.
 * Each op has a form that allocates its result (owned by the caller: close it) and a form that writes
 * into {@code out}, for loops that must not allocate.
 */
public final class Ops {
    private static final Ops AUTO = new Ops(null);

    private final Backend backend; // null: automatic choice per op

    private Ops(Backend backend) {
        this.backend = backend;
    }

    /** Ops that pick the best available backend for each op (or the one forced by {@code tessera.backend}). */
    public static Ops auto() {
        return AUTO;
    }

    /** Ops that run only on {@code backend}; an op it cannot run throws, naming the reason. */
    public static Ops on(Backend backend) {
        return new Ops(Objects.requireNonNull(backend, "backend"));
    }

    /** Ops on the backend named {@code name} ({@code java}, {@code native}, {@code cuda}). */
    public static Ops on(String name) {
        return on(Backends.get().byName(name));
    }

    /** The backend these ops are bound to, or {@code auto} when each op picks its own. */
    public String backendName() {
        return backend == null ? "auto" : backend.name();
    }

    // ---- elementwise (F32) ------------------------------------------------------------------------

    /** max(x, 0) elementwise, NaN propagating; a new tensor in x's memory. */
    public Tensor relu(Tensor x) {
        return relu(x, like(x));
    }

    /** out = max(x, 0); out may be x (in place). Returns out. */
    public Tensor relu(Tensor x, Tensor out) {
        return unary(UnaryOp.RELU, 0f, x, out);
    }

    /** alpha * x; a new tensor. */
    public Tensor scale(Tensor x, float alpha) {
        return scale(x, alpha, like(x));
    }

    /** out = alpha * x; out may be x. Returns out. */
    public Tensor scale(Tensor x, float alpha, Tensor out) {
        return unary(UnaryOp.SCALE, alpha, x, out);
    }

    /** a + b (same shapes); a new tensor. */
    public Tensor add(Tensor a, Tensor b) {
        return add(a, b, like(a));
    }

    /** out = a + b; out may be a or b. Returns out. */
    public Tensor add(Tensor a, Tensor b, Tensor out) {
        return binary(BinaryOp.ADD, a, b, out);
    }

    /** a * b elementwise (same shapes); a new tensor. */
    public Tensor mul(Tensor a, Tensor b) {
        return mul(a, b, like(a));
    }

    /** out = a * b elementwise; out may be a or b. Returns out. */
    public Tensor mul(Tensor a, Tensor b, Tensor out) {
        return binary(BinaryOp.MUL, a, b, out);
    }

    /**
     * The ReLU gradient: out = dy where y &gt; 0, else 0 (y is the ReLU's output, or its input: both are positive in
     * the same places; a NaN in y gives 0). out may be dy. Returns out.
     */
    public Tensor reluBackward(Tensor y, Tensor dy, Tensor out) {
        return binary(BinaryOp.RELU_GRAD, y, dy, out);
    }

    /** The kernel id that {@code op} runs on tensors in {@code memory}, e.g. {@code f32_vrelu__avx2}. */
    public String kernelId(UnaryOp op, MemoryKind memory) {
        return select(OpFamily.ELEMENTWISE, memory).kernels().kernelId(op);
    }

    private Tensor unary(UnaryOp op, float alpha, Tensor x, Tensor out) {
        requireF32("x", x);
        requireF32("out", out);
        requireSameShape("x", x, "out", out);
        MemoryKind memory = requireSameMemory(x, out);
        ElementwiseKernels k = select(OpFamily.ELEMENTWISE, memory).kernels();
        Tensor xs = rowReadable(x);
        Tensor ys = rowReadable(out);
        try {
            Slabs slabs = Slabs.of(xs, ys);
            slabs.forEach(o -> k.unary(op, alpha, slabs.rows, slabs.cols, xs.storage(), o[0], slabs.ld[0],
                    ys.storage(), o[1], slabs.ld[1]));
            if (ys != out) out.copyFrom(ys);
        } finally {
            if (xs != x) xs.close();
            if (ys != out) ys.close();
        }
        return out;
    }

    private Tensor binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        requireF32("a", a);
        requireF32("b", b);
        requireF32("out", out);
        requireSameShape("a", a, "b", b);
        requireSameShape("a", a, "out", out);
        MemoryKind memory = requireSameMemory(a, b, out);
        ElementwiseKernels k = select(OpFamily.ELEMENTWISE, memory).kernels();
        Tensor as = rowReadable(a), bs = rowReadable(b), ys = rowReadable(out);
        try {
            Slabs slabs = Slabs.of(as, bs, ys);
            slabs.forEach(o -> k.binary(op, slabs.rows, slabs.cols, as.storage(), o[0], slabs.ld[0],
                    bs.storage(), o[1], slabs.ld[1], ys.storage(), o[2], slabs.ld[2]));
            if (ys != out) out.copyFrom(ys);
        } finally {
            if (as != a) as.close();
            if (bs != b) bs.close();
            if (ys != out) ys.close();
        }
        return out;
    }

    /** t itself if kernels can walk its rows, else a contiguous copy (e.g. of a transposed view). */
    private static Tensor rowReadable(Tensor t) {
        return Slabs.rowContiguous(t) ? t : t.copy();
    }

    // ---- matmul (F32) -----------------------------------------------------------------------------

    /** a (m, k) times b (k, n): a new (m, n) tensor. Transposed views are used without copying. */
    public Tensor matmul(Tensor a, Tensor b) {
        return matmul(a, b, null, Activation.IDENTITY);
    }

    /** out (m, n) = a (m, k) times b (k, n). Returns out. */
    public Tensor matmul(Tensor a, Tensor b, Tensor out) {
        return matmul(a, b, null, Activation.IDENTITY, out);
    }

    /** act(a (m, k) times b (k, n) + bias (n)) in one pass: a new (m, n) tensor. bias may be null. */
    public Tensor matmul(Tensor a, Tensor b, Tensor bias, Activation act) {
        requireRank2("a", a);
        requireRank2("b", b);
        requireF32("a", a);
        Tensor out = a.allocateSibling(a.dim(0), b.dim(1));
        try {
            return matmul(a, b, bias, act, out);
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }

    /**
     * out (m, n) = act(a (m, k) times b (k, n) + bias (n)), fused into the GEMM's store of out. bias may be
     * null. Any layout of a and b works; row-major and transposed views are read in place. Returns out.
     *
     * @throws IllegalArgumentException if the inner dimensions, out's shape or bias's shape do not match, naming them
     */
    public Tensor matmul(Tensor a, Tensor b, Tensor bias, Activation act, Tensor out) {
        requireF32("a", a);
        requireF32("b", b);
        requireRank2("a", a);
        requireRank2("b", b);
        long m = a.dim(0), k = a.dim(1), n = b.dim(1);
        if (b.dim(0) != k) {
            throw new IllegalArgumentException("matmul: a is " + Arrays.toString(a.shape()) + " and b is " + Arrays.toString(b.shape())
                    + ": a's columns (" + k + ") must equal b's rows (" + b.dim(0) + ")");
        }
        checkOutAndBias(m, n, bias, act, out);
        requireIntSizes(m, n, k);
        MemoryKind memory = requireSameMemory(bias == null ? new Tensor[] {a, b, out} : new Tensor[] {a, b, out, bias});
        F32GemmKernels gemm = select(OpFamily.F32_GEMM, memory).kernels();
        GemmOperand ga = GemmOperand.of(a), gb = GemmOperand.of(b), gbias = bias == null ? null : GemmOperand.ofVector(bias);
        Tensor c = Slabs.rowContiguous(out) ? out : out.copy();
        try {
            gemm.gemm(ga.transposed, gb.transposed, (int) m, (int) n, (int) k, 1f, ga.tensor.storage(), ga.tensor.offset(), ga.ld,
                    gb.tensor.storage(), gb.tensor.offset(), gb.ld, 0f, c.storage(), c.offset(), ldc(c, m, n),
                    gbias == null ? null : gbias.tensor.storage(), gbias == null ? 0 : gbias.tensor.offset(), act == Activation.RELU);
            if (c != out) out.copyFrom(c);
        } finally {
            ga.release();
            gb.release();
            if (gbias != null) gbias.release();
            if (c != out) c.close();
        }
        return out;
    }

    /**
     * Packs b (k, n) once for this Ops' GEMM kernels (the automatic choice for b's memory, or the bound
     * backend); the result is independent of b and owned by the caller.
     */
    public PackedMatrix pack(Tensor b) {
        requireF32("b", b);
        requireRank2("b", b);
        requireIntSizes(1, b.dim(1), b.dim(0));
        Selection<F32GemmKernels> sel = select(OpFamily.F32_GEMM, b.memoryKind());
        GemmOperand gb = GemmOperand.of(b);
        try {
            return new PackedMatrix(sel.kernels().pack(gb.transposed, (int) b.dim(0), (int) b.dim(1), gb.tensor.storage(),
                    gb.tensor.offset(), gb.ld), sel.backend());
        } finally {
            gb.release();
        }
    }

    /**
     * Packs quantized weights w (k, n, {@link DType#S8}; a transposed view of an (n, k) [out][in] tensor is
     * read in place) once for this Ops' int8 GEMM, with one scale per tensor or one per column.
     *
     * @throws IllegalArgumentException for a bad dtype, shape or scale, or k above {@link Int8GemmKernels#MAX_K}
     */
    public PackedInt8Matrix packInt8(Tensor w, float... scales) {
        return QuantizedMatmul.pack(select(OpFamily.INT8_GEMM, w.memoryKind()), w, scales);
    }

    /**
     * Quantized matmul: a (m, k) U8/S8 activations quantized as {@code aq}, times packed weights, with the
     * epilogue {@code out} (raw S32, dequantized F32, or requantized U8/S8, bias and ReLU fused; the exact
     * arithmetic is in {@link Int8Output}). Returns a new (m, n) tensor of {@code out.type()}. bias (n, F32) may be null.
     */
    public Tensor matmul(Tensor a, Int8Input aq, PackedInt8Matrix w, Int8Output out, Tensor bias) {
        Tensor result = a.allocateSibling(out.type(), a.dim(0), w.cols());
        try {
            return matmul(a, aq, w, out, bias, result);
        } catch (RuntimeException e) {
            result.close();
            throw e;
        }
    }

    /** The quantized matmul into {@code result} ((m, n) of {@code out.type()}). Returns result. */
    public Tensor matmul(Tensor a, Int8Input aq, PackedInt8Matrix w, Int8Output out, Tensor bias, Tensor result) {
        return QuantizedMatmul.matmul(select(OpFamily.INT8_GEMM, a.memoryKind()), a, aq, w, out, bias, result);
    }

    /** act(a (m, k) times packed b (k, n) + bias (n)): a new (m, n) tensor. bias may be null. */
    public Tensor matmul(Tensor a, PackedMatrix b, Tensor bias, Activation act) {
        requireF32("a", a);
        requireRank2("a", a);
        Tensor out = a.allocateSibling(a.dim(0), b.cols());
        try {
            return matmul(a, b, bias, act, out);
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }

    /**
     * out (m, n) = act(a (m, k) times packed b (k, n) + bias (n)). Returns out.
     *
     * @throws IllegalArgumentException if shapes do not match, or b was packed by another backend's kernels
     */
    public Tensor matmul(Tensor a, PackedMatrix b, Tensor bias, Activation act, Tensor out) {
        requireF32("a", a);
        requireRank2("a", a);
        Objects.requireNonNull(b, "b");
        long m = a.dim(0), k = a.dim(1), n = b.cols();
        if (b.rows() != k) {
            throw new IllegalArgumentException("matmul: a is " + Arrays.toString(a.shape()) + " and packed b is [" + b.rows() + ", " + n
                    + "]: a's columns (" + k + ") must equal b's rows (" + b.rows() + ")");
        }
        checkOutAndBias(m, n, bias, act, out);
        MemoryKind memory = requireSameMemory(bias == null ? new Tensor[] {a, out} : new Tensor[] {a, out, bias});
        Selection<F32GemmKernels> sel = select(OpFamily.F32_GEMM, memory);
        if (b.packed().owner() != sel.kernels()) {
            throw new IllegalArgumentException("b was packed for the " + b.backend().name() + " backend but this op runs on "
                    + sel.backend().name() + ": pack it with the same Ops (or backend)");
        }
        GemmOperand ga = GemmOperand.of(a), gbias = bias == null ? null : GemmOperand.ofVector(bias);
        Tensor c = Slabs.rowContiguous(out) ? out : out.copy();
        try {
            sel.kernels().gemmPacked(ga.transposed, (int) m, 1f, ga.tensor.storage(), ga.tensor.offset(), ga.ld, b.packed(), 0f,
                    c.storage(), c.offset(), ldc(c, m, n), gbias == null ? null : gbias.tensor.storage(),
                    gbias == null ? 0 : gbias.tensor.offset(), act == Activation.RELU);
            if (c != out) out.copyFrom(c);
        } finally {
            ga.release();
            if (gbias != null) gbias.release();
            if (c != out) c.close();
        }
        return out;
    }

    // ---- convolution (F32) ------------------------------------------------------------------------

    /**
     * 2-D convolution (cross-correlation) on NHWC activations: act(conv(x, w) + bias), a new (n, outH, outW, k)
     * tensor. x is (n, h, w, c); w is (k, r, s, c / groups), output channel major (from PyTorch's (k, c, r, s),
     * permute to (k, r, s, c)); bias (k) may be null. Padding reads zeros. The algorithm (one GEMM for 1x1,
     * a direct kernel for depthwise, im2col + GEMM otherwise) is chosen per shape: see {@link #convKernelId}.
     *
     * @throws IllegalArgumentException for a channel mismatch, a filter larger than the padded input, or any
     *                                  other bad shape, naming the dimension
     */
    public Tensor conv2d(Tensor x, Tensor w, Tensor bias, Conv2dParams params, Activation act) {
        Conv2dShape s = Convolution.shape(x, w, params);
        Tensor out = x.allocateSibling(s.n(), s.outH(), s.outW(), s.k());
        try {
            return conv2d(x, w, bias, params, act, out);
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }

    /** The convolution into {@code out} ((n, outH, outW, k) F32). Returns out. */
    public Tensor conv2d(Tensor x, Tensor w, Tensor bias, Conv2dParams params, Activation act, Tensor out) {
        return Convolution.forward(select(OpFamily.CONV, x.memoryKind()), x, w, bias, params, act, out);
    }

    /**
     * Prepares a convolution layer's filters w ((k, r, s, c / groups) F32) once for this backend, for
     * {@link #conv2d(Tensor, PackedConv, Tensor, Activation)}: calls with it skip re-packing the filters (the native
     * backend packs them for its implicit GEMM; 3x3 filters on 256 channels, 256 of them: 135 µs of a 2.6 ms call on
     * one core). Fits any input size. Later changes to w do not show; pack again after training steps.
     */
    public PackedConv packConv(Tensor w, Conv2dParams params) {
        return Convolution.pack(select(OpFamily.CONV, w.memoryKind()), w, params);
    }

    /**
     * {@link #conv2d(Tensor, Tensor, Tensor, Conv2dParams, Activation)} with filters from {@link #packConv}: the same
     * values, bit for bit; the layer's params come with w.
     *
     * @throws IllegalArgumentException when w was packed on another backend, or for bad shapes
     * @throws IllegalStateException    when w is closed
     */
    public Tensor conv2d(Tensor x, PackedConv w, Tensor bias, Activation act) {
        Conv2dShape s = Convolution.shape(x, w);
        Tensor out = x.allocateSibling(s.n(), s.outH(), s.outW(), s.k());
        try {
            return conv2d(x, w, bias, act, out);
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }

    /** The convolution with packed filters into {@code out} ((n, outH, outW, k) F32). Returns out. */
    public Tensor conv2d(Tensor x, PackedConv w, Tensor bias, Activation act, Tensor out) {
        return Convolution.forward(select(OpFamily.CONV, x.memoryKind()), x, w, bias, act, out);
    }

    /**
     * The fused kernel {@link #conv2dMaxPool} runs for host examples of shape {@code image} (h, w, c) with filters
     * {@code w} (k, r, s, c / groups), or null when this backend has none for them (then run {@link #conv2d} and
     * {@link #maxPool2d}). The native backend fuses short-patch layers (r s c at most 32, one group: a first
     * layer on 1 to 3 channels), whose output costs more to write and read back than to compute.
     */
    public String conv2dMaxPoolKernelId(long[] image, Tensor w, Conv2dParams params, int pool) {
        return Convolution.maxPoolKernelId(select(OpFamily.CONV, MemoryKind.HOST), image, w, params, pool);
    }

    /**
     * {@code out = maxPool2d(act(conv2d(x, w) + bias))} with a non-overlapping {@code pool x pool} window (stride
     * pool, no padding, floor), in one pass: the full-size activation never goes through memory. Same values as
     * {@link #conv2d} then {@link #maxPool2d} (ties and NaN as there). Returns out, (n, outH / pool, outW / pool, k).
     *
     * @throws IllegalArgumentException when {@link #conv2dMaxPoolKernelId} is null for these operands, or for bad shapes
     */
    public Tensor conv2dMaxPool(Tensor x, Tensor w, Tensor bias, Conv2dParams params, Activation act, int pool, Tensor out) {
        return Convolution.forwardMaxPool(select(OpFamily.CONV, x.memoryKind()), x, w, bias, params, act, pool, out);
    }

    /** The kernel {@link #conv2d} would run for these operands, e.g. {@code f32_dwconv2d__avx2}. */
    public String convKernelId(Tensor x, Tensor w, Conv2dParams params) {
        return select(OpFamily.CONV, x.memoryKind()).kernels().kernelId(Convolution.shape(x, w, params));
    }

    /**
     * The gradient of {@link #conv2d} (before its activation: mask dy with the ReLU first) with respect to its
     * input, written into dx (x's shape, (n, h, w, c)). w is the forward's filters. Returns dx.
     */
    public Tensor conv2dBackwardData(Tensor dy, Tensor w, Conv2dParams params, Tensor dx) {
        return Convolution.backwardData(select(OpFamily.CONV, dy.memoryKind()), dy, w, params, dx);
    }

    /**
     * The gradients of {@link #conv2d} with respect to its filters and bias, written into dw (w's shape,
     * (k, r, s, c / groups)) and db ((k), or null to skip it). x is the forward's input.
     */
    public void conv2dBackwardWeights(Tensor x, Tensor dy, Conv2dParams params, Tensor dw, Tensor db) {
        Convolution.backwardWeights(select(OpFamily.CONV, x.memoryKind()), x, dy, params, dw, db);
    }

    // ---- int8 convolution -------------------------------------------------------------------------

    /**
     * Packs a quantized convolution layer's filters w ((k, r, s, c / groups), {@link DType#S8}) once, with one
     * scale or one per output channel, for {@link #conv2d(Tensor, Int8Input, PackedInt8Conv, Int8Output, Tensor)}.
     *
     * @throws IllegalArgumentException for a bad dtype, shape or scale, or r * s * c / groups above the exact-sum bound
     */
    public PackedInt8Conv packInt8Conv(Tensor w, Conv2dParams params, float... scales) {
        return QuantizedConvolution.pack(select(OpFamily.CONV, w.memoryKind()), w, params, scales);
    }

    /**
     * int8 convolution: x (n, h, w, c) U8/S8 quantized as {@code xq}, with packed filters and the int8 GEMM's
     * epilogue {@code out} (raw S32, dequantized F32, or requantized U8/S8, bias (k, F32, may be null) and ReLU
     * fused; exact integer sums; padding is real zero). Returns a new (n, outH, outW, k) tensor of {@code out.type()}.
     */
    public Tensor conv2d(Tensor x, Int8Input xq, PackedInt8Conv w, Int8Output out, Tensor bias) {
        Conv2dShape s = QuantizedConvolution.shape(x, xq, w);
        Tensor y = x.allocateSibling(out.type(), Convolution.outShape(s));
        try {
            return conv2d(x, xq, w, out, bias, y);
        } catch (RuntimeException e) {
            y.close();
            throw e;
        }
    }

    /** The int8 convolution into {@code y} ((n, outH, outW, k) of {@code out.type()}). Returns y. */
    public Tensor conv2d(Tensor x, Int8Input xq, PackedInt8Conv w, Int8Output out, Tensor bias, Tensor y) {
        return QuantizedConvolution.forward(select(OpFamily.CONV, x.memoryKind()), x, xq, w, out, bias, y);
    }

    /** The kernel the int8 convolution runs for x, e.g. {@code i8_conv2d_im2col/i8_gemm_6x16__avx2}. */
    public String int8ConvKernelId(Tensor x, Int8Input xq, PackedInt8Conv w) {
        return select(OpFamily.CONV, x.memoryKind()).kernels().int8KernelId(QuantizedConvolution.shape(x, xq, w));
    }

    // ---- pooling (F32, NHWC; max pooling also U8) -----------------------------------------------------

    /** Max pooling of x (n, h, w, c) F32 or U8: a new (n, outH, outW, c) of x's dtype. NaN propagates. */
    public Tensor maxPool2d(Tensor x, Pool2dParams params) {
        Tensor y = x.allocateSibling(Pooling.outShape(Pooling.maxShape(x, params)));
        try {
            return maxPool2d(x, params, y, null);
        } catch (RuntimeException e) {
            y.close();
            throw e;
        }
    }

    /**
     * Max pooling into y; argmax (y-shaped {@link DType#S32}, or null) receives each output's source as
     * ih * w + iw within its image and channel, for {@link #maxPool2dBackward}. Returns y. x and y may also both
     * be {@link DType#U8} (quantized codes; argmax must then be null).
     */
    public Tensor maxPool2d(Tensor x, Pool2dParams params, Tensor y, Tensor argmax) {
        Pooling.maxPool2d(select(OpFamily.POOL, x.memoryKind()), x, params, y, argmax);
        return y;
    }

    /** dx (the forward input's shape) = 0, then each dy added at its argmax. Returns dx. */
    public Tensor maxPool2dBackward(Tensor dy, Tensor argmax, Pool2dParams params, Tensor dx) {
        Pooling.maxPool2dBackward(select(OpFamily.POOL, dy.memoryKind()), dy, argmax, params, dx);
        return dx;
    }

    /** Average pooling of x (n, h, w, c): a new (n, outH, outW, c); the divisor per {@link Pool2dParams#countPadding()}. */
    public Tensor avgPool2d(Tensor x, Pool2dParams params) {
        Tensor y = x.allocateSibling(Pooling.outShape(Pooling.shape("avgPool2d", x, params)));
        try {
            return avgPool2d(x, params, y);
        } catch (RuntimeException e) {
            y.close();
            throw e;
        }
    }

    /** Average pooling into y. Returns y. */
    public Tensor avgPool2d(Tensor x, Pool2dParams params, Tensor y) {
        Pooling.avgPool2d(select(OpFamily.POOL, x.memoryKind()), x, params, y);
        return y;
    }

    /** dx (the forward input's shape) = each dy spread over its window's in-bounds inputs / the divisor. Returns dx. */
    public Tensor avgPool2dBackward(Tensor dy, Pool2dParams params, Tensor dx) {
        Pooling.avgPool2dBackward(select(OpFamily.POOL, dy.memoryKind()), dy, params, dx);
        return dx;
    }

    /** The mean of x (n, h, w, c) over h and w: a new (n, c). */
    public Tensor globalAvgPool(Tensor x) {
        Pooling.require("globalAvgPool", "x", x, DType.F32);
        if (x.rank() != 4) throw new IllegalArgumentException("globalAvgPool: x must be 4-D (n, h, w, c), got shape " + Arrays.toString(x.shape()));
        Tensor y = x.allocateSibling(x.dim(0), x.dim(3));
        try {
            Pooling.globalAvgPool(select(OpFamily.POOL, x.memoryKind()), x, y);
            return y;
        } catch (RuntimeException e) {
            y.close();
            throw e;
        }
    }

    /** The mean of x (n, h, w, c) over h and w into y (n, c). Returns y. */
    public Tensor globalAvgPool(Tensor x, Tensor y) {
        Pooling.require("globalAvgPool", "x", x, DType.F32);
        if (x.rank() != 4) throw new IllegalArgumentException("globalAvgPool: x must be 4-D (n, h, w, c), got shape " + Arrays.toString(x.shape()));
        Pooling.globalAvgPool(select(OpFamily.POOL, x.memoryKind()), x, y);
        return y;
    }

    /** dx (n, h, w, c) = dy (n, c) / (h * w), broadcast. Returns dx. */
    public Tensor globalAvgPoolBackward(Tensor dy, Tensor dx) {
        Pooling.globalAvgPoolBackward(select(OpFamily.POOL, dy.memoryKind()), dy, dx);
        return dx;
    }

    /** The GEMM kernel id an (m, n, k) product runs, e.g. {@code f32_gemm_6x16__avx2}. */
    public String gemmKernelId(MemoryKind memory, int m, int n, int k) {
        return select(OpFamily.F32_GEMM, memory).kernels().kernelId(m, n, k);
    }

    private static void checkOutAndBias(long m, long n, Tensor bias, Activation act, Tensor out) {
        Objects.requireNonNull(act, "act");
        requireF32("out", out);
        requireRank2("out", out);
        if (out.dim(0) != m || out.dim(1) != n) {
            throw new IllegalArgumentException("matmul: out is " + Arrays.toString(out.shape()) + ", expected [" + m + ", " + n + "]");
        }
        if (bias != null) {
            requireF32("bias", bias);
            if (bias.rank() != 1 || bias.dim(0) != n) {
                throw new IllegalArgumentException("matmul: bias is " + Arrays.toString(bias.shape()) + ", expected [" + n + "]");
            }
        }
    }

    private static void requireIntSizes(long m, long n, long k) {
        if (m > Integer.MAX_VALUE || n > Integer.MAX_VALUE || k > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("matmul: dimensions above 2^31-1 are not supported: " + m + "x" + k + "x" + n);
        }
    }

    /** Row stride of a row-contiguous output (any value >= n when it has one row). */
    private static long ldc(Tensor c, long m, long n) {
        return m <= 1 ? Math.max(n, 1) : c.strides()[0];
    }

    /**
     * A 2-D operand as BLAS sees it: row-major with a leading dimension, or a transposed view of one;
     * any other layout is copied.
     */
    private record GemmOperand(Tensor tensor, boolean transposed, long ld, boolean copied) {
        static GemmOperand of(Tensor t) {
            long rows = t.dim(0), cols = t.dim(1);
            long[] st = t.strides();
            if (cols <= 1 || st[1] == 1) return new GemmOperand(t, false, rows <= 1 ? Math.max(cols, 1) : Math.max(st[0], 1), false);
            if (rows <= 1 || st[0] == 1) return new GemmOperand(t, true, cols <= 1 ? Math.max(rows, 1) : Math.max(st[1], 1), false);
            Tensor c = t.copy();
            return new GemmOperand(c, false, Math.max(cols, 1), true);
        }

        /** A 1-D operand (bias): read in place when its elements are adjacent, else copied. */
        static GemmOperand ofVector(Tensor v) {
            if (v.dim(0) <= 1 || v.strides()[0] == 1) return new GemmOperand(v, false, Math.max(v.dim(0), 1), false);
            return new GemmOperand(v.copy(), false, v.dim(0), true);
        }

        void release() {
            if (copied) tensor.close();
        }
    }

    // ---- selection and checks ---------------------------------------------------------------------

    // ---- sparse (pruned weights) ----------------------------------------------------------------------

    /**
     * Packs pruned f32 weights W (n, k) in any {@link org.tessera.kernels.sparse.SparseMatrix} format for
     * {@link #spmm}. Whether products run on the sparse kernels or the dense GEMM is decided here, once, by
     * {@link SparseCrossover} for the batch width {@code expectedM} they will mostly see, so a layer never gets
     * slower by being pruned.
     */
    public SparseWeights packSparse(org.tessera.kernels.sparse.SparseMatrix w, int expectedM) {
        return SparseMatmul.pack(select(OpFamily.SPARSE, MemoryKind.HOST), w, expectedM);
    }

    /**
     * Packs pruned and quantized weights (values s8 integers, see {@code SparseMatrix.mapValues}) with their
     * scales (one per row, or one) for the int8 {@link #spmm}: pruning and quantization compose. These always run
     * the sparse kernels (no crossover here): against the dense int8 GEMM they win, on the native backend
     * (bench/RESULTS.md "int8 sparse kernels"), from about 75% sparsity in 4x1 blocks and 80-85% unstructured at
     * batch widths of 64 and more, and at batch 1 only for 4x1 blocks at about 95%. Models
     * ({@code QuantizedModel}) keep pruned int8 layers on the dense GEMM.
     */
    public SparseWeights packSparseInt8(org.tessera.kernels.sparse.SparseMatrix w, float... scales) {
        return SparseMatmul.packInt8(select(OpFamily.SPARSE, MemoryKind.HOST), w, scales);
    }

    /**
     * y (n, m) = act(W (n, k) . x (k, m) + bias (n)): the sparse dense layer in channel-major layout (m: batch or
     * pixels; also the sparse 1x1 convolution of a (C, H*W) image). bias may be null. Returns a new tensor.
     */
    public Tensor spmm(SparseWeights w, Tensor x, Tensor bias, Activation act) {
        Tensor y = x.allocateSibling(DType.F32, w.rows(), x.dim(1));
        try {
            return spmm(w, x, bias, act, y);
        } catch (RuntimeException e) {
            y.close();
            throw e;
        }
    }

    /** The f32 sparse product into y (n, m). Returns y. */
    public Tensor spmm(SparseWeights w, Tensor x, Tensor bias, Activation act, Tensor y) {
        return SparseMatmul.f32(select(OpFamily.SPARSE, MemoryKind.HOST), select(OpFamily.F32_GEMM, MemoryKind.HOST), w, x, bias, act, y);
    }

    /**
     * int8 sparse product: x (k, m) U8/S8 quantized as xq, s8 weights from {@link #packSparseInt8}, the epilogue
     * {@code out} as for the int8 matmul (per-row weight scales and bias). Returns a new (n, m) tensor of out's type.
     */
    public Tensor spmm(SparseWeights w, Tensor x, Int8Input xq, Int8Output out, Tensor bias) {
        Tensor y = x.allocateSibling(out.type(), w.rows(), x.dim(1));
        try {
            return SparseMatmul.int8(select(OpFamily.SPARSE, MemoryKind.HOST), w, x, xq, out, bias, y);
        } catch (RuntimeException e) {
            y.close();
            throw e;
        }
    }

    /** The int8 sparse product into y ((n, m) of out's type). Returns y. */
    public Tensor spmm(SparseWeights w, Tensor x, Int8Input xq, Int8Output out, Tensor bias, Tensor y) {
        return SparseMatmul.int8(select(OpFamily.SPARSE, MemoryKind.HOST), w, x, xq, out, bias, y);
    }

    private <T> Selection<T> select(OpFamily<T> family, MemoryKind memory) {
        Backends registry = Backends.get();
        return backend == null ? registry.select(family, memory) : registry.selectOn(family, backend);
    }

    private static Tensor like(Tensor x) {
        x.requireOpen();
        return x.allocateSibling(x.shape());
    }

    private static void requireF32(String name, Tensor t) {
        Objects.requireNonNull(t, name);
        t.requireOpen();
        if (t.dtype() != DType.F32) throw new IllegalArgumentException(name + " must be F32, got " + t.dtype());
    }

    private static void requireRank2(String name, Tensor t) {
        if (t.rank() != 2) throw new IllegalArgumentException(name + " must be 2-D, got shape " + Arrays.toString(t.shape()));
    }

    private static void requireSameShape(String n1, Tensor t1, String n2, Tensor t2) {
        if (!Arrays.equals(t1.shape(), t2.shape())) {
            throw new IllegalArgumentException("shape mismatch: " + n1 + " is " + Arrays.toString(t1.shape()) + ", " + n2 + " is "
                    + Arrays.toString(t2.shape()));
        }
    }

    private static MemoryKind requireSameMemory(Tensor... ts) {
        MemoryKind k = ts[0].memoryKind();
        for (Tensor t : ts) {
            if (t.memoryKind() != k) {
                throw new IllegalArgumentException("operands live in different memories (" + k + " and " + t.memoryKind()
                        + "): move them with tensor.to(backend) first");
            }
        }
        return k;
    }
}
