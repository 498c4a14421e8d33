package org.tessera.train;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.tessera.Ops;
import org.tessera.Tensor;
import org.tessera.nn.Nonlinearity;

/** Elementwise activations; the derivative reads the output where it can (ReLU, sigmoid, tanh), else the input. */
final class ActivationBackprop implements Backprop {
    private static final double INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
    private final Ops ops;
    private final Nonlinearity.Kind kind;

    ActivationBackprop(Nonlinearity layer, Ops ops) {
        this.ops = ops;
        this.kind = layer.kind();
    }

    Nonlinearity.Kind kind() {
        return kind;
    }

    @Override
    public void forward(Tensor x, Tensor y, boolean training) {
        if (kind == Nonlinearity.Kind.RELU) {
            ops.relu(x, y);
            return;
        }
        MemorySegment xs = x.segment(), ys = y.segment();
        for (long i = 0, n = x.numel(); i < n; i++) {
            ys.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) kind.apply(xs.getAtIndex(ValueLayout.JAVA_FLOAT, i)));
        }
    }

    @Override
    public void backward(Tensor x, Tensor y, Tensor dy, Tensor dx) {
        if (dx == null) return;
        if (kind == Nonlinearity.Kind.RELU) {
            ops.reluBackward(y, dy, dx);
            return;
        }
        MemorySegment xs = x.segment(), ys = y.segment(), g = dy.segment(), out = dx.segment();
        for (long i = 0, n = x.numel(); i < n; i++) {
            float d = g.getAtIndex(ValueLayout.JAVA_FLOAT, i);
            double v = ys.getAtIndex(ValueLayout.JAVA_FLOAT, i);
            double slope = switch (kind) {
                case RELU -> v > 0 ? 1 : 0;
                case RELU6 -> {
                    float in = xs.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                    yield in > 0 && in < 6 ? 1 : 0;
                }
                case SIGMOID -> v * (1 - v);
                case TANH -> 1 - v * v;
                case GELU -> {
                    double in = xs.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                    double cdf = in == 0 ? 0.5 : Nonlinearity.Kind.GELU.apply(in) / in; // Phi(x) as the forward computes it
                    yield cdf + in * INV_SQRT_2PI * Math.exp(-0.5 * in * in);
                }
            };
            out.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (d * slope));
        }
    }
}
