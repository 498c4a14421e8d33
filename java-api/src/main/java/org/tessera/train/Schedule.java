package org.tessera.train;

/** The learning rate at each optimizer step (0-based). Compose: {@code Schedule.warmup(100, Schedule.cosine(1e-3, 5000, 0))}. */
@FunctionalInterface
public interface Schedule {
    /** The learning rate for step {@code step}. */
    double rate(long step);

    /** Always {@code lr}. */
    static Schedule constant(double lr) {
        requireRate(lr);
        return step -> lr;
    }

    /** {@code lr * gamma^(step / every)}: a drop by gamma every {@code every} steps. */
    static Schedule step(double lr, long every, double gamma) {
        requireRate(lr);
        if (every < 1) throw new IllegalArgumentException("schedule: every must be >= 1, got " + every);
        if (!(gamma > 0 && gamma <= 1)) throw new IllegalArgumentException("schedule: gamma must be in (0, 1], got " + gamma);
        return step -> lr * Math.pow(gamma, step / every);
    }

    /** Cosine decay from {@code lr} to {@code min} over {@code total} steps, then {@code min}. */
    static Schedule cosine(double lr, long total, double min) {
        requireRate(lr);
        if (total < 1) throw new IllegalArgumentException("schedule: total steps must be >= 1, got " + total);
        if (!(min >= 0 && min <= lr)) throw new IllegalArgumentException("schedule: min must be in [0, lr], got " + min);
        return step -> step >= total ? min : min + (lr - min) * 0.5 * (1 + Math.cos(Math.PI * step / total));
    }

    /** Linear warm-up from lr/steps to {@code then.rate(steps)} over the first {@code steps} steps, then {@code then}. */
    static Schedule warmup(long steps, Schedule then) {
        if (steps < 0) throw new IllegalArgumentException("schedule: warm-up steps must be >= 0, got " + steps);
        return step -> step < steps ? then.rate(steps) * (step + 1) / steps : then.rate(step);
    }

    private static void requireRate(double lr) {
        if (!(lr > 0) || Double.isInfinite(lr)) throw new IllegalArgumentException("schedule: learning rate must be positive and finite, got " + lr);
    }
}
