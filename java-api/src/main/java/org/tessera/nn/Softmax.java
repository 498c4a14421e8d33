package org.tessera.nn;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.tessera.Ops;
import org.tessera.kernels.DType;

/** Softmax or log-softmax over the features of a vector example, computed stably (max subtracted, sums in double). */
public final class Softmax extends Layer {
    private final boolean log;

    /** softmax, or log-softmax when {@code log}. */
    public Softmax(boolean log) {
        this.log = log;
    }

    /** Whether this is log-softmax. */
    public boolean isLog() {
        return log;
    }

    @Override
    public String type() {
        return log ? "logsoftmax" : "softmax";
    }

    @Override
    public long[] outputShape(long[] in) {
        Shapes.requireVector(type(), in);
        return in.clone();
    }

    @Override
    Step compile(Ops ops, long[] in, String label) {
        int k = (int) in[0];
        return new Step(label, in.clone(), DType.F32, (x, y) -> rows(x.segment(), y.segment(), x.dim(0), k, log), null);
    }

    static void rows(MemorySegment x, MemorySegment y, long n, int k, boolean log) {
        for (long r = 0; r < n; r++) {
            long base = r * k;
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < k; j++) max = Math.max(max, x.getAtIndex(ValueLayout.JAVA_FLOAT, base + j));
            double sum = 0;
            for (int j = 0; j < k; j++) sum += Math.exp(x.getAtIndex(ValueLayout.JAVA_FLOAT, base + j) - max);
            double logSum = Math.log(sum);
            for (int j = 0; j < k; j++) {
                double z = x.getAtIndex(ValueLayout.JAVA_FLOAT, base + j) - max;
                y.setAtIndex(ValueLayout.JAVA_FLOAT, base + j, (float) (log ? z - logSum : Math.exp(z - logSum)));
            }
        }
    }
}
