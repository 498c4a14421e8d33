package org.tessera.kernels.java;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/**
 * The Java GEMM's lane sum adds in one fixed tree order (lane i + L/2, then + L/4, ...), so a dot product gives
 * the same bits whether the interpreter, C1 or C2 runs it; {@code reduceLanes(ADD)} does not promise an order and
 * made results drift in their last bits while the JIT warmed up.
 */
class LaneSumTest {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    /** The same tree in scalar code. */
    private static float tree(float[] v) {
        float[] x = v.clone();
        for (int s = x.length / 2; s >= 1; s /= 2) {
            float[] y = new float[x.length];
            for (int i = 0; i < x.length; i++) y[i] = x[i] + x[(i + s) % x.length];
            x = y;
        }
        return x[0];
    }

    @Test
    void sumsLanesInTheFixedTreeOrderBitForBit() {
        long seed = System.nanoTime();
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] v = new float[S.length()];
        for (int trial = 0; trial < 20_000; trial++) { // enough calls for the JIT to compile sumLanes on the way
            for (int i = 0; i < v.length; i++) v[i] = (float) (rnd.nextDouble(-1, 1) * Math.pow(10, rnd.nextInt(-4, 9))); // mixed magnitudes: order matters
            float got = PanamaF32Gemm.SmallM.sumLanes(FloatVector.fromArray(S, v, 0));
            assertEquals(Float.floatToRawIntBits(tree(v)), Float.floatToRawIntBits(got), "seed " + seed + ", trial " + trial + ", lanes " + java.util.Arrays.toString(v));
        }
    }
}
