package org.tessera;

import java.util.Arrays;
import java.util.Objects;
import org.tessera.kernels.Backends.Selection;
import org.tessera.kernels.DType;
import org.tessera.kernels.Storage;
import org.tessera.kernels.spi.Conv2dShape;
import org.tessera.kernels.spi.ConvKernels;

/**
 * The f32 convolution ops of {@link Ops} (forward, and the two backward products): shapes of the tensors
 * checked against each other, dense copies where a tensor is a strided view, then the backend's conv kernels.
 */
final class Convolution {
    private Convolution() {}

    /** The geometry of x (n, h, w, c) convolved with w (k, r, s, c / groups), or an exception naming the mismatch. */
    static Conv2dShape shape(Tensor x, Tensor w, Conv2dParams p) {
        requireF32Rank4("x", x);
        requireF32Rank4("w", w);
        return shape(x, w.dim(0), w.dim(1), w.dim(2), w.dim(3), p);
    }

    /** The geometry of x (n, h, w, c), any dtype, with k filters of (r, s, cg) and p. */
    static Conv2dShape shape(Tensor x, long k, long r, long s, long cg, Conv2dParams p) {
        Objects.requireNonNull(p, "params");
        long c = x.dim(3);
        if (cg * p.groups() != c) {
            throw new IllegalArgumentException("conv2d: channel mismatch: x has " + c + " channels (dim 3 of " + Arrays.toString(x.shape())
                    + ") but the filters (" + k + ", " + r + ", " + s + ", " + cg + ") read " + cg + " per group x " + p.groups()
                    + " groups = " + cg * p.groups());
        }
        long[] dims = {x.dim(0), x.dim(1), x.dim(2), c, k, r, s};
        for (long d : dims) {
            if (d > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("conv2d: dimensions above 2^31-1 are not supported: x " + Arrays.toString(x.shape()));
            }
        }
        return new Conv2dShape((int) x.dim(0), (int) x.dim(1), (int) x.dim(2), (int) c, (int) k, (int) r, (int) s,
                p.strideH(), p.strideW(), p.padTop(), p.padBottom(), p.padLeft(), p.padRight(), p.dilationH(), p.dilationW(), p.groups());
    }

    static long[] outShape(Conv2dShape s) {
        return new long[] {s.n(), s.outH(), s.outW(), s.k()};
    }

    static Tensor forward(Selection<ConvKernels> sel, Tensor x, Tensor w, Tensor bias, Conv2dParams p, Activation act, Tensor out) {
        return forward(sel, x, w, bias, p, act, 0, out);
    }

    /** The convolution, fused with pool x pool max pooling when pool > 0, on dense copies where views are strided. */
    private static Tensor forward(Selection<ConvKernels> sel, Tensor x, Tensor w, Tensor bias, Conv2dParams p, Activation act, int pool,
                                  Tensor out) {
        Objects.requireNonNull(act, "act");
        Conv2dShape s = shape(x, w, p);
        String op = pool > 0 ? "conv2dMaxPool" : "conv2d";
        int div = Math.max(pool, 1);
        Pooling.requireShape(op, "out", out, DType.F32, new long[] {s.n(), s.outH() / div, s.outW() / div, s.k()});
        requireBias(bias, s.k());
        Tensor xc = Pooling.dense(x), wc = Pooling.dense(w), bc = bias == null ? null : Pooling.dense(bias), yc = Pooling.dense(out);
        try {
            Storage bs = bc == null ? null : bc.storage();
            long bo = bc == null ? 0 : bc.offset();
            boolean relu = act == Activation.RELU;
            if (pool > 0) {
                sel.kernels().conv2dMaxPoolF32(s, pool, xc.storage(), xc.offset(), wc.storage(), wc.offset(), bs, bo, yc.storage(), yc.offset(), relu);
            } else {
                sel.kernels().conv2dF32(s, xc.storage(), xc.offset(), wc.storage(), wc.offset(), bs, bo, yc.storage(), yc.offset(), relu);
            }
            Pooling.writeBack(yc, out);
        } finally {
            Pooling.release(xc, x);
            Pooling.release(wc, w);
            if (bc != null) Pooling.release(bc, bias);
            Pooling.release(yc, out);
        }
        return out;
    }

    /** Filters w (k, r, s, c / groups) F32 packed once for the layer geometry p (any input size). */
    static PackedConv pack(Selection<ConvKernels> sel, Tensor w, Conv2dParams p) {
        requireF32Rank4("w", w);
        Objects.requireNonNull(p, "params");
        for (int d = 0; d < 4; d++) {
            if (w.dim(d) > Integer.MAX_VALUE) throw new IllegalArgumentException("packConv: w dimension " + d + " exceeds 2^31-1: " + Arrays.toString(w.shape()));
        }
        long k = w.dim(0), r = w.dim(1), s = w.dim(2), c = w.dim(3) * p.groups();
        if (k % p.groups() != 0) throw new IllegalArgumentException("packConv: k = " + k + " is not a multiple of groups = " + p.groups());
        if (c > Integer.MAX_VALUE) throw new IllegalArgumentException("packConv: c = " + c + " exceeds 2^31-1");
        // Filters do not depend on the input size: an input exactly one window large will do.
        Conv2dShape shape = new Conv2dShape(1, (int) ((r - 1) * p.dilationH() + 1), (int) ((s - 1) * p.dilationW() + 1), (int) c, (int) k,
                (int) r, (int) s, p.strideH(), p.strideW(), 0, 0, 0, 0, p.dilationH(), p.dilationW(), p.groups());
        Tensor wc = Pooling.dense(w);
        try {
            return new PackedConv(sel.kernels().packF32Filters(shape, wc.storage(), wc.offset()), p, sel.backend());
        } finally {
            Pooling.release(wc, w);
        }
    }

    /** The geometry of x (n, h, w, c) convolved with packed filters. */
    static Conv2dShape shape(Tensor x, PackedConv w) {
        Objects.requireNonNull(w, "w");
        requireF32Rank4("x", x);
        int[] win = w.window();
        return shape(x, w.outChannels(), win[0], win[1], w.inChannels() / w.params().groups(), w.params());
    }

    /** The convolution with packed filters into out. */
    static Tensor forward(Selection<ConvKernels> sel, Tensor x, PackedConv w, Tensor bias, Activation act, Tensor out) {
        Objects.requireNonNull(act, "act");
        Conv2dShape s = shape(x, w);
        Pooling.requireShape("conv2d", "out", out, DType.F32, outShape(s));
        requireBias(bias, s.k());
        w.requirePackedFor(sel);
        Tensor xc = Pooling.dense(x), bc = bias == null ? null : Pooling.dense(bias), yc = Pooling.dense(out);
        try {
            sel.kernels().conv2dF32(s, xc.storage(), xc.offset(), w.filters(), bc == null ? null : bc.storage(), bc == null ? 0 : bc.offset(),
                    yc.storage(), yc.offset(), act == Activation.RELU);
            Pooling.writeBack(yc, out);
        } finally {
            Pooling.release(xc, x);
            if (bc != null) Pooling.release(bc, bias);
            Pooling.release(yc, out);
        }
        return out;
    }

    /** The fused convolution + max pooling kernel for one (h, w, c) example with filters w, or null (none on this backend). */
    static String maxPoolKernelId(Selection<ConvKernels> sel, long[] image, Tensor w, Conv2dParams p, int pool) {
        requireF32Rank4("w", w);
        Objects.requireNonNull(p, "params");
        if (image.length != 3) throw new IllegalArgumentException("conv2dMaxPool: expected an (h, w, c) image shape, got " + Arrays.toString(image));
        if (w.dim(3) * p.groups() != image[2] || Math.max(image[0], image[1]) > Integer.MAX_VALUE || pool < 1) return null;
        Conv2dShape s;
        try {
            s = new Conv2dShape(1, (int) image[0], (int) image[1], (int) image[2], (int) w.dim(0), (int) w.dim(1), (int) w.dim(2),
                    p.strideH(), p.strideW(), p.padTop(), p.padBottom(), p.padLeft(), p.padRight(), p.dilationH(), p.dilationW(), p.groups());
        } catch (IllegalArgumentException badGeometry) {
            return null;
        }
        return s.outH() < pool || s.outW() < pool ? null : sel.kernels().conv2dMaxPoolKernelId(s, pool);
    }

    /** conv2d, then non-overlapping pool x pool max pooling, in one pass (ConvKernels#conv2dMaxPoolF32). */
    static Tensor forwardMaxPool(Selection<ConvKernels> sel, Tensor x, Tensor w, Tensor bias, Conv2dParams p, Activation act, int pool,
                                 Tensor out) {
        if (pool < 1) throw new IllegalArgumentException("conv2dMaxPool: pool must be >= 1, got " + pool);
        return forward(sel, x, w, bias, p, act, pool, out);
    }

    /** dx = the gradient of conv2d(x, w) with respect to x, given dy; dx's shape is x's. */
    static Tensor backwardData(Selection<ConvKernels> sel, Tensor dy, Tensor w, Conv2dParams p, Tensor dx) {
        Conv2dShape s = shape(dx, w, p);
        Pooling.requireShape("conv2dBackwardData", "dy", dy, DType.F32, outShape(s));
        Tensor dyc = Pooling.dense(dy), wc = Pooling.dense(w), dxc = Pooling.dense(dx);
        try {
            sel.kernels().conv2dBackwardDataF32(s, dyc.storage(), dyc.offset(), wc.storage(), wc.offset(), dxc.storage(), dxc.offset());
            Pooling.writeBack(dxc, dx);
        } finally {
            Pooling.release(dyc, dy);
            Pooling.release(wc, w);
            Pooling.release(dxc, dx);
        }
        return dx;
    }

    /** dw (w's shape) and db (k, or null) of conv2d(x, w) + bias, given dy. */
    static void backwardWeights(Selection<ConvKernels> sel, Tensor x, Tensor dy, Conv2dParams p, Tensor dw, Tensor db) {
        Conv2dShape s = shape(x, dw, p);
        Pooling.requireShape("conv2dBackwardWeights", "dy", dy, DType.F32, outShape(s));
        if (db != null) Pooling.requireShape("conv2dBackwardWeights", "db", db, DType.F32, new long[] {s.k()});
        Tensor xc = Pooling.dense(x), dyc = Pooling.dense(dy), dwc = Pooling.dense(dw), dbc = db == null ? null : Pooling.dense(db);
        try {
            sel.kernels().conv2dBackwardWeightsF32(s, xc.storage(), xc.offset(), dyc.storage(), dyc.offset(), dwc.storage(), dwc.offset(),
                    dbc == null ? null : dbc.storage(), dbc == null ? 0 : dbc.offset());
            Pooling.writeBack(dwc, dw);
            if (dbc != null) Pooling.writeBack(dbc, db);
        } finally {
            Pooling.release(xc, x);
            Pooling.release(dyc, dy);
            Pooling.release(dwc, dw);
            if (dbc != null) Pooling.release(dbc, db);
        }
    }

    static void requireBias(Tensor bias, long k) {
        if (bias == null) return;
        bias.requireOpen();
        if (bias.dtype() != DType.F32 || bias.rank() != 1 || bias.dim(0) != k) {
            throw new IllegalArgumentException("conv2d: bias must be F32 [" + k + "], got " + bias.dtype() + " " + Arrays.toString(bias.shape()));
        }
    }

    private static void requireF32Rank4(String name, Tensor t) {
        Pooling.require("conv2d", name, t, DType.F32);
        if (t.rank() != 4) {
            throw new IllegalArgumentException("conv2d: " + name + " must be 4-D (" + (name.endsWith("w") ? "k, r, s, c / groups" : "n, h, w, c")
                    + "), got shape " + Arrays.toString(t.shape()));
        }
    }
}
