package org.tessera.train;

import org.tessera.Ops;
import org.tessera.Tensor;

/** The mean over (h, w) and its gradient (dy spread evenly). */
final class GlobalAvgPoolBackprop implements Backprop {
    private final Ops ops;

    GlobalAvgPoolBackprop(Ops ops) {
        this.ops = ops;
    }

    @Override
    public void forward(Tensor x, Tensor y, boolean training) {
        ops.globalAvgPool(x, y);
    }

    @Override
    public void backward(Tensor x, Tensor y, Tensor dy, Tensor dx) {
        if (dx != null) ops.globalAvgPoolBackward(dy, dx);
    }
}
