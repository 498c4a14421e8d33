package org.tessera.train;

import java.util.ArrayList;
import java.util.List;
import org.tessera.Activation;
import org.tessera.Ops;
import org.tessera.Tensor;
import org.tessera.kernels.DType;
import org.tessera.nn.Linear;

/** y = x W^T + b; dW = dy^T x, db = column sums of dy, dx = dy W: three GEMMs on transposed views, no copies. */
final class LinearBackprop implements Backprop {
    private final Ops ops;
    private final Tensor w, b, gw, gb;
    private final List<Param> params = new ArrayList<>();

    LinearBackprop(Linear layer, Ops ops, String prefix) {
        this.ops = ops;
        this.w = layer.weight();
        this.b = layer.bias();
        this.gw = Tensor.allocate(DType.F32, w.shape());
        this.gb = b == null ? null : Tensor.allocate(DType.F32, b.shape());
        params.add(new Param(prefix + "weight", w, gw, true));
        if (b != null) params.add(new Param(prefix + "bias", b, gb, false));
    }

    @Override
    public void forward(Tensor x, Tensor y, boolean training) {
        ops.matmul(x, w.t(), b, Activation.IDENTITY, y);
    }

    @Override
    public void backward(Tensor x, Tensor y, Tensor dy, Tensor dx) {
        ops.matmul(dy.t(), x, gw);
        if (gb != null) Reductions.sumRows(dy.segment(), dy.dim(0), (int) dy.dim(1), gb.segment());
        if (dx != null) ops.matmul(dy, w, dx);
    }

    @Override
    public List<Param> params() {
        return params;
    }

    @Override
    public void close() {
        gw.close();
        if (gb != null) gb.close();
    }
}
