package org.tessera.train;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.tessera.Tensor;

/**
 * Softmax / log-softmax layers (for training, prefer logits with {@link SoftmaxCrossEntropy}, which fuses them
 * stably): softmax dx = y (dy - sum(dy y)); log-softmax dx = dy - exp(y) sum(dy).
 */
final class SoftmaxBackprop implements Backprop {
    private final boolean log;

    SoftmaxBackprop(boolean log) {
        this.log = log;
    }

    @Override
    public void forward(Tensor x, Tensor y, boolean training) {
        Losses.softmaxRows(x.segment(), y.segment(), x.dim(0), (int) x.dim(1), 1, log);
    }

    @Override
    public void backward(Tensor x, Tensor y, Tensor dy, Tensor dx) {
        if (dx == null) return;
        MemorySegment ys = y.segment(), g = dy.segment(), out = dx.segment();
        long n = y.dim(0);
        int k = (int) y.dim(1);
        for (long r = 0; r < n; r++) {
            long base = r * k;
            double dot = 0;
            for (int j = 0; j < k; j++) {
                float d = g.getAtIndex(ValueLayout.JAVA_FLOAT, base + j);
                dot += log ? d : d * ys.getAtIndex(ValueLayout.JAVA_FLOAT, base + j);
            }
            for (int j = 0; j < k; j++) {
                double v = ys.getAtIndex(ValueLayout.JAVA_FLOAT, base + j), d = g.getAtIndex(ValueLayout.JAVA_FLOAT, base + j);
                out.setAtIndex(ValueLayout.JAVA_FLOAT, base + j, (float) (log ? d - Math.exp(v) * dot : v * (d - dot)));
            }
        }
    }
}
