package org.tessera;

import java.util.Arrays;
import java.util.Objects;
import org.tessera.kernels.Backends.Selection;
import org.tessera.kernels.DType;
import org.tessera.kernels.spi.Conv2dShape;
import org.tessera.kernels.spi.ConvKernels;
import org.tessera.kernels.spi.Int8Input;
import org.tessera.kernels.spi.Int8Output;

/** The int8 convolution of {@link Ops}: filters packed with their layer geometry; shapes checked; dense copies; the kernels. */
final class QuantizedConvolution {
    private QuantizedConvolution() {}

    static PackedInt8Conv pack(Selection<ConvKernels> sel, Tensor w, Conv2dParams p, float[] scales) {
        Pooling.require("packInt8Conv", "w", w, DType.S8);
        Objects.requireNonNull(p, "params");
        if (w.rank() != 4) throw new IllegalArgumentException("packInt8Conv: w must be 4-D (k, r, s, c / groups), got " + Arrays.toString(w.shape()));
        for (int d = 0; d < 4; d++) {
            if (w.dim(d) < 1 || w.dim(d) > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("packInt8Conv: w dimension " + d + " must be within [1, 2^31-1], got " + Arrays.toString(w.shape()));
            }
        }
        long k = w.dim(0), r = w.dim(1), s = w.dim(2), c = w.dim(3) * p.groups();
        if (k % p.groups() != 0) throw new IllegalArgumentException("packInt8Conv: k = " + k + " is not a multiple of groups = " + p.groups());
        if (c > Integer.MAX_VALUE) throw new IllegalArgumentException("packInt8Conv: c = " + c + " exceeds 2^31-1");
        // Filters do not depend on the input size: any input that fits the window (here, exactly one) will do.
        Conv2dShape shape = new Conv2dShape(1, (int) ((r - 1) * p.dilationH() + 1), (int) ((s - 1) * p.dilationW() + 1), (int) c, (int) k,
                (int) r, (int) s, p.strideH(), p.strideW(), 0, 0, 0, 0, p.dilationH(), p.dilationW(), p.groups());
        Tensor wc = Pooling.dense(w);
        try {
            return new PackedInt8Conv(sel.kernels().packInt8Filters(shape, wc.storage(), wc.offset(), scales), p, sel.backend());
        } finally {
            Pooling.release(wc, w);
        }
    }

    static Conv2dShape shape(Tensor x, Int8Input xq, PackedInt8Conv w) {
        Objects.requireNonNull(xq, "xq");
        Objects.requireNonNull(w, "w");
        Pooling.require("conv2d", "x", x, xq.type());
        if (x.rank() != 4) throw new IllegalArgumentException("conv2d: x must be 4-D (n, h, w, c), got shape " + Arrays.toString(x.shape()));
        int[] win = w.window();
        return Convolution.shape(x, w.outChannels(), win[0], win[1], w.inChannels() / w.params().groups(), w.params());
    }

    static Tensor forward(Selection<ConvKernels> sel, Tensor x, Int8Input xq, PackedInt8Conv w, Int8Output out, Tensor bias, Tensor y) {
        Objects.requireNonNull(out, "out");
        Conv2dShape s = shape(x, xq, w);
        Pooling.requireShape("conv2d", "y", y, out.type(), Convolution.outShape(s));
        Convolution.requireBias(bias, s.k());
        w.requirePackedFor(sel);
        Tensor xc = Pooling.dense(x), bc = bias == null ? null : Pooling.dense(bias), yc = Pooling.dense(y);
        try {
            sel.kernels().conv2dInt8(s, xq, xc.storage(), xc.offset(), w.filters(), out, bc == null ? null : bc.storage(),
                    bc == null ? 0 : bc.offset(), yc.storage(), yc.offset());
            Pooling.writeBack(yc, y);
        } finally {
            Pooling.release(xc, x);
            if (bc != null) Pooling.release(bc, bias);
            Pooling.release(yc, y);
        }
        return y;
    }
}
