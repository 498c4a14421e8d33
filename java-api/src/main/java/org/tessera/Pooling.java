package org.tessera;

import java.util.Arrays;
import java.util.Objects;
import org.tessera.kernels.Backends.Selection;
import org.tessera.kernels.DType;
import org.tessera.kernels.spi.Pool2dShape;
import org.tessera.kernels.spi.PoolKernels;

/** The pooling ops of {@link Ops}: tensor shapes checked against each other, dense copies where needed, then the kernels. */
final class Pooling {
    private Pooling() {}

    /** The geometry of pooling x (n, h, w, c) F32 with p, or an exception naming the bad dimension. */
    static Pool2dShape shape(String op, Tensor x, Pool2dParams p) {
        require(op, "x", x, DType.F32);
        return geometry(op, x, p);
    }

    /** {@link #shape} for max pooling, which also takes U8 codes. */
    static Pool2dShape maxShape(Tensor x, Pool2dParams p) {
        require("maxPool2d", "x", x, x != null && x.dtype() == DType.U8 ? DType.U8 : DType.F32);
        return geometry("maxPool2d", x, p);
    }

    private static Pool2dShape geometry(String op, Tensor x, Pool2dParams p) {
        Objects.requireNonNull(p, "params");
        int[] d = intDims(op, "x", x);
        return new Pool2dShape(d[0], d[1], d[2], d[3], p.kh(), p.kw(), p.strideH(), p.strideW(), p.padTop(), p.padBottom(), p.padLeft(),
                p.padRight());
    }

    static long[] outShape(Pool2dShape s) {
        return new long[] {s.n(), s.outH(), s.outW(), s.c()};
    }

    static void maxPool2d(Selection<PoolKernels> sel, Tensor x, Pool2dParams p, Tensor y, Tensor argmax) {
        Pool2dShape s = maxShape(x, p);
        if (x.dtype() == DType.U8) {
            maxPool2dU8(sel, s, x, y, argmax);
            return;
        }
        requireShape("maxPool2d", "y", y, DType.F32, outShape(s));
        if (argmax != null) requireShape("maxPool2d", "argmax", argmax, DType.S32, outShape(s));
        Tensor xc = dense(x), yc = dense(y), ac = argmax == null ? null : dense(argmax);
        try {
            sel.kernels().maxPool2dF32(s, xc.storage(), xc.offset(), yc.storage(), yc.offset(), ac == null ? null : ac.storage(),
                    ac == null ? 0 : ac.offset());
            writeBack(yc, y);
            if (ac != null) writeBack(ac, argmax);
        } finally {
            release(xc, x);
            release(yc, y);
            if (ac != null) release(ac, argmax);
        }
    }

    /** Max pooling of u8 codes (quantized activations): y U8; no argmax (there is no u8 backward). */
    private static void maxPool2dU8(Selection<PoolKernels> sel, Pool2dShape s, Tensor x, Tensor y, Tensor argmax) {
        if (argmax != null) throw new IllegalArgumentException("maxPool2d: u8 pooling gives no argmax (it has no backward); pass null");
        requireShape("maxPool2d", "y", y, DType.U8, outShape(s));
        Tensor xc = dense(x), yc = dense(y);
        try {
            sel.kernels().maxPool2dU8(s, xc.storage(), xc.offset(), yc.storage(), yc.offset());
            writeBack(yc, y);
        } finally {
            release(xc, x);
            release(yc, y);
        }
    }

    static void maxPool2dBackward(Selection<PoolKernels> sel, Tensor dy, Tensor argmax, Pool2dParams p, Tensor dx) {
        Pool2dShape s = shape("maxPool2dBackward", dx, p);
        requireShape("maxPool2dBackward", "dy", dy, DType.F32, outShape(s));
        requireShape("maxPool2dBackward", "argmax", argmax, DType.S32, outShape(s));
        Tensor dyc = dense(dy), ac = dense(argmax), dxc = dense(dx);
        try {
            sel.kernels().maxPool2dBackwardF32(s, dyc.storage(), dyc.offset(), ac.storage(), ac.offset(), dxc.storage(), dxc.offset());
            writeBack(dxc, dx);
        } finally {
            release(dyc, dy);
            release(ac, argmax);
            release(dxc, dx);
        }
    }

    static void avgPool2d(Selection<PoolKernels> sel, Tensor x, Pool2dParams p, Tensor y) {
        Pool2dShape s = shape("avgPool2d", x, p);
        requireShape("avgPool2d", "y", y, DType.F32, outShape(s));
        Tensor xc = dense(x), yc = dense(y);
        try {
            sel.kernels().avgPool2dF32(s, p.countPadding(), xc.storage(), xc.offset(), yc.storage(), yc.offset());
            writeBack(yc, y);
        } finally {
            release(xc, x);
            release(yc, y);
        }
    }

    static void avgPool2dBackward(Selection<PoolKernels> sel, Tensor dy, Pool2dParams p, Tensor dx) {
        Pool2dShape s = shape("avgPool2dBackward", dx, p);
        requireShape("avgPool2dBackward", "dy", dy, DType.F32, outShape(s));
        Tensor dyc = dense(dy), dxc = dense(dx);
        try {
            sel.kernels().avgPool2dBackwardF32(s, p.countPadding(), dyc.storage(), dyc.offset(), dxc.storage(), dxc.offset());
            writeBack(dxc, dx);
        } finally {
            release(dyc, dy);
            release(dxc, dx);
        }
    }

    static void globalAvgPool(Selection<PoolKernels> sel, Tensor x, Tensor y) {
        require("globalAvgPool", "x", x, DType.F32);
        int[] d = intDims("globalAvgPool", "x", x);
        requireShape("globalAvgPool", "y", y, DType.F32, new long[] {d[0], d[3]});
        Tensor xc = dense(x), yc = dense(y);
        try {
            sel.kernels().globalAvgPoolF32(d[0], d[1], d[2], d[3], xc.storage(), xc.offset(), yc.storage(), yc.offset());
            writeBack(yc, y);
        } finally {
            release(xc, x);
            release(yc, y);
        }
    }

    static void globalAvgPoolBackward(Selection<PoolKernels> sel, Tensor dy, Tensor dx) {
        require("globalAvgPoolBackward", "dx", dx, DType.F32);
        int[] d = intDims("globalAvgPoolBackward", "dx", dx);
        requireShape("globalAvgPoolBackward", "dy", dy, DType.F32, new long[] {d[0], d[3]});
        Tensor dyc = dense(dy), dxc = dense(dx);
        try {
            sel.kernels().globalAvgPoolBackwardF32(d[0], d[1], d[2], d[3], dyc.storage(), dyc.offset(), dxc.storage(), dxc.offset());
            writeBack(dxc, dx);
        } finally {
            release(dyc, dy);
            release(dxc, dx);
        }
    }

    /** A contiguous tensor with t's contents: t itself when it already is. */
    static Tensor dense(Tensor t) {
        return t.isContiguous() ? t : t.copy();
    }

    static void writeBack(Tensor dense, Tensor target) {
        if (dense != target) target.copyFrom(dense);
    }

    static void release(Tensor dense, Tensor original) {
        if (dense != original) dense.close();
    }

    static void require(String op, String name, Tensor t, DType type) {
        if (t == null) throw new NullPointerException(op + ": " + name + " is null");
        t.requireOpen();
        if (t.dtype() != type) throw new IllegalArgumentException(op + ": " + name + " must be " + type + ", got " + t.dtype());
    }

    static void requireShape(String op, String name, Tensor t, DType type, long[] expected) {
        require(op, name, t, type);
        if (!Arrays.equals(t.shape(), expected)) {
            throw new IllegalArgumentException(op + ": " + name + " is " + Arrays.toString(t.shape()) + ", expected " + Arrays.toString(expected));
        }
    }

    private static int[] intDims(String op, String name, Tensor t) {
        if (t.rank() != 4) throw new IllegalArgumentException(op + ": " + name + " must be 4-D (n, h, w, c), got shape " + Arrays.toString(t.shape()));
        int[] d = new int[4];
        for (int i = 0; i < 4; i++) {
            if (t.dim(i) < 1 || t.dim(i) > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(op + ": " + name + " dimension " + i + " must be within [1, 2^31-1], got " + Arrays.toString(t.shape()));
            }
            d[i] = (int) t.dim(i);
        }
        return d;
    }
}
