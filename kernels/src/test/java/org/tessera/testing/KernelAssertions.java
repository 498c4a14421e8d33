package org.tessera.testing;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Comparisons that say where and by how much results differ: the kernel id, the shape, the first
 * mismatching index, reference vs actual.
 */
public final class KernelAssertions {
    private KernelAssertions() {}

    /**
     * Relative Frobenius error ||actual - expected|| / ||expected|| (absolute when expected is all zero);
     * infinite if NaN or Inf appear where the reference has none.
     */
    public static double relativeError(float[] expected, float[] actual) {
        double num = 0, den = 0;
        for (int i = 0; i < expected.length; i++) {
            if (!Float.isFinite(expected[i]) || !Float.isFinite(actual[i])) {
                if (Float.compare(expected[i], actual[i]) != 0 && !(Float.isNaN(expected[i]) && Float.isNaN(actual[i]))) {
                    return Double.POSITIVE_INFINITY;
                }
                continue;
            }
            double d = (double) actual[i] - expected[i];
            num += d * d;
            den += (double) expected[i] * expected[i];
        }
        return den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }

    /** Fails unless every element matches exactly (NaN matches NaN; -0 matches +0). */
    public static void assertExact(String what, float[] expected, float[] actual) {
        if (expected.length != actual.length) fail(what + ": length " + actual.length + ", expected " + expected.length);
        for (int i = 0; i < expected.length; i++) {
            boolean same = expected[i] == actual[i] || (Float.isNaN(expected[i]) && Float.isNaN(actual[i]));
            if (!same) fail(what + ": first mismatch at index " + i + ": reference " + expected[i] + ", actual " + actual[i]);
        }
    }

    /** Fails if the relative Frobenius error exceeds {@code tolerance}, naming the first index that differs most. */
    public static void assertClose(String what, float[] expected, float[] actual, double tolerance) {
        double err = relativeError(expected, actual);
        if (err <= tolerance) return;
        int worst = 0;
        double worstDiff = -1;
        for (int i = 0; i < expected.length; i++) {
            double d = Float.isNaN(actual[i]) != Float.isNaN(expected[i]) ? Double.POSITIVE_INFINITY : Math.abs((double) actual[i] - expected[i]);
            if (d > worstDiff) {
                worstDiff = d;
                worst = i;
            }
        }
        fail(String.format("%s: relative error %.3g > %.1g; worst at index %d: reference %s, actual %s", what, err, tolerance, worst,
                expected[worst], actual[worst]));
    }
}
