package org.tessera.kernels.java;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.tessera.testing.SeededRandom;

/**
 * The vectorized, pool-split Adam update gives the bits of the scalar formula (evaluated here in double, as the
 * optimizer wrote it before), for L2 and decoupled decay, tail sizes around the vector width, offset-free and
 * large (multi-threaded) parameters, and gradients of very different scales (v near 0 and large).
 */
@ExtendWith(SeededRandom.class)
class AdamStepF32PanamaTest {
    @Test
    void matchesTheScalarFormulaBitForBit(SplittableRandom rnd) {
        for (boolean decoupled : new boolean[] {false, true}) {
            for (int n : new int[] {1, 3, 4, 7, 8, 9, 17, 33, 100_003}) {
                double lr = 1e-3 * (1 + rnd.nextDouble()), b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = rnd.nextBoolean() ? 0 : 0.01;
                int t = 1 + rnd.nextInt(50);
                double c1 = 1 - Math.pow(b1, t), c2 = 1 - Math.pow(b2, t);
                float[] w = new float[n], g = new float[n], m = new float[n], v = new float[n];
                for (int i = 0; i < n; i++) {
                    w[i] = (float) rnd.nextGaussian();
                    g[i] = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(-6, 3)));
                    m[i] = (float) (rnd.nextGaussian() * 0.1);
                    v[i] = (float) Math.abs(rnd.nextGaussian() * 0.01);
                }
                float[] ew = w.clone(), em = m.clone(), ev = v.clone();
                for (int i = 0; i < n; i++) {
                    double wv = ew[i], gv = g[i];
                    if (decoupled) wv -= lr * wd * wv;
                    else gv += wd * wv;
                    double mv = b1 * em[i] + (1 - b1) * gv, vv = b2 * ev[i] + (1 - b2) * gv * gv;
                    em[i] = (float) mv;
                    ev[i] = (float) vv;
                    ew[i] = (float) (wv - lr * (mv / c1) / (Math.sqrt(vv / c2) + eps));
                }
                try (Arena arena = Arena.ofShared()) {
                    MemorySegment ws = arena.allocateFrom(ValueLayout.JAVA_FLOAT, w), gs = arena.allocateFrom(ValueLayout.JAVA_FLOAT, g);
                    AdamStepF32Panama.run(new AdamStepF32Panama.Step(lr, b1, b2, eps, c1, c2, wd, decoupled), ws, gs, m, v, n);
                    float[] gotW = ws.toArray(ValueLayout.JAVA_FLOAT);
                    for (int i = 0; i < n; i++) {
                        String at = "decoupled " + decoupled + ", n " + n + ", element " + i;
                        assertEquals(Float.floatToIntBits(em[i]), Float.floatToIntBits(m[i]), "m, " + at);
                        assertEquals(Float.floatToIntBits(ev[i]), Float.floatToIntBits(v[i]), "v, " + at);
                        assertEquals(Float.floatToIntBits(ew[i]), Float.floatToIntBits(gotW[i]), "w, " + at);
                    }
                }
            }
        }
    }
}
