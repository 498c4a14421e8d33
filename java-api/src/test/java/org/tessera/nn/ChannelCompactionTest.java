package org.tessera.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.tessera.Ops;
import org.tessera.Tensor;
import org.tessera.testing.KernelAssertions;
import org.tessera.testing.SeededRandom;
import org.tessera.testing.TestData;

/** Dead channels (pruned filters) leave the compiled model; predictions stay those of the full model. */
@ExtendWith(SeededRandom.class)
class ChannelCompactionTest {
    static Sequential cnn(long seed, boolean batchNorm) {
        Sequential.Builder b = Sequential.builder(9, 7, 3).seed(seed).conv2d(8, 3, 1);
        if (batchNorm) b.batchNorm();
        return b.relu().maxPool2d(2).conv2d(6, 3, 1).relu().dropout(0.2).flatten().linear(5).relu().linear(3).build();
    }

    /** Zeroes the weights and bias of the given output channels of layer {@code i}. */
    static void kill(Sequential m, int i, int... channels) {
        WeightedLayer l = (WeightedLayer) m.layers().get(i);
        float[] w = l.weight().toFloatArray(), b = l.bias().toFloatArray();
        int row = w.length / l.outputs();
        for (int c : channels) {
            java.util.Arrays.fill(w, c * row, (c + 1) * row, 0f);
            b[c] = 0f;
        }
        l.weight().copyFrom(w);
        l.bias().copyFrom(b);
        m.parametersChanged();
    }

    /** {@code m}'s predictions against the double reference of {@code full} (the model before compaction). */
    static void assertMatchesReference(String what, Sequential m, Sequential full, SplittableRandom rnd) {
        for (int n : new int[] {1, 5}) {
            float[] x = TestData.floats(rnd, n * 9 * 7 * 3);
            try (Tensor t = Tensor.of(x, n, 9, 7, 3); Tensor y = m.predict(t)) {
                KernelAssertions.assertClose(what + " n=" + n, SequentialTest.reference(full, x, n), y.toFloatArray(), 1e-5);
            }
        }
    }

    @Test
    void deadFiltersAndNeuronsAreRemovedWithTheirReaders(SplittableRandom rnd) {
        try (Sequential m = cnn(rnd.nextLong(), false)) {
            kill(m, 0, 1, 4, 7); // conv -> relu -> pool -> conv
            kill(m, 3, 2); // conv -> relu -> dropout -> flatten -> linear: 4 x 3 columns each
            kill(m, 7, 0); // linear -> relu -> linear
            try (Sequential c = Pruning.removeDeadChannels(m)) {
                assertEquals(5, ((Conv2d) c.layers().get(0)).outChannels());
                assertEquals(5, ((Conv2d) c.layers().get(3)).inChannels());
                assertEquals(5, ((Conv2d) c.layers().get(3)).outChannels());
                assertEquals(5 * 4 * 3, ((Linear) c.layers().get(7)).inFeatures());
                assertEquals(4, ((Linear) c.layers().get(7)).outFeatures());
                assertEquals(4, ((Linear) c.layers().get(9)).inFeatures());
                assertArrayEquals(m.outputShape(), c.outputShape());
                assertTrue(c.parameterCount() < m.parameterCount());
                assertMatchesReference("compacted copy", c, m, rnd);
            }
            assertMatchesReference("predict (compiled compacted)", m, m, rnd);
            String labels = m.plan(Ops.auto()).steps().toString();
            assertTrue(m.plan(Ops.auto()).steps().get(0).outShape()[2] == 5, labels);
        }
    }

    @Test
    void aBatchNormAfterTheFilterDecidesWhetherItIsDead(SplittableRandom rnd) {
        try (Sequential m = cnn(rnd.nextLong(), true)) {
            BatchNorm bn = (BatchNorm) m.layers().get(1);
            float[] mean = TestData.floats(rnd, 8), beta = bn.parameters().get("bias").toFloatArray();
            mean[2] = 0f; // channel 2: folded bias s (0 - 0) + beta = beta; zero it so the channel is dead
            beta[2] = 0f;
            bn.parameters().get("running_mean").copyFrom(mean);
            bn.parameters().get("bias").copyFrom(beta);
            kill(m, 0, 2, 5); // channel 5's BatchNorm shift is not zero: it stays
            try (Sequential c = Pruning.removeDeadChannels(m)) {
                assertEquals(7, ((Conv2d) c.layers().get(0)).outChannels());
                assertEquals(7, ((BatchNorm) c.layers().get(1)).parameters().get("weight").numel());
                assertMatchesReference("with BatchNorm", c, m, rnd);
            }
            assertMatchesReference("predict with BatchNorm", m, m, rnd);
        }
    }

    @Test
    void nothingIsRemovedWhereTheZeroDoesNotSurvive(SplittableRandom rnd) {
        try (Sequential m = Sequential.builder(6, 6, 2).seed(rnd.nextLong()).conv2d(4, 3, 1).sigmoid().conv2d(3, 3, 1).flatten().linear(2).build()) {
            kill(m, 0, 0, 1); // sigmoid(0) = 0.5: the channel is not zero
            kill(m, 4, 0, 1); // the last layer's outputs are the model's
            assertSame(m, ChannelCompaction.of(m));
        }
    }

    @Test
    void aLayerWithEveryFilterDeadKeepsOne(SplittableRandom rnd) {
        try (Sequential m = cnn(rnd.nextLong(), false)) {
            kill(m, 0, 0, 1, 2, 3, 4, 5, 6, 7);
            try (Sequential c = Pruning.removeDeadChannels(m)) {
                assertEquals(1, ((Conv2d) c.layers().get(0)).outChannels());
            }
            assertMatchesReference("every filter dead", m, m, rnd);
        }
    }

    @Test
    void filterPruningZeroesExactlyTheNextLayersInputsForThemAndKeepsTheOutputs(SplittableRandom rnd) {
        long seed = rnd.nextLong();
        try (Sequential m = cnn(seed, false); Sequential killed = cnn(seed, false)) {
            float[] conv2 = ((WeightedLayer) m.layers().get(3)).weight().toFloatArray(), linear = ((WeightedLayer) m.layers().get(7)).weight().toFloatArray();
            var masks = Pruning.pruneFilters(m, 0.5);
            BitSet dead0 = deadRows(masks.get("0.bias")), dead3 = deadRows(masks.get("3.bias"));
            assertEquals(4, dead0.cardinality());
            // conv2 (6, 8 in, 3x3) loses the 4 dead inputs' 9 weights in every filter; the linear layer (5, 6 channels
            // x 4x3 positions, channel-major columns) the 12 columns of each dead channel
            assertInputsZeroed("conv2", conv2, ((WeightedLayer) m.layers().get(3)).weight().toFloatArray(), 6, 8, 9, dead0, dead3);
            assertInputsZeroed("linear", linear, ((WeightedLayer) m.layers().get(7)).weight().toFloatArray(), 5, 6, 12, dead3, new BitSet());
            assertEquals(5 * 3 * 12, masks.get("7.weight").kept());
            kill(killed, 0, dead0.stream().toArray());
            kill(killed, 3, dead3.stream().toArray());
            float[] x = TestData.floats(rnd, 3 * 9 * 7 * 3);
            assertArrayEquals(SequentialTest.reference(killed, x, 3), SequentialTest.reference(m, x, 3), "the zeroed inputs multiplied zeros");
        }
    }

    private static BitSet deadRows(org.tessera.prune.PruningMask rowMask) {
        BitSet dead = new BitSet();
        for (int r = 0; r < rowMask.rows(); r++) if (!rowMask.keeps(r, 0)) dead.set(r);
        return dead;
    }

    /** {@code after} is {@code before} with the inputs of {@code deadInputs} zeroed, and the rows of {@code deadRows}. */
    private static void assertInputsZeroed(String what, float[] before, float[] after, int rows, int channels, int tap, BitSet deadInputs, BitSet deadRows) {
        for (int o = 0; o < rows; o++) {
            for (int c = 0; c < channels; c++) {
                for (int t = 0; t < tap; t++) {
                    int q = (o * channels + c) * tap + t;
                    float expected = deadInputs.get(c) || deadRows.get(o) ? 0f : before[q];
                    assertEquals(expected, after[q], what + " weight (" + o + ", " + c + ", " + t + ")");
                }
            }
        }
    }

    @Test
    void dropInputsKeepsTheOtherChannelsInOrder() {
        float[] w = new float[2 * 3 * 2]; // (out 2, channels 3, tap 2)
        for (int i = 0; i < w.length; i++) w[i] = i;
        BitSet drop = new BitSet();
        drop.set(1);
        assertArrayEquals(new float[] {0, 1, 4, 5, 6, 7, 10, 11}, ChannelCompaction.dropInputs(w, 2, 3, 2, drop));
        assertArrayEquals(new float[] {0, 1, 2, 3, 8, 9, 10, 11}, ChannelCompaction.dropRows(w, 3, drop));
    }

    @Test
    void filterPruningMakesTheInt8ModelSmallerAndItSavesAndLoadsToTheBit(SplittableRandom rnd, @TempDir Path dir) throws Exception {
        try (Sequential m = cnn(rnd.nextLong(), false)) {
            assertThrows(IllegalArgumentException.class, () -> Pruning.pruneFilters(m, 0.5, 7), "layer 7 is a linear layer");
            assertEquals(java.util.Set.of("3.weight", "3.bias", "7.weight"), Pruning.pruneFilters(m, 0.5, 3).keySet(), "one layer and its reader on request");
            var masks = Pruning.pruneFilters(m, 0.5);
            assertEquals(5, masks.size(), "both convolutions (weight and bias) and the linear layer reading the second");
            assertEquals(4, masks.get("0.weight").rows() - masks.get("0.bias").kept());
            assertEquals(3, masks.get("3.weight").rows() - masks.get("3.bias").kept());
            float[] x = TestData.floats(rnd, 64 * 9 * 7 * 3);
            try (Tensor t = Tensor.of(x, 64, 9, 7, 3)) {
                QuantizedModel.Builder b = QuantizedModel.builder(m).calibrate(t);
                Path file = dir.resolve("q.safetensors");
                try (QuantizedModel q = b.build(Ops.auto()); Tensor ref = m.predict(t); Tensor y = q.predict(t)) {
                    assertTrue(q.summary().contains("[4, 3, 4]") && q.summary().contains("[4, 3, 3]"), q.summary());
                    KernelAssertions.assertClose("int8 vs f32", ref.toFloatArray(), y.toFloatArray(), 0.05);
                    q.save(file);
                    try (QuantizedModel back = QuantizedModel.load(file, Ops.auto()); Tensor z = back.predict(t)) {
                        assertArrayEquals(y.toFloatArray(), z.toFloatArray());
                    }
                }
                assertTrue(Files.size(file) > 0);
            }
        }
    }
}
