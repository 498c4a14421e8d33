package org.tessera.prune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.tessera.testing.SeededRandom;

/** Magnitude pruning reaches exact sparsities and removes the smallest; schedules; masks survive optimizer steps. */
@ExtendWith(SeededRandom.class)
class PruningTest {
    @Test
    void unstructuredPrunesExactlyTheSmallest(SplittableRandom rnd) {
        int rows = 13, cols = 17;
        float[] w = random(rnd, rows * cols);
        for (double s : new double[] {0, 0.5, 0.9, 0.99, 1}) {
            PruningMask mask = MagnitudePruning.unstructured(w, rows, cols, s);
            int pruned = (int) Math.round(s * rows * cols);
            assertEquals(rows * cols - pruned, mask.kept(), "sparsity " + s);
            float maxPruned = 0, minKept = Float.MAX_VALUE;
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    float a = Math.abs(w[i * cols + j]);
                    if (mask.keeps(i, j)) minKept = Math.min(minKept, a);
                    else maxPruned = Math.max(maxPruned, a);
                }
            }
            assertTrue(maxPruned <= minKept, "a kept weight is smaller than a pruned one at sparsity " + s);
        }
    }

    @Test
    void blocksChannelsAndNofMFollowTheirStructure(SplittableRandom rnd) {
        int rows = 10, cols = 12; // 10 rows: the last 4x1 block row is partial
        float[] w = random(rnd, rows * cols);
        PruningMask blocks = MagnitudePruning.blocks(w, rows, cols, 4, 1, 0.5);
        for (int b = 0; b < rows; b += 4) {
            for (int j = 0; j < cols; j++) {
                for (int i = b; i < Math.min(rows, b + 4); i++) assertEquals(blocks.keeps(b, j), blocks.keeps(i, j), "block (" + b + ", " + j + ") split");
            }
        }
        int blockCount = 3 * cols, keptBlocks = 0;
        for (int b = 0; b < rows; b += 4) for (int j = 0; j < cols; j++) if (blocks.keeps(b, j)) keptBlocks++;
        assertEquals(blockCount - Math.round(0.5 * blockCount), keptBlocks);

        PruningMask channels = MagnitudePruning.channels(w, rows, cols, 0.3);
        int keptRows = 0;
        for (int i = 0; i < rows; i++) {
            boolean k0 = channels.keeps(i, 0);
            for (int j = 1; j < cols; j++) assertEquals(k0, channels.keeps(i, j));
            if (k0) keptRows++;
        }
        assertEquals(7, keptRows);

        PruningMask nm = MagnitudePruning.nOfM(w, rows, cols, 2, 4);
        assertEquals(0.5, nm.sparsity(), 1e-12);
        for (int i = 0; i < rows; i++) {
            for (int g = 0; g < cols; g += 4) {
                float minKept = Float.MAX_VALUE, maxPruned = 0;
                int kept = 0;
                for (int t = 0; t < 4; t++) {
                    float a = Math.abs(w[i * cols + g + t]);
                    if (nm.keeps(i, g + t)) {
                        kept++;
                        minKept = Math.min(minKept, a);
                    } else maxPruned = Math.max(maxPruned, a);
                }
                assertEquals(2, kept);
                assertTrue(maxPruned <= minKept);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> MagnitudePruning.nOfM(w, rows, cols, 2, 5));
        assertThrows(IllegalArgumentException.class, () -> MagnitudePruning.unstructured(w, rows, cols, 1.5));
    }

    @Test
    void withoutColumnsPrunesThoseColumnsInEveryRowAndAndCombines() {
        java.util.BitSet drop = new java.util.BitSet();
        drop.set(1);
        drop.set(3);
        PruningMask m = PruningMask.withoutColumns(2, 4, drop);
        assertEquals(4, m.kept());
        for (int i = 0; i < 2; i++) for (int j = 0; j < 4; j++) assertEquals(j != 1 && j != 3, m.keeps(i, j), i + "," + j);
        java.util.BitSet first = new java.util.BitSet();
        first.set(0);
        assertEquals(2, m.and(PruningMask.withoutColumns(2, 4, first)).kept(), "columns 0, 1, 3 gone");
        drop.set(4);
        assertThrows(IllegalArgumentException.class, () -> PruningMask.withoutColumns(2, 4, drop), "column 4 of 4");
        assertThrows(IllegalArgumentException.class, () -> PruningMask.withoutColumns(-1, 4, first), "negative rows");
    }

    @Test
    void globalUsesOneThresholdAcrossLayers(SplittableRandom rnd) {
        float[] small = random(rnd, 50), big = random(rnd, 60);
        for (int i = 0; i < big.length; i++) big[i] *= 100;
        List<PruningMask> masks = MagnitudePruning.global(List.of(small, big), List.of(new int[] {5, 10}, new int[] {6, 10}), 0.4);
        assertEquals(110 - 44, masks.get(0).kept() + masks.get(1).kept());
        assertTrue(masks.get(0).sparsity() > masks.get(1).sparsity(), "the layer of small weights loses more");
    }

    @Test
    void polynomialScheduleMatchesZhuAndGupta() {
        PolynomialSchedule s = PolynomialSchedule.cubic(0.1, 0.9, 100, 1100, 100);
        assertEquals(0.1, s.sparsityAt(0), 0);
        assertEquals(0.1, s.sparsityAt(100), 0);
        assertEquals(0.9 + (0.1 - 0.9) * Math.pow(0.5, 3), s.sparsityAt(600), 1e-12);
        assertEquals(0.9, s.sparsityAt(1100), 0);
        assertEquals(0.9, s.sparsityAt(5000), 0);
        assertTrue(s.isUpdateStep(100) && s.isUpdateStep(200) && s.isUpdateStep(1100));
        assertFalse(s.isUpdateStep(150) || s.isUpdateStep(50) || s.isUpdateStep(1200));
        double prev = 0;
        for (long t = 0; t <= 1200; t += 10) {
            assertTrue(s.sparsityAt(t) >= prev, "monotone");
            prev = s.sparsityAt(t);
        }
        assertThrows(IllegalArgumentException.class, () -> PolynomialSchedule.cubic(0.5, 0.4, 0, 10, 1));
        assertThrows(IllegalArgumentException.class, () -> PolynomialSchedule.cubic(0, 0.5, 10, 10, 1));
    }

    /** Simulated fine-tuning: random gradient steps never revive a pruned weight; the final sparsity is the target. */
    @Test
    void masksSurviveOptimizerSteps(SplittableRandom rnd) {
        int rows = 16, cols = 20;
        float[] w1 = random(rnd, rows * cols), w2 = random(rnd, rows * cols);
        GradualPruner pruner = new GradualPruner(PolynomialSchedule.cubic(0, 0.75, 0, 40, 10))
                .layer("fc1", w1, rows, cols, GradualPruner.Structure.UNSTRUCTURED)
                .layer("fc2", w2, rows, cols, GradualPruner.Structure.BLOCK_4X1);
        for (long step = 0; step <= 60; step++) {
            for (float[] w : List.of(w1, w2)) for (int i = 0; i < w.length; i++) w[i] -= 0.01f * (float) (rnd.nextDouble() * 2 - 1);
            pruner.afterStep(step);
            for (String name : pruner.layerNames()) {
                PruningMask m = pruner.mask(name);
                float[] w = name.equals("fc1") ? w1 : w2;
                for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) if (!m.keeps(i, j)) assertEquals(0f, w[i * cols + j], name + " revived at step " + step);
            }
        }
        assertEquals(0.75, pruner.mask("fc1").sparsity(), 1e-12);
        assertEquals(0.75, pruner.mask("fc2").sparsity(), 1e-12);
        SparsityReport r = pruner.report();
        assertEquals(0.75, r.sparsity(), 1e-12);
        assertTrue(r.toString().contains("| fc2 | 16x20 | 80 | 75.0% |"), r.toString());
    }

    private static float[] random(SplittableRandom rnd, int size) {
        float[] a = new float[size];
        for (int i = 0; i < size; i++) a[i] = (float) (rnd.nextDouble() * 2 - 1);
        return a;
    }
}
