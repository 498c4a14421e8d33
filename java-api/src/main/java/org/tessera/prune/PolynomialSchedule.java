package org.tessera.prune;

/**
 * Gradual pruning schedule of Zhu and Gupta (2017): sparsity rises from {@code initial} at {@code beginStep} to
 * {@code target} at {@code endStep} as {@code s(t) = target + (initial - target) * (1 - (t - begin) / (end - begin))^power}
 * (power 3 in the paper: prune fast while there are many redundant weights, slowly near the end), and masks are
 * updated every {@code frequency} steps in between.
 *
 * @param initial   sparsity at beginStep, in [0, 1]
 * @param target    final sparsity, in [initial, 1]
 * @param beginStep first pruning step (>= 0)
 * @param endStep   last pruning step (> beginStep)
 * @param frequency steps between mask updates (>= 1)
 * @param power     the exponent (3 in the paper)
 */
public record PolynomialSchedule(double initial, double target, long beginStep, long endStep, long frequency, double power) {
    public PolynomialSchedule {
        if (!(initial >= 0 && initial <= target && target <= 1)) {
            throw new IllegalArgumentException("need 0 <= initial <= target <= 1, got initial " + initial + ", target " + target);
        }
        if (beginStep < 0 || endStep <= beginStep) throw new IllegalArgumentException("need 0 <= beginStep < endStep, got " + beginStep + ", " + endStep);
        if (frequency < 1) throw new IllegalArgumentException("frequency must be >= 1, got " + frequency);
        if (!(power > 0)) throw new IllegalArgumentException("power must be > 0, got " + power);
    }

    /** The paper's schedule: power 3. */
    public static PolynomialSchedule cubic(double initial, double target, long beginStep, long endStep, long frequency) {
        return new PolynomialSchedule(initial, target, beginStep, endStep, frequency, 3);
    }

    /** The sparsity for step t: initial before beginStep, target from endStep on. */
    public double sparsityAt(long step) {
        if (step <= beginStep) return initial;
        if (step >= endStep) return target;
        double progress = (double) (step - beginStep) / (endStep - beginStep);
        return target + (initial - target) * Math.pow(1 - progress, power);
    }

    /** Whether masks are updated at this step: beginStep, every frequency steps after it, and endStep. */
    public boolean isUpdateStep(long step) {
        return step >= beginStep && step <= endStep && ((step - beginStep) % frequency == 0 || step == endStep);
    }
}
