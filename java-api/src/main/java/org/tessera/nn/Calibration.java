package org.tessera.nn;

import java.util.Arrays;

/**
 * How post-training quantization turns the activations seen on calibration batches into a u8 range
 * [lo, hi] (always containing 0, so real zero is exact):
 * <ul>
 *   <li>{@link #minMax()}: the extremes seen. No clipping; outliers cost resolution.</li>
 *   <li>{@link #percentile(double)}: the p-th and (100 - p)-th percentiles of a sample, e.g. 99.99: clips rare outliers.</li>
 *   <li>{@link #mse()}: the range, among the extremes shrunk by 1.0, 0.95, ..., 0.30, with the least mean squared
 *       quantization error (clipping plus rounding) over the sample.</li>
 * </ul>
 */
public record Calibration(String method, double percentile) {
    public Calibration {
        if (!method.equals("minmax") && !method.equals("percentile") && !method.equals("mse")) throw new IllegalArgumentException("unknown calibration " + method);
        if (method.equals("percentile") && !(percentile > 50 && percentile <= 100)) {
            throw new IllegalArgumentException("percentile must be in (50, 100], got " + percentile);
        }
    }

    public static Calibration minMax() {
        return new Calibration("minmax", 100);
    }

    public static Calibration percentile(double p) {
        return new Calibration("percentile", p);
    }

    public static Calibration mse() {
        return new Calibration("mse", 100);
    }

    /** Running statistics of one activation: exact extremes and an evenly strided sample. */
    static final class Stats {
        static final int PER_BATCH = 16_384, MAX = 262_144;
        float min = Float.POSITIVE_INFINITY, max = Float.NEGATIVE_INFINITY;
        float[] sample = new float[1024];
        int size;

        void add(java.lang.foreign.MemorySegment seg, long n) {
            long stride = Math.max(1, (n + PER_BATCH - 1) / PER_BATCH);
            for (long i = 0; i < n; i++) {
                float v = seg.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i);
                if (!Float.isFinite(v)) throw new NonFiniteException("calibration saw " + v + " at element " + i);
                if (v < min) min = v;
                if (v > max) max = v;
                if (i % stride == 0 && size < MAX) {
                    if (size == sample.length) sample = Arrays.copyOf(sample, Math.min(MAX, 2 * size));
                    sample[size++] = v;
                }
            }
        }
    }

    /** The u8 quantization (scale, zero point) of an activation with these statistics. */
    U8Range range(Stats s) {
        if (s.size == 0) throw new IllegalStateException("no calibration batches were run");
        float lo = Math.min(0, s.min), hi = Math.max(0, s.max);
        switch (method) {
            case "percentile" -> {
                float[] sorted = Arrays.copyOf(s.sample, s.size);
                Arrays.sort(sorted);
                lo = Math.min(0, sorted[(int) Math.floor((100 - percentile) / 100 * (s.size - 1))]);
                hi = Math.max(0, sorted[(int) Math.ceil(percentile / 100 * (s.size - 1))]);
            }
            case "mse" -> {
                double best = Double.POSITIVE_INFINITY;
                float bl = lo, bh = hi;
                for (int step = 0; step <= 14; step++) {
                    float f = 1f - 0.05f * step;
                    U8Range r = U8Range.of(lo * f, hi * f);
                    double err = 0;
                    for (int i = 0; i < s.size; i++) {
                        double d = r.dequantize(r.quantize(s.sample[i])) - s.sample[i];
                        err += d * d;
                    }
                    if (err < best) {
                        best = err;
                        bl = lo * f;
                        bh = hi * f;
                    }
                }
                lo = bl;
                hi = bh;
            }
            default -> { }
        }
        return U8Range.of(lo, hi);
    }
}
