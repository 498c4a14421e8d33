package org.tessera.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tessera.Ops;
import org.tessera.Tensor;
import org.tessera.data.Dataset;
import org.tessera.nn.QuantizedModel;
import org.tessera.nn.Sequential;
import org.tessera.nn.U8Range;

/**
 * Quantization-aware training: the rounding rules against the int8 encoding, the observers, the straight-through
 * gradient, and the point of it all: the converted int8 model computes what training simulated. Also
 * checkpoints (ranges included) and distributed members.
 */
class QuantizationAwareTrainingTest {
    private static final long SEED = System.nanoTime();

    /**
     * 8x8x1 images: the first convolution (9 taps) stays f32; the second convolution and both linear layers run int8.
     * The u8 activations are the pooled output of layer 3, the second convolution's ReLU (6) and the first linear
     * layer's ReLU (9).
     */
    private static Sequential model() {
        return Sequential.builder(8, 8, 1).seed(5).conv2d(8, 3, 1).batchNorm().relu().maxPool2d(2)
                .conv2d(8, 3, 1).batchNorm().relu().flatten().linear(32).relu().linear(4).build();
    }

    private static Trainer.Builder options(Sequential m, int batch, int epochs) {
        return options(m, batch, epochs, 8);
    }

    private static Trainer.Builder options(Sequential m, int batch, int epochs, int weightBits) {
        return Trainer.builder(m).batchSize(batch).epochs(epochs).seed(SEED).prefetch(false).shuffle(false)
                .optimizer(Optimizer.sgd(0.9, true, 1e-4)).schedule(Schedule.constant(0.05)).quantizationAware(weightBits);
    }

    @Test
    void activationRoundingIsTheInt8EncodingBitForBit() {
        SplittableRandom rnd = new SplittableRandom(SEED);
        for (U8Range r : new U8Range[] {U8Range.of(0, 6), U8Range.of(-1.5f, 2.25f), U8Range.of(-0.001f, 0.3f), U8Range.of(0, 0)}) {
            int n = 4096;
            float[] x = new float[n], y = new float[n], g = new float[n];
            for (int i = 0; i < n; i++) x[i] = (float) (rnd.nextDouble(-8, 8) * (i % 7 == 0 ? 1 : r.scale() * 40));
            x[3] = Float.NaN;
            x[5] = Float.POSITIVE_INFINITY;
            x[7] = r.scale() * (0.5f + r.zeroPoint() * 0 + 3); // a tie: half to even
            System.arraycopy(x, 0, y, 0, n);
            java.util.Arrays.fill(g, 1f);
            FakeQuant.activations(y, n, r);
            FakeQuant.passInRange(g, x, n, r);
            for (int i = 0; i < n; i++) {
                String at = "seed " + SEED + ", range " + r + ", x = " + x[i];
                if (!Float.isFinite(x[i])) {
                    assertEquals(x[i], y[i], "non-finite values pass through: " + at);
                    continue;
                }
                assertEquals(r.dequantize(r.quantize(x[i])), y[i], at);
                assertEquals(r.inRange(x[i]) ? 1f : 0f, g[i], "the gradient passes inside the range only: " + at);
            }
        }
        U8Range r = U8Range.of(0, 2.55f); // scale 0.01, zero point 0
        float[] v = {0.015f, 0.025f, 2.56f, -0.004f, -0.006f, 1f};
        FakeQuant.activations(v, v.length, r);
        assertArrayEquals(new float[] {0.02f, 0.02f, 2.55f, 0f, 0f, 1f}, v, 1e-6f, "hand-rounded (ties to even, clamped to [0, 2.55])");
    }

    @Test
    void weightsRoundPerOutputChannelToSymmetricCodes() {
        float[] w = {1.27f, -0.5f, 0.004f, /* row 2 */ 0, 0, 0, /* row 3 */ -0.635f, 0.3f, 0.0051f};
        FakeQuant.weights(w, 3, 3, 8);
        assertArrayEquals(new float[] {1.27f, -0.5f, 0f, 0, 0, 0, -0.635f, 0.3f, 0.005f}, w, 1e-6f, "8 bits: scales 0.01 and 0.005 (max / 127)");
        float[] w7 = {0.63f, 0.016f, -0.024f};
        FakeQuant.weights(w7, 1, 3, 7);
        assertArrayEquals(new float[] {0.63f, 0.02f, -0.02f}, w7, 1e-6f, "7 bits: scale 0.01 (max / 63), ties to even");
    }

    @Test
    void observersAverageTheReplicasExtremesThenMoveSlowly() {
        ActivationObserver o = new ActivationObserver(3);
        assertEquals(null, o.range(), "no range before a batch: nothing is rounded");
        o.update(0, 0, 0);
        assertEquals(null, o.range());
        o.update(-1 + -3, 4 + 8, 2); // two replicas: minima -1 and -3, maxima 4 and 8
        assertEquals(-2f, o.lo());
        assertEquals(6f, o.hi());
        o.update(0, 106, 1);
        assertEquals(-2 + 0.01f * 2, o.lo(), 1e-6);
        assertEquals(6 + 0.01f * 100, o.hi(), 1e-6);
        assertEquals(U8Range.of(o.lo(), o.hi()), o.range());
        ActivationObserver copy = new ActivationObserver(3);
        copy.restore(o.state());
        assertEquals(o.range(), copy.range());
        assertThrows(IllegalArgumentException.class, () -> copy.restore(new float[] {1, 0, 1}));
    }

    @Test
    void theStraightThroughGradientStopsWhereTheOutputWasClamped() {
        Backprop identity = new Backprop() {
            @Override
            public void forward(Tensor x, Tensor y, boolean training) {
                y.copyFrom(x);
            }

            @Override
            public void backward(Tensor x, Tensor y, Tensor dy, Tensor dx) {
                dx.copyFrom(dy);
            }
        };
        ActivationObserver out = new ActivationObserver(0);
        try (FakeQuantBackprop fq = new FakeQuantBackprop(identity, null, out, new long[] {3}, new long[] {3}, 2);
             Tensor x = Tensor.of(new float[] {-1, 0.5f, 2, 0.26f, 3, 1}, 2, 3); Tensor y = Tensor.allocate(org.tessera.kernels.DType.F32, 2, 3);
             Tensor dy = Tensor.of(new float[] {1, 1, 1, 1, 1, 1}, 2, 3); Tensor dx = Tensor.allocate(org.tessera.kernels.DType.F32, 2, 3)) {
            fq.forward(x, y, true);
            assertArrayEquals(x.toFloatArray(), y.toFloatArray(), "the first batch only observes");
            double[] sums = new double[fq.statsWidth()];
            fq.addBatchStats(sums);
            fq.updateRunning(sums); // range [-1, 3]
            x.copyFrom(new float[] {-2, 0.5f, 2, 0.26f, 3.5f, 1});
            fq.forward(x, y, true);
            U8Range r = out.range();
            float[] yv = y.toFloatArray();
            for (int i = 0; i < 6; i++) assertEquals(r.dequantize(r.quantize(x.toFloatArray()[i])), yv[i]);
            fq.backward(x, y, dy, dx);
            assertArrayEquals(new float[] {0, 1, 1, 1, 0, 1}, dx.toFloatArray(), "-2 and 3.5 were clamped to [-1, 3]");
        }
    }

    @Test
    void theInt8ModelComputesWhatTrainingSimulated() throws IOException {
        for (int bits : new int[] {8, 7}) theInt8ModelComputesWhatTrainingSimulated(bits);
    }

    private void theInt8ModelComputesWhatTrainingSimulated(int bits) throws IOException {
        Dataset train = DataParallelTest.quadrants(256, SEED), test = DataParallelTest.quadrants(128, SEED + 1);
        try (Sequential m = model(); Trainer t = options(m, 32, 3, bits).build()) {
            assertThrows(IllegalStateException.class, () -> t.quantizedModel(Ops.auto()), "nothing observed before training");
            t.fit(train, null);
            double acc = t.evaluate(test)[1];
            assertTrue(acc > 0.9, "QAT learned the task: accuracy " + acc + ", seed " + SEED);
            try (Tensor x = test.images(0, test.size()); Tensor sim = t.predict(x); Tensor f32 = m.predict(x);
                 QuantizedModel q = t.quantizedModel(Ops.auto()); Tensor int8 = q.predict(x)) {
                float[] s = sim.toFloatArray(), a = int8.toFloatArray(), f = f32.toFloatArray();
                double dInt8 = 0, dF32 = 0, spread = 0;
                for (int i = 0; i < s.length; i++) {
                    dInt8 += Math.abs(a[i] - s[i]);
                    dF32 += Math.abs(f[i] - s[i]);
                    spread += Math.abs(s[i]);
                }
                dInt8 /= s.length;
                dF32 /= s.length;
                spread /= s.length;
                String msg = "seed " + SEED + ", " + bits + "-bit weights: mean |int8 - simulated| " + dInt8 + ", |f32 - simulated| " + dF32 + ", mean |logit| " + spread;
                assertTrue(dF32 > 0, "training rounded something: " + msg);
                assertTrue(dInt8 < 0.005 * dF32, "the int8 model is far closer to the simulation than the float model is: " + msg);
                assertTrue(dInt8 < 1e-3 * spread, "the int8 model differs from the simulation only by float rounding and rare one-code flips: " + msg);
                assertTrue(agreement(s, a, 4) >= 0.97, "predicted classes agree: " + agreement(s, a, 4) + ", " + msg);
                assertTrue(q.summary().contains("int8"), q.summary());
                Path file = java.nio.file.Files.createTempFile("qat", ".safetensors");
                try {
                    q.save(file);
                    try (QuantizedModel back = QuantizedModel.load(file, Ops.auto()); Tensor again = back.predict(x)) {
                        assertArrayEquals(a, again.toFloatArray(), "the converted model saves and loads to the same bits");
                    }
                } finally {
                    java.nio.file.Files.deleteIfExists(file);
                }
            }
        }
    }

    private static double agreement(float[] a, float[] b, int k) {
        int same = 0, n = a.length / k;
        for (int r = 0; r < n; r++) if (argmax(a, r * k, k) == argmax(b, r * k, k)) same++;
        return (double) same / n;
    }

    private static int argmax(float[] v, int from, int k) {
        int best = 0;
        for (int j = 1; j < k; j++) if (v[from + j] > v[from + best]) best = j;
        return best;
    }

    @Test
    void resumingACheckpointRestoresTheObservedRanges(@TempDir Path dir) throws IOException {
        Dataset data = DataParallelTest.quadrants(72, SEED); // 9 batches of 8
        Path ckpt = dir.resolve("qat.safetensors");
        float[] straight;
        try (Sequential m = model(); Trainer t = options(m, 8, 2).build(); Tensor x = data.images(0, 16)) {
            t.fit(data, null);
            try (Tensor y = t.predict(x)) {
                straight = y.toFloatArray();
            }
        }
        try (Sequential m = model(); Trainer t = options(m, 8, 1).checkpoint(ckpt).build()) {
            t.fit(data, null);
        }
        try (Sequential m = model(); Trainer t = options(m, 8, 2).build(); Tensor x = data.images(0, 16)) {
            t.resume(ckpt);
            t.fit(data, null);
            try (Tensor y = t.predict(x)) {
                assertArrayEquals(straight, y.toFloatArray(), "seed " + SEED + ": ranges, parameters and optimizer state all resumed");
            }
        }
    }

    @Test
    void membersObserveLikeOneTrainerWithAsManyReplicas() throws Exception {
        int members = 2, batch = 8, total = 2 * 8 * 6;
        Dataset data = DataParallelTest.quadrants(total, SEED);
        float[] single;
        try (Sequential m = model(); Trainer t = options(m, members * batch, 1).replicas(members).build()) {
            t.fit(data, null);
            single = ranges(t);
        }
        List<float[]> group = DistributedTrainingTest.onRing(members, (rank, comm) -> {
            int[] mine = new int[total / members];
            for (int i = 0, at = 0; i < total; i++) if ((i % (members * batch)) / batch == rank) mine[at++] = i;
            try (Sequential m = model(); Trainer t = options(m, batch, 1).replicas(1).communicator(comm).build()) {
                t.fit(data.subset(mine), null);
                return ranges(t);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        assertArrayEquals(group.get(0), group.get(1), "members end with the same ranges");
        for (int i = 0; i < single.length; i++) assertEquals(single[i], group.get(0)[i], 1e-4 * (1 + Math.abs(single[i])), "seed " + SEED + ", range value " + i);
    }

    /** Every observer's {lo, hi, seen}, in plan order. */
    private static float[] ranges(Trainer t) {
        List<Float> v = new ArrayList<>();
        for (float[] s : t.quantizationState().values()) for (float f : s) v.add(f);
        float[] out = new float[v.size()];
        for (int i = 0; i < out.length; i++) out[i] = v.get(i);
        return out;
    }

    @Test
    void misuseFailsClearly() {
        try (Sequential m = model()) {
            assertThrows(IllegalArgumentException.class, () -> Trainer.builder(m).quantizationAware(6));
            try (Trainer t = Trainer.builder(m).build()) {
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.quantizedModel(Ops.auto()));
                assertTrue(e.getMessage().contains("quantizationAware"), e.getMessage());
            }
            assertEquals(List.of(3, 6, 9), java.util.Arrays.stream(QuantizedModel.plan(m).u8Outputs()).boxed().toList());
            assertEquals(List.of(4, 8, 10), java.util.Arrays.stream(QuantizedModel.plan(m).int8Layers()).boxed().toList());
        }
    }
}
