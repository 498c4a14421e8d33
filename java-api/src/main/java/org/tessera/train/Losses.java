package org.tessera.train;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Row-wise softmax helpers shared by the losses and the softmax layers. */
final class Losses {
    private Losses() {}

    /** y = softmax(x / temperature) (or its log) per row of (n, k), stably, sums in double. */
    static void softmaxRows(MemorySegment x, MemorySegment y, long n, int k, double temperature, boolean log) {
        for (long r = 0; r < n; r++) {
            long base = r * k;
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < k; j++) max = Math.max(max, x.getAtIndex(ValueLayout.JAVA_FLOAT, base + j) / temperature);
            double sum = 0;
            for (int j = 0; j < k; j++) sum += Math.exp(x.getAtIndex(ValueLayout.JAVA_FLOAT, base + j) / temperature - max);
            double logSum = Math.log(sum);
            for (int j = 0; j < k; j++) {
                double z = x.getAtIndex(ValueLayout.JAVA_FLOAT, base + j) / temperature - max - logSum;
                y.setAtIndex(ValueLayout.JAVA_FLOAT, base + j, (float) (log ? z : Math.exp(z)));
            }
        }
    }

    /** log-softmax of row {@code base} of width k at temperature t, into out (double). */
    static void logSoftmax(MemorySegment x, long base, int k, double t, double[] out) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < k; j++) max = Math.max(max, x.getAtIndex(ValueLayout.JAVA_FLOAT, base + j) / t);
        double sum = 0;
        for (int j = 0; j < k; j++) sum += Math.exp(x.getAtIndex(ValueLayout.JAVA_FLOAT, base + j) / t - max);
        double logSum = max + Math.log(sum);
        for (int j = 0; j < k; j++) out[j] = x.getAtIndex(ValueLayout.JAVA_FLOAT, base + j) / t - logSum;
    }

    static void requireLabel(int label, int classes, int example) {
        if (label < 0 || label >= classes) {
            throw new IllegalArgumentException("label " + label + " of example " + example + " is outside [0, " + classes + ")");
        }
    }
}
