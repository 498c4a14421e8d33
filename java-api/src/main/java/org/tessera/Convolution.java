package org.tessera;

import java.util.Arrays;
import java.util.Objects;
import org.tessera.kernels.Backends.Selection;
import org.tessera.kernels.DType;
import org.tessera.kernels.spi.Conv2dShape;
import org.tessera.kernels.spi.ConvKernels;

/** {@link Ops#conv2d}: shapes of the tensors checked against each other, then the backend's conv kernels. */
final class Convolution {
    private Convolution() {}

    /** The geometry of x (n, h, w, c) convolved with w (k, r, s, c / groups), or an exception naming the mismatch. */
    static Conv2dShape shape(Tensor x, Tensor w, Conv2dParams p) {
        requireF32Rank4("x", x);
        requireF32Rank4("w", w);
        Objects.requireNonNull(p, "params");
        long c = x.dim(3), cg = w.dim(3);
        if (cg * p.groups() != c) {
            throw new IllegalArgumentException("conv2d: channel mismatch: x has " + c + " channels (dim 3 of " + Arrays.toString(x.shape())
                    + ") but w " + Arrays.toString(w.shape()) + " reads " + cg + " per group x " + p.groups() + " groups = " + cg * p.groups());
        }
        for (int d = 0; d < 4; d++) {
            if (x.dim(d) > Integer.MAX_VALUE || w.dim(d) > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("conv2d: dimensions above 2^31-1 are not supported: x " + Arrays.toString(x.shape())
                        + ", w " + Arrays.toString(w.shape()));
            }
        }
        return new Conv2dShape((int) x.dim(0), (int) x.dim(1), (int) x.dim(2), (int) c, (int) w.dim(0), (int) w.dim(1), (int) w.dim(2),
                p.strideH(), p.strideW(), p.padTop(), p.padBottom(), p.padLeft(), p.padRight(), p.dilationH(), p.dilationW(), p.groups());
    }

    static Tensor forward(Selection<ConvKernels> sel, Tensor x, Tensor w, Tensor bias, Conv2dParams p, Activation act, Tensor out) {
        Objects.requireNonNull(act, "act");
        Conv2dShape s = shape(x, w, p);
        requireF32Rank4("out", out);
        long[] expected = {s.n(), s.outH(), s.outW(), s.k()};
        if (!Arrays.equals(out.shape(), expected)) {
            throw new IllegalArgumentException("conv2d: out is " + Arrays.toString(out.shape()) + ", expected " + Arrays.toString(expected)
                    + " (n, outH, outW, k)");
        }
        if (bias != null) {
            bias.requireOpen();
            if (bias.dtype() != DType.F32 || bias.rank() != 1 || bias.dim(0) != s.k()) {
                throw new IllegalArgumentException("conv2d: bias must be F32 [" + s.k() + "], got " + bias.dtype() + " " + Arrays.toString(bias.shape()));
            }
        }
        Tensor xc = dense(x), wc = dense(w), bc = bias == null ? null : dense(bias), yc = out.isContiguous() ? out : out.copy();
        try {
            sel.kernels().conv2dF32(s, xc.storage(), xc.offset(), wc.storage(), wc.offset(), bc == null ? null : bc.storage(),
                    bc == null ? 0 : bc.offset(), yc.storage(), yc.offset(), act == Activation.RELU);
            if (yc != out) out.copyFrom(yc);
        } finally {
            if (xc != x) xc.close();
            if (wc != w) wc.close();
            if (bc != bias) bc.close();
            if (yc != out) yc.close();
        }
        return out;
    }

    private static Tensor dense(Tensor t) {
        return t.isContiguous() ? t : t.copy();
    }

    private static void requireF32Rank4(String name, Tensor t) {
        Objects.requireNonNull(t, name);
        t.requireOpen();
        if (t.dtype() != DType.F32) throw new IllegalArgumentException("conv2d: " + name + " must be F32, got " + t.dtype());
        if (t.rank() != 4) {
            throw new IllegalArgumentException("conv2d: " + name + " must be 4-D (" + (name.equals("w") ? "k, r, s, c / groups" : "n, h, w, c")
                    + "), got shape " + Arrays.toString(t.shape()));
        }
    }
}
