package org.tessera.train;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.tessera.Tensor;

/** Per example: mean over the k features of (output - target)^2; grad 2 (output - target) / k. */
final class MeanSquaredError implements Loss {
    @Override
    public double forwardBackward(Tensor output, Batch batch, double scale, Tensor grad) {
        Tensor t = batch.targets();
        if (t == null) throw new IllegalArgumentException("mse: the batch has no targets");
        if (!java.util.Arrays.equals(t.shape(), output.shape())) {
            throw new IllegalArgumentException("mse: targets " + java.util.Arrays.toString(t.shape()) + " do not match the output " + java.util.Arrays.toString(output.shape()));
        }
        MemorySegment o = output.segment(), ts = t.segment(), g = grad.segment();
        long total = output.numel();
        int k = (int) (total / output.dim(0));
        double sum = 0;
        for (long i = 0; i < total; i++) {
            double d = o.getAtIndex(ValueLayout.JAVA_FLOAT, i) - ts.getAtIndex(ValueLayout.JAVA_FLOAT, i);
            sum += d * d / k;
            g.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (scale * 2 * d / k));
        }
        return sum;
    }

    @Override
    public String toString() {
        return "mean squared error";
    }
}
