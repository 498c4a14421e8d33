package org.tessera.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.tessera.data.Dataset;
import org.tessera.nn.Sequential;

/**
 * Early stopping on a validation split: a model memorizing noise (random labels in both splits) sees its
 * validation loss rise; training must stop {@code patience} epochs after the best one and restore that
 * epoch's parameters.
 */
class EarlyStoppingTest {
    private static final long SEED = Long.getLong("seed", System.nanoTime());

    /** n 8x8 noise images with labels unrelated to them. */
    private static Dataset noise(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        byte[] px = new byte[n * 64];
        int[] labels = new int[n];
        rng.nextBytes(px);
        for (int i = 0; i < n; i++) labels[i] = rng.nextInt(4);
        return Dataset.ofImages(px, n, 8, 8, 1, labels, 4);
    }

    @Test
    void stopsPatienceEpochsAfterTheBestAndRestoresIt() throws IOException {
        Dataset train = noise(96, SEED), val = noise(96, SEED + 1);
        int patience = 2, max = 80;
        try (Sequential m = Sequential.builder(8, 8, 1).seed(SEED).flatten().linear(64).relu().linear(4).build();
             Trainer t = Trainer.builder(m).batchSize(32).epochs(max).seed(SEED).optimizer(Optimizer.adam(0))
                     .schedule(Schedule.constant(1e-2)).earlyStopping(patience).build()) {
            History h = t.fit(train, val);
            List<EpochStats> e = h.epochs();
            String why = "seed " + SEED + ": " + e.stream().map(s -> String.format("%.4f", s.valLoss())).toList();
            assertTrue(h.stoppedEarly(), why);
            assertTrue(e.size() < max, why);
            int best = 0;
            for (int i = 1; i < e.size(); i++) if (e.get(i).valLoss() < e.get(best).valLoss()) best = i;
            assertEquals(best, h.bestEpoch(), why);
            assertEquals(best + 1 + patience, e.size(), "stops after exactly `patience` epochs without a lower loss; " + why);
            assertTrue(e.getLast().valLoss() > e.get(best).valLoss(), why);
            // the restored parameters are the best epoch's: the validation loss is that epoch's again, to the bit
            assertEquals(e.get(best).valLoss(), t.evaluate(val)[0], 0.0, why);
        }
    }

    @Test
    void withoutEarlyStoppingEveryEpochRuns() throws IOException {
        Dataset train = noise(64, SEED), val = noise(64, SEED + 1);
        try (Sequential m = Sequential.builder(8, 8, 1).seed(SEED).flatten().linear(4).build();
             Trainer t = Trainer.builder(m).batchSize(32).epochs(5).seed(SEED).build()) {
            History h = t.fit(train, val);
            assertEquals(5, h.epochs().size());
            assertFalse(h.stoppedEarly());
        }
    }

    @Test
    void badSettingsAreClearErrors() {
        try (Sequential m = Sequential.builder(8, 8, 1).flatten().linear(4).build()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Trainer.builder(m).earlyStopping(0));
            assertTrue(e.getMessage().contains("patience"), e.getMessage());
            try (Trainer t = Trainer.builder(m).earlyStopping(3).build()) {
                e = assertThrows(IllegalArgumentException.class, () -> t.fit(noise(8, SEED), null));
                assertTrue(e.getMessage().contains("validation"), e.getMessage());
            }
        }
    }
}
