package org.tessera.train;

import org.tessera.nn.U8Range;

/**
 * The running range of one activation in quantization-aware training, shared by every replica: an exponential
 * moving average of the batch minimum and maximum (momentum {@value #MOMENTUM}, PyTorch's
 * MovingAverageMinMaxObserver), started from the first batch. The u8 encoding it implies is what the fake
 * quantization applies now and what the converted int8 model uses. Replicas only read it during a step; the
 * trainer updates it between steps.
 */
final class ActivationObserver {
    static final double MOMENTUM = 0.01;
    /** The layer whose output this observes (-1: the model input). */
    final int layer;
    private float lo, hi;
    private U8Range range; // null until the first batch

    ActivationObserver(int layer) {
        this.layer = layer;
    }

    /** The encoding of the current range, or null before any batch. */
    U8Range range() {
        return range;
    }

    /** Moves the range toward the mean of {@code count} batch minima and maxima summed in minSum and maxSum. */
    void update(double minSum, double maxSum, double count) {
        if (count == 0) return;
        float bmin = (float) (minSum / count), bmax = (float) (maxSum / count);
        if (range == null) {
            lo = bmin;
            hi = bmax;
        } else {
            lo = (float) (lo + MOMENTUM * (bmin - lo));
            hi = (float) (hi + MOMENTUM * (bmax - hi));
        }
        range = U8Range.of(Math.min(0, lo), Math.max(0, hi));
    }

    /** {lo, hi, 1} once a batch was seen, else {0, 0, 0}: what a checkpoint stores. */
    float[] state() {
        return range == null ? new float[3] : new float[] {lo, hi, 1};
    }

    void restore(float[] s) {
        if (s.length != 3) throw new IllegalArgumentException("an observer state has 3 values (lo, hi, seen), got " + s.length);
        if (s[2] == 0) {
            range = null;
            return;
        }
        if (!Float.isFinite(s[0]) || !Float.isFinite(s[1]) || s[0] > s[1]) throw new IllegalArgumentException("observer range [" + s[0] + ", " + s[1] + "] is not a finite range");
        lo = s[0];
        hi = s[1];
        range = U8Range.of(Math.min(0, lo), Math.max(0, hi));
    }

    /** The observed range {lo, hi} (0, 0 before any batch). */
    float lo() {
        return lo;
    }

    float hi() {
        return hi;
    }
}
