package org.tessera.train;

import org.tessera.Tensor;

/**
 * Flatten in PyTorch's (c, h, w) order, as the inference layer does, so trained weights load in PyTorch
 * unchanged: forward permutes each (h, w, c) example to (c, h, w); backward permutes the gradient back.
 */
final class FlattenBackprop implements Backprop {
    private final long[] in;

    FlattenBackprop(long[] in) {
        this.in = in.clone();
    }

    @Override
    public void forward(Tensor x, Tensor y, boolean training) {
        if (in.length != 3) {
            y.reshape(x.shape()).copyFrom(x);
            return;
        }
        long n = x.dim(0);
        y.reshape(n, in[2], in[0], in[1]).copyFrom(x.transpose(2, 3).transpose(1, 2));
    }

    @Override
    public void backward(Tensor x, Tensor y, Tensor dy, Tensor dx) {
        if (dx == null) return;
        if (in.length != 3) {
            dx.copyFrom(dy.reshape(dx.shape()));
            return;
        }
        long n = dy.dim(0);
        dx.copyFrom(dy.reshape(n, in[2], in[0], in[1]).transpose(1, 2).transpose(2, 3));
    }
}
