package org.tessera.train;

import org.tessera.Ops;
import org.tessera.Pool2dParams;
import org.tessera.Tensor;
import org.tessera.kernels.DType;
import org.tessera.nn.Pool2d;

/** Max pooling (remembering each output's argmax) or average pooling, and their gradients. */
final class PoolBackprop implements Backprop {
    private final Ops ops;
    private final boolean max;
    private final Pool2dParams p;
    private final Tensor argmax;

    PoolBackprop(Pool2d layer, Ops ops, long[] outShape, int maxBatch) {
        this.ops = ops;
        this.max = layer.isMax();
        this.p = layer.params();
        this.argmax = max ? Tensor.allocate(DType.S32, maxBatch, outShape[0], outShape[1], outShape[2]) : null;
    }

    boolean isMax() {
        return max;
    }

    @Override
    public void forward(Tensor x, Tensor y, boolean training) {
        if (max) ops.maxPool2d(x, p, y, argmax.slice(0, 0, x.dim(0)));
        else ops.avgPool2d(x, p, y);
    }

    @Override
    public void backward(Tensor x, Tensor y, Tensor dy, Tensor dx) {
        if (dx == null) return;
        if (max) ops.maxPool2dBackward(dy, argmax.slice(0, 0, dy.dim(0)), p, dx);
        else ops.avgPool2dBackward(dy, p, dx);
    }

    @Override
    public void close() {
        if (argmax != null) argmax.close();
    }
}
