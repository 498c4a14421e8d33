package org.tessera.train;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.tessera.Tensor;

/** Cross-entropy of softmax(logits) against integer labels: loss = logsumexp(z) - z[label], grad = softmax(z) - onehot. */
final class SoftmaxCrossEntropy implements Loss {
    @Override
    public double forwardBackward(Tensor output, Batch batch, double scale, Tensor grad) {
        MemorySegment z = output.segment(), g = grad.segment();
        int n = (int) output.dim(0), k = (int) output.dim(1);
        double[] logp = new double[k];
        double total = 0;
        for (int r = 0; r < n; r++) {
            int label = batch.label(r);
            Losses.requireLabel(label, k, r);
            long base = (long) r * k;
            Losses.logSoftmax(z, base, k, 1, logp);
            total -= logp[label];
            for (int j = 0; j < k; j++) {
                g.setAtIndex(ValueLayout.JAVA_FLOAT, base + j, (float) (scale * (Math.exp(logp[j]) - (j == label ? 1 : 0))));
            }
        }
        return total;
    }

    @Override
    public String toString() {
        return "softmax cross-entropy";
    }
}
