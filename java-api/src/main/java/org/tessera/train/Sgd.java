package org.tessera.train;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** SGD as PyTorch defines it: g += wd w; v = mu v + g; w -= lr (nesterov ? g + mu v : v). */
final class Sgd implements Optimizer {
    private final double momentum, weightDecay;
    private final boolean nesterov;
    private final Map<String, float[]> velocity = new HashMap<>();
    private long steps;

    Sgd(double momentum, boolean nesterov, double weightDecay) {
        if (!(momentum >= 0 && momentum < 1)) throw new IllegalArgumentException("sgd: momentum must be in [0, 1), got " + momentum);
        if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) throw new IllegalArgumentException("sgd: weight decay must be >= 0, got " + weightDecay);
        if (nesterov && momentum == 0) throw new IllegalArgumentException("sgd: Nesterov needs momentum > 0");
        this.momentum = momentum;
        this.nesterov = nesterov;
        this.weightDecay = weightDecay;
    }

    @Override
    public void step(List<Param> params, double lr) {
        for (Param p : params) {
            MemorySegment w = p.value().segment(), g = p.grad().segment();
            int n = (int) p.value().numel();
            float[] v = momentum > 0 ? velocity.computeIfAbsent(p.name(), k -> new float[n]) : null;
            double wd = p.decay() ? weightDecay : 0;
            for (int i = 0; i < n; i++) {
                double wi = w.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                double gi = g.getAtIndex(ValueLayout.JAVA_FLOAT, i) + wd * wi;
                if (v != null) {
                    double vi = momentum * v[i] + gi; // a zero buffer makes the first v = g, as PyTorch
                    v[i] = (float) vi;
                    gi = nesterov ? gi + momentum * vi : vi;
                }
                w.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (wi - lr * gi));
            }
        }
        steps++;
    }

    @Override
    public Map<String, float[]> state() {
        Map<String, float[]> s = new HashMap<>();
        velocity.forEach((k, v) -> s.put(k + ".momentum", v.clone()));
        return s;
    }

    @Override
    public void restore(Map<String, float[]> state, long steps) {
        if (steps < 0) throw new IllegalArgumentException("optimizer state: steps must be >= 0, got " + steps);
        velocity.clear();
        state.forEach((k, v) -> {
            if (k.endsWith(".momentum")) velocity.put(k.substring(0, k.length() - ".momentum".length()), v.clone());
        });
        this.steps = steps;
    }

    @Override
    public long steps() {
        return steps;
    }

    @Override
    public String toString() {
        return "SGD(momentum " + momentum + (nesterov ? ", Nesterov" : "") + ", weight decay " + weightDecay + ")";
    }
}
