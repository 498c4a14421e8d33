package org.tessera.nn;

import java.util.SplittableRandom;
import org.tessera.Tensor;

/** Parameter initialization. */
final class Init {
    private Init() {}

    /** Uniform in [-sqrt(6 / fanIn), sqrt(6 / fanIn)] (He et al. 2015): keeps ReLU activations' variance across layers. */
    static void heUniform(Tensor w, long fanIn, SplittableRandom rng) {
        double bound = Math.sqrt(6.0 / fanIn);
        float[] v = new float[(int) w.numel()];
        for (int i = 0; i < v.length; i++) v[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
        w.copyFrom(v);
    }

    static void fill(Tensor t, float value) {
        float[] v = new float[(int) t.numel()];
        java.util.Arrays.fill(v, value);
        t.copyFrom(v);
    }
}
