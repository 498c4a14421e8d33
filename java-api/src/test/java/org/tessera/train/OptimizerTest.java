package org.tessera.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tessera.Tensor;

/** Optimizer steps and schedules against values computed by hand from the update rules. */
class OptimizerTest {
    /** Two steps on w = {1, -2} with gradients {0.5, 1} then {0.25, -1}; returns w after each step. */
    private static float[][] twoSteps(Optimizer opt, double lr, boolean decay) {
        try (Tensor w = Tensor.of(new float[] {1f, -2f}, 2); Tensor g = Tensor.of(new float[] {0.5f, 1f}, 2)) {
            List<Param> ps = List.of(new Param("w", w, g, decay));
            opt.step(ps, lr);
            float[] a = w.toFloatArray();
            g.copyFrom(new float[] {0.25f, -1f});
            opt.step(ps, lr);
            return new float[][] {a, w.toFloatArray()};
        }
    }

    @Test
    void plainSgd() {
        float[][] w = twoSteps(Optimizer.sgd(0, false, 0), 0.1, true);
        assertArray(new double[] {0.95, -2.1}, w[0]);
        assertArray(new double[] {0.925, -2.0}, w[1]);
    }

    @Test
    void momentumAndNesterov() {
        // v1 = g1; w1 = w0 - lr v1. v2 = 0.9 v1 + g2; w2 = w1 - lr v2.
        float[][] m = twoSteps(Optimizer.sgd(0.9, false, 0), 0.1, true);
        assertArray(new double[] {0.95, -2.1}, m[0]);
        assertArray(new double[] {0.95 - 0.1 * (0.45 + 0.25), -2.1 - 0.1 * (0.9 - 1)}, m[1]);
        // Nesterov: w -= lr (g + 0.9 v).
        float[][] n = twoSteps(Optimizer.sgd(0.9, true, 0), 0.1, true);
        assertArray(new double[] {1 - 0.1 * (0.5 + 0.45), -2 - 0.1 * (1 + 0.9)}, n[0]);
        double v2a = 0.45 + 0.25, v2b = 0.9 - 1;
        assertArray(new double[] {n[0][0] - 0.1 * (0.25 + 0.9 * v2a), n[0][1] - 0.1 * (-1 + 0.9 * v2b)}, n[1]);
    }

    @Test
    void sgdWeightDecayOnlyWhereMarked() {
        float[][] d = twoSteps(Optimizer.sgd(0, false, 0.1), 0.1, true);
        assertArray(new double[] {1 - 0.1 * (0.5 + 0.1), -2 - 0.1 * (1 - 0.2)}, d[0]);
        float[][] nd = twoSteps(Optimizer.sgd(0, false, 0.1), 0.1, false);
        assertArray(new double[] {0.95, -2.1}, nd[0]);
    }

    @Test
    void adamFirstStepMovesEachWeightByTheLearningRate() {
        // Bias correction makes step 1 exactly lr * g / (|g| + eps').
        float[][] w = twoSteps(Optimizer.adam(0), 0.01, true);
        assertArray(new double[] {0.99, -2.01}, w[0]);
        double m2 = 0.9 * 0.05 + 0.1 * 0.25, v2 = 0.999 * 0.00025 + 0.001 * 0.0625;
        double step = 0.01 * (m2 / (1 - 0.81)) / (Math.sqrt(v2 / (1 - 0.998001)) + 1e-8);
        assertEquals(0.99 - step, w[1][0], 1e-6);
    }

    @Test
    void adamWDecaysTheWeightItself() {
        float[][] w = twoSteps(Optimizer.adamW(0.5), 0.01, true);
        // w1 = w0 (1 - lr wd) - lr sign(g)
        assertArray(new double[] {1 * (1 - 0.005) - 0.01, -2 * (1 - 0.005) - 0.01}, w[0]);
        // Adam's L2 goes into g: g = {0.5 + 0.5, 1 - 1} = {1, 0}; a zero gradient does not move the weight.
        float[][] l2 = twoSteps(Optimizer.adam(0.5), 0.01, true);
        assertArray(new double[] {0.99, -2}, l2[0]);
    }

    @Test
    void stateRoundTripsThroughRestore() {
        Optimizer a = Optimizer.adam(0);
        twoSteps(a, 0.01, true);
        Map<String, float[]> s = a.state();
        Optimizer b = Optimizer.adam(0);
        b.restore(s, a.steps());
        assertEquals(2, b.steps());
        assertArray(toDouble(s.get("w.m")), b.state().get("w.m"));
    }

    @Test
    void schedules() {
        assertEquals(0.1, Schedule.constant(0.1).rate(1000), 0);
        Schedule st = Schedule.step(0.1, 10, 0.5);
        assertEquals(0.1, st.rate(9), 1e-15);
        assertEquals(0.05, st.rate(10), 1e-15);
        assertEquals(0.025, st.rate(25), 1e-15);
        Schedule cos = Schedule.cosine(1.0, 100, 0.0);
        assertEquals(1.0, cos.rate(0), 1e-12);
        assertEquals(0.5, cos.rate(50), 1e-12);
        assertEquals(0.0, cos.rate(100), 1e-12);
        assertEquals(0.0, cos.rate(500), 1e-12);
        Schedule wu = Schedule.warmup(4, Schedule.constant(0.8));
        assertEquals(0.2, wu.rate(0), 1e-12);
        assertEquals(0.8, wu.rate(3), 1e-12);
        assertEquals(0.8, wu.rate(4), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> Schedule.constant(-1));
        assertThrows(IllegalArgumentException.class, () -> Schedule.cosine(0.1, 10, 0.2));
        assertThrows(IllegalArgumentException.class, () -> Optimizer.sgd(0, true, 0));
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    private static void assertArray(double[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) assertEquals(expected[i], actual[i], 1e-6, "element " + i);
    }
}
