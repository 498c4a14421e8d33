package org.tessera.train;

import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.tessera.kernels.java.AdamStepF32Panama;

/**
 * Adam with bias correction: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
 * w -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps). Weight decay is L2 (added to g) or, for AdamW,
 * decoupled (w -= lr wd w before the update). The update runs in double, vectorized and split over the worker
 * pool ({@link AdamStepF32Panama}), with the same bits as the scalar formula.
 */
final class Adam implements Optimizer {
    private final double b1, b2, eps, weightDecay;
    private final boolean decoupled;
    private final Map<String, float[]> m = new HashMap<>(), v = new HashMap<>();
    private long steps;

    Adam(double b1, double b2, double eps, double weightDecay, boolean decoupled) {
        if (!(b1 >= 0 && b1 < 1) || !(b2 >= 0 && b2 < 1)) throw new IllegalArgumentException("adam: betas must be in [0, 1), got " + b1 + ", " + b2);
        if (!(eps > 0)) throw new IllegalArgumentException("adam: eps must be > 0, got " + eps);
        if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) throw new IllegalArgumentException("adam: weight decay must be >= 0, got " + weightDecay);
        this.b1 = b1;
        this.b2 = b2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.decoupled = decoupled;
    }

    @Override
    public void step(List<Param> params, double lr) {
        long t = steps + 1;
        double c1 = 1 - Math.pow(b1, t), c2 = 1 - Math.pow(b2, t);
        for (Param p : params) {
            MemorySegment w = p.value().segment(), g = p.grad().segment();
            int n = (int) p.value().numel();
            float[] mi = m.computeIfAbsent(p.name(), k -> new float[n]), vi = v.computeIfAbsent(p.name(), k -> new float[n]);
            AdamStepF32Panama.run(new AdamStepF32Panama.Step(lr, b1, b2, eps, c1, c2, p.decay() ? weightDecay : 0, decoupled), w, g, mi, vi, n);
        }
        steps = t;
    }

    @Override
    public Map<String, float[]> state() {
        Map<String, float[]> s = new HashMap<>();
        m.forEach((k, a) -> s.put(k + ".m", a.clone()));
        v.forEach((k, a) -> s.put(k + ".v", a.clone()));
        return s;
    }

    @Override
    public void restore(Map<String, float[]> state, long steps) {
        if (steps < 0) throw new IllegalArgumentException("optimizer state: steps must be >= 0, got " + steps);
        m.clear();
        v.clear();
        state.forEach((k, a) -> {
            if (k.endsWith(".m")) m.put(k.substring(0, k.length() - 2), a.clone());
            else if (k.endsWith(".v")) v.put(k.substring(0, k.length() - 2), a.clone());
        });
        this.steps = steps;
    }

    @Override
    public long steps() {
        return steps;
    }

    @Override
    public String toString() {
        return (decoupled ? "AdamW" : "Adam") + "(betas " + b1 + "/" + b2 + ", weight decay " + weightDecay + ")";
    }
}
