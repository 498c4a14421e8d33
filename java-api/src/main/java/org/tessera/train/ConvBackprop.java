package org.tessera.train;

import java.util.ArrayList;
import java.util.List;
import org.tessera.Activation;
import org.tessera.Conv2dParams;
import org.tessera.Ops;
import org.tessera.Tensor;
import org.tessera.kernels.DType;
import org.tessera.nn.Conv2d;

/**
 * Convolution forward and backward on the conv kernels. The model keeps PyTorch's (k, c, r, s) filters; the
 * kernels read (k, r, s, c), so each forward converts the filters into a buffer and each backward converts
 * the filter gradient back (both tiny next to the convolution itself). With {@code weightBits}
 * (quantization-aware training) the converted filters are rounded per output channel to their int8 codes
 * ({@link FakeQuant#weights}); the filter gradient passes straight through.
 */
final class ConvBackprop implements Backprop {
    private final Ops ops;
    private final Conv2dParams p;
    private final Tensor w, b, wKrsc, gwKrsc, gw, gb;
    private final List<Param> params = new ArrayList<>();
    private final int weightBits;
    private final float[] wBuf;

    ConvBackprop(Conv2d layer, Ops ops, String prefix) {
        this(layer, ops, prefix, 0);
    }

    /** weightBits: 0 (plain f32), or 7 or 8 to fake-quantize the filters. */
    ConvBackprop(Conv2d layer, Ops ops, String prefix, int weightBits) {
        this.ops = ops;
        this.weightBits = weightBits;
        this.wBuf = weightBits == 0 ? null : new float[Math.toIntExact(layer.weight().numel())];
        this.p = layer.params();
        this.w = layer.weight();
        this.b = layer.bias();
        long[] s = w.shape();
        long[] krsc = {s[0], s[2], s[3], s[1]};
        this.wKrsc = Tensor.allocate(DType.F32, krsc);
        this.gwKrsc = Tensor.allocate(DType.F32, krsc);
        this.gw = Tensor.allocate(DType.F32, s);
        this.gb = b == null ? null : Tensor.allocate(DType.F32, b.shape());
        params.add(new Param(prefix + "weight", w, gw, true));
        if (b != null) params.add(new Param(prefix + "bias", b, gb, false));
    }

    @Override
    public void forward(Tensor x, Tensor y, boolean training) {
        forward(x, y, Activation.IDENTITY);
    }

    /** y = act(conv(x)): a ReLU that follows this layer fused into the kernel's epilogue (the same values). */
    void forward(Tensor x, Tensor y, Activation act) {
        wKrsc.copyFrom(w.transpose(1, 2).transpose(2, 3));
        if (wBuf != null) {
            java.lang.foreign.MemorySegment.copy(wKrsc.segment(), java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, wBuf, 0, wBuf.length);
            FakeQuant.weights(wBuf, (int) wKrsc.dim(0), wBuf.length / (int) wKrsc.dim(0), weightBits);
            java.lang.foreign.MemorySegment.copy(wBuf, 0, wKrsc.segment(), java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, wBuf.length);
        }
        ops.conv2d(x, wKrsc, b, p, act, y);
    }

    @Override
    public void backward(Tensor x, Tensor y, Tensor dy, Tensor dx) {
        ops.conv2dBackwardWeights(x, dy, p, gwKrsc, gb);
        gw.copyFrom(gwKrsc.transpose(2, 3).transpose(1, 2));
        if (dx != null) ops.conv2dBackwardData(dy, wKrsc, p, dx);
    }

    @Override
    public List<Param> params() {
        return params;
    }

    @Override
    public void close() {
        wKrsc.close();
        gwKrsc.close();
        gw.close();
        if (gb != null) gb.close();
    }
}
