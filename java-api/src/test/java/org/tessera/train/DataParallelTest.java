package org.tessera.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tessera.Tensor;
import org.tessera.data.Dataset;
import org.tessera.nn.NonFiniteException;
import org.tessera.nn.Sequential;

/** Data-parallel equivalence, determinism, checkpoint/resume, NaN reporting and learning on a separable problem. */
class DataParallelTest {
    private static final long SEED = System.nanoTime();

    /** 8x8 one-channel images whose class (0-3) is the bright quadrant, plus noise. */
    static Dataset quadrants(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        byte[] px = new byte[n * 64];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            int c = rng.nextInt(4);
            labels[i] = c;
            for (int y = 0; y < 8; y++) {
                for (int x = 0; x < 8; x++) {
                    int q = (y / 4) * 2 + x / 4;
                    px[i * 64 + y * 8 + x] = (byte) ((q == c ? 140 : 40) + rng.nextInt(80));
                }
            }
        }
        return Dataset.ofImages(px, n, 8, 8, 1, labels, 4);
    }

    static Sequential model(long seed) {
        return Sequential.builder(8, 8, 1).seed(seed).conv2d(4, 3, 1).relu().maxPool2d(2).flatten().linear(8).relu().linear(4).build();
    }

    private static List<float[]> weights(Sequential m) {
        List<float[]> w = new ArrayList<>();
        for (Tensor t : m.parameters().values()) w.add(t.toFloatArray());
        return w;
    }

    private static List<float[]> train(int replicas, int epochs, long seed, Dataset data) throws IOException {
        try (Sequential m = model(7); Trainer t = Trainer.builder(m).replicas(replicas).batchSize(30).epochs(epochs).seed(seed)
                .optimizer(Optimizer.sgd(0.9, true, 1e-4)).schedule(Schedule.constant(0.05)).build()) {
            t.fit(data, null);
            return weights(m);
        }
    }

    @Test
    void replicasMatchOneReplicaOnTheSameGlobalBatch() throws IOException {
        Dataset data = quadrants(97, SEED); // 97: the last batch is partial and splits unevenly
        List<float[]> one = train(1, 2, SEED, data), three = train(3, 2, SEED, data), two = train(2, 2, SEED, data);
        for (int p = 0; p < one.size(); p++) {
            for (int i = 0; i < one.get(p).length; i++) {
                float a = one.get(p)[i];
                assertEquals(a, three.get(p)[i], 1e-4 + 1e-4 * Math.abs(a), "seed " + SEED + ", 3 replicas, parameter " + p + " element " + i);
                assertEquals(a, two.get(p)[i], 1e-4 + 1e-4 * Math.abs(a), "seed " + SEED + ", 2 replicas, parameter " + p + " element " + i);
            }
        }
    }

    /**
     * ReLU then max pooling trains through the fused backward (the pool's dy masked by its output, scattered into
     * the ReLU's dx); max pooling then ReLU computes the same function with the two backwards apart. Same weights
     * in, same bits out: the fusion changes no gradient. 16 channels reach the vector code.
     */
    @Test
    void fusedReluMaxPoolBackwardEqualsTheUnfusedOrder() throws IOException {
        Dataset data = quadrants(64, SEED);
        List<float[]> result = new ArrayList<>();
        for (boolean reluFirst : new boolean[] {true, false}) {
            Sequential.Builder b = Sequential.builder(8, 8, 1).seed(7).conv2d(16, 3, 1);
            b = reluFirst ? b.relu().maxPool2d(2) : b.maxPool2d(2).relu();
            try (Sequential m = b.conv2d(16, 3, 1).relu().maxPool2d(2).flatten().linear(4).build();
                 Trainer t = Trainer.builder(m).replicas(1).batchSize(32).epochs(2).seed(SEED).optimizer(Optimizer.sgd(0.9, true, 0))
                         .schedule(Schedule.constant(0.05)).build()) {
                t.fit(data, null);
                if (reluFirst) result = weights(m);
                else for (int p = 0; p < result.size(); p++) assertArrayEquals(result.get(p), weights(m).get(p), "seed " + SEED + ", parameter " + p);
            }
        }
    }

    /**
     * A convolution followed by a ReLU runs as one kernel call with the ReLU fused; a dropout with p = 0 between
     * them (an identity in training too) keeps them apart. Same initial weights (copied: initialization is seeded
     * by layer index), same bits out, with two replicas, a ReLU whose backward runs on its own (no pool after it)
     * and the evaluation pass (validation loss) included.
     */
    @Test
    void convolutionWithFusedReluTrainsLikeTheUnfusedLayers() throws IOException {
        Dataset data = quadrants(64, SEED), validation = quadrants(32, SEED + 1);
        try (Sequential fused = Sequential.builder(8, 8, 1).seed(7).conv2d(16, 3, 1).relu().conv2d(8, 3, 1).relu().flatten().linear(4).build();
             Sequential apart = Sequential.builder(8, 8, 1).seed(7).conv2d(16, 3, 1).dropout(0).relu().conv2d(8, 3, 1).relu().flatten().linear(4).build()) {
            List<Tensor> from = new ArrayList<>(fused.parameters().values()), to = new ArrayList<>(apart.parameters().values());
            for (int p = 0; p < from.size(); p++) to.get(p).copyFrom(from.get(p));
            apart.parametersChanged();
            double[] loss = new double[2];
            List<List<float[]>> result = new ArrayList<>();
            for (Sequential m : List.of(fused, apart)) {
                try (Trainer t = Trainer.builder(m).replicas(2).batchSize(32).epochs(2).seed(SEED).optimizer(Optimizer.sgd(0.9, true, 0))
                        .schedule(Schedule.constant(0.05)).build()) {
                    loss[result.size()] = t.fit(data, validation).last().valLoss();
                    result.add(weights(m));
                }
            }
            assertTrue(Double.isFinite(loss[0]), "validation loss " + loss[0]);
            assertEquals(loss[0], loss[1], "seed " + SEED);
            for (int p = 0; p < result.get(0).size(); p++) assertArrayEquals(result.get(0).get(p), result.get(1).get(p), "seed " + SEED + ", parameter " + p);
        }
    }

    @Test
    void sameSeedAndReplicasGiveTheSameBits() throws IOException {
        Dataset data = quadrants(64, SEED);
        List<float[]> a = train(2, 2, SEED, data), b = train(2, 2, SEED, data);
        for (int p = 0; p < a.size(); p++) assertArrayEquals(a.get(p), b.get(p), "seed " + SEED);
    }

    @Test
    void learnsASeparableProblem() throws IOException {
        Dataset data = quadrants(400, SEED), val = quadrants(200, SEED + 1);
        try (Sequential m = model(3); Trainer t = Trainer.builder(m).batchSize(32).epochs(6).seed(SEED).schedule(Schedule.constant(3e-3)).build()) {
            History h = t.fit(data, val);
            assertEquals(6, h.epochs().size());
            assertTrue(h.last().valAccuracy() > 0.8, "seed " + SEED + ": validation accuracy " + h.last().valAccuracy());
            assertTrue(h.last().trainLoss() < h.epochs().get(0).trainLoss(), "the loss falls");
            assertEquals(h.last().valAccuracy(), t.evaluate(val)[1], 1e-12);
        }
    }

    @Test
    void resumeFromACheckpointMatchesAnUninterruptedRun(@TempDir Path dir) throws IOException {
        Dataset data = quadrants(90, SEED);
        List<float[]> straight = train(2, 3, SEED, data);
        Path ckpt = dir.resolve("ckpt.safetensors");
        try (Sequential m = model(7); Trainer t = Trainer.builder(m).replicas(2).batchSize(30).epochs(1).seed(SEED).optimizer(Optimizer.sgd(0.9, true, 1e-4))
                .schedule(Schedule.constant(0.05)).checkpoint(ckpt).build()) {
            t.fit(data, null);
        }
        assertTrue(Files.size(ckpt) > 0);
        try (Sequential m = model(99); Trainer t = Trainer.builder(m).replicas(2).batchSize(30).epochs(3).seed(SEED).optimizer(Optimizer.sgd(0.9, true, 1e-4))
                .schedule(Schedule.constant(0.05)).build()) {
            t.resume(ckpt);
            assertEquals(3, t.steps());
            History h = t.fit(data, null);
            assertEquals(2, h.epochs().size(), "epochs 2 and 3 remain");
            List<float[]> resumed = weights(m);
            for (int p = 0; p < straight.size(); p++) assertArrayEquals(straight.get(p), resumed.get(p), "seed " + SEED + ", parameter " + p);
        }
        try (Sequential other = Sequential.builder(8, 8, 1).flatten().linear(4).build(); Trainer t = Trainer.builder(other).build()) {
            IOException e = assertThrows(IOException.class, () -> t.resume(ckpt));
            assertTrue(e.getMessage().contains("0.weight") || e.getMessage().contains("missing"), e.getMessage());
        }
    }

    @Test
    void aNonFiniteLossNamesTheStepAndTheLayer() {
        Dataset data = quadrants(32, SEED);
        try (Sequential m = model(5); Trainer t = Trainer.builder(m).batchSize(16).epochs(1).build()) {
            m.parameters().get("4.weight").copyFrom(filled((int) m.parameters().get("4.weight").numel(), Float.NaN));
            NonFiniteException e = assertThrows(NonFiniteException.class, () -> t.fit(data, null));
            assertTrue(e.getMessage().contains("step 0") && e.getMessage().contains("4 linear"), e.getMessage());
        }
    }

    @Test
    void rejectsMismatchedDataAndBadOptions() {
        try (Sequential m = model(1); Trainer t = Trainer.builder(m).build()) {
            Dataset wrong = Dataset.ofImages(new byte[4 * 16], 4, 4, 4, 1, new int[4], 4);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.fit(wrong, null));
            assertTrue(e.getMessage().contains("[4, 4, 1]"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> Trainer.builder(model(1)).batchSize(0));
        assertThrows(IllegalArgumentException.class, () -> Trainer.builder(model(1)).replicas(0));
    }

    /** The first non-finite gradient element is named, wherever it lies: in a whole vector or in the tail. */
    @Test
    void nonFiniteGradientsAreNamedByParameterAndElement() {
        for (int at : new int[] {0, 37, 98}) {
            for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
                float[] g = new float[99];
                g[at] = bad;
                if (at < 98) g[98] = Float.NaN; // a later one must not be the one reported
                try (Tensor w = Tensor.of(new float[99], 99); Tensor gt = Tensor.of(g, 99); Tensor ok = Tensor.of(new float[] {1, 2}, 2)) {
                    List<Param> ps = List.of(new Param("fine", ok, ok, true), new Param("w", w, gt, true));
                    NonFiniteException e = assertThrows(NonFiniteException.class, () -> Trainer.checkGradients(ps, 7));
                    assertTrue(e.getMessage().contains("step 7") && e.getMessage().contains("parameter w") && e.getMessage().contains("element " + at + "")
                            && e.getMessage().contains(Float.toString(bad)), e.getMessage());
                }
            }
        }
        try (Tensor w = Tensor.of(new float[33], 33); Tensor g = Tensor.of(new float[33], 33)) {
            Trainer.checkGradients(List.of(new Param("w", w, g, true)), 0); // all finite: no exception
        }
    }

    @Test
    void clippingBoundsTheGlobalNorm() {
        try (Tensor w = Tensor.of(new float[] {0, 0}, 2); Tensor g = Tensor.of(new float[] {3, 4}, 2)) {
            List<Param> ps = List.of(new Param("w", w, g, true));
            assertEquals(5.0, Trainer.clip(ps, 1.0), 1e-12);
            float[] c = g.toFloatArray();
            assertEquals(0.6f, c[0], 1e-6f);
            assertEquals(0.8f, c[1], 1e-6f);
            assertEquals(1.0, Trainer.clip(ps, 2.0), 1e-6, "under the bound: unchanged");
        }
    }

    private static float[] filled(int n, float v) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, v);
        return a;
    }
}
