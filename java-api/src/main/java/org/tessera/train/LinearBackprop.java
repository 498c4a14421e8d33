package org.tessera.train;

import java.util.ArrayList;
import java.util.List;
import org.tessera.Activation;
import org.tessera.Ops;
import org.tessera.Tensor;
import org.tessera.kernels.DType;
import org.tessera.nn.Linear;

/**
 * y = x W^T + b; dW = dy^T x, db = column sums of dy, dx = dy W: three GEMMs on transposed views, no copies.
 * With {@code weightBits} (quantization-aware training) forward and dx use W rounded per output row to its
 * int8 codes ({@link FakeQuant#weights}) and dW passes straight through to W.
 */
final class LinearBackprop implements Backprop {
    private final Ops ops;
    private final Tensor w, b, gw, gb, wq;
    private final int weightBits;
    private final float[] wBuf;
    private final List<Param> params = new ArrayList<>();

    LinearBackprop(Linear layer, Ops ops, String prefix) {
        this(layer, ops, prefix, 0);
    }

    /** weightBits: 0 (plain f32), or 7 or 8 to fake-quantize the weights. */
    LinearBackprop(Linear layer, Ops ops, String prefix, int weightBits) {
        this.ops = ops;
        this.weightBits = weightBits;
        this.wq = weightBits == 0 ? null : Tensor.allocate(DType.F32, layer.weight().shape());
        this.wBuf = weightBits == 0 ? null : new float[Math.toIntExact(layer.weight().numel())];
        this.w = layer.weight();
        this.b = layer.bias();
        this.gw = Tensor.allocate(DType.F32, w.shape());
        this.gb = b == null ? null : Tensor.allocate(DType.F32, b.shape());
        params.add(new Param(prefix + "weight", w, gw, true));
        if (b != null) params.add(new Param(prefix + "bias", b, gb, false));
    }

    @Override
    public void forward(Tensor x, Tensor y, boolean training) {
        ops.matmul(x, weights().t(), b, Activation.IDENTITY, y);
    }

    /** W, or its fake-quantized copy (refreshed each forward: the optimizer moves W between steps). */
    private Tensor weights() {
        if (wq == null) return w;
        java.lang.foreign.MemorySegment.copy(w.segment(), java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, wBuf, 0, wBuf.length);
        FakeQuant.weights(wBuf, (int) w.dim(0), (int) w.dim(1), weightBits);
        java.lang.foreign.MemorySegment.copy(wBuf, 0, wq.segment(), java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, wBuf.length);
        return wq;
    }

    @Override
    public void backward(Tensor x, Tensor y, Tensor dy, Tensor dx) {
        ops.matmul(dy.t(), x, gw);
        if (gb != null) Reductions.sumRows(dy.segment(), dy.dim(0), (int) dy.dim(1), gb.segment());
        if (dx != null) ops.matmul(dy, wq != null ? wq : w, dx);
    }

    @Override
    public List<Param> params() {
        return params;
    }

    @Override
    public void close() {
        gw.close();
        if (gb != null) gb.close();
        if (wq != null) wq.close();
    }
}
