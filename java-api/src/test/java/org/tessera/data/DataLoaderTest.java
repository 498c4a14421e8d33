package org.tessera.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.tessera.train.Batch;

/** Shuffling, batching, normalization, augmentation and prefetching of the data loader. */
class DataLoaderTest {
    /** Image i is filled with the value i (so a batch reveals which examples it holds); label i % 3. */
    static Dataset numbered(int n) {
        byte[] px = new byte[n * 4];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            Arrays.fill(px, i * 4, i * 4 + 4, (byte) i);
            labels[i] = i % 3;
        }
        return Dataset.ofImages(px, n, 2, 2, 1, labels, 3);
    }

    /** The example ids of an epoch, batch by batch, checking labels and normalization on the way. */
    static List<int[]> epoch(DataLoader loader, int e, float mean, float std) {
        List<int[]> out = new ArrayList<>();
        for (Batch b : loader.epoch(e)) {
            float[] x = b.x().toFloatArray();
            int[] ids = new int[b.size()];
            for (int i = 0; i < b.size(); i++) {
                float v = x[i * 4];
                ids[i] = Math.round((v * std + mean) * 255);
                assertEquals((ids[i] / 255f - mean) / std, v, 1e-5f);
                assertEquals(ids[i] % 3, b.label(i), "label travels with its image");
            }
            out.add(ids);
        }
        return out;
    }

    @Test
    void everyExampleOncePerEpochInSeededOrder() {
        Dataset d = numbered(23).normalized(0.25f, 0.5f);
        for (boolean prefetch : new boolean[] {false, true}) {
            try (DataLoader a = new DataLoader(d, 5, true, 11, Augmentation.NONE, prefetch); DataLoader b = new DataLoader(d, 5, true, 11, Augmentation.NONE, !prefetch)) {
                assertEquals(5, a.batches());
                List<int[]> e0 = epoch(a, 0, 0.25f, 0.5f), again = epoch(b, 0, 0.25f, 0.5f), e1 = epoch(a, 1, 0.25f, 0.5f);
                assertEquals(3, e0.get(4).length, "the last batch holds the remainder");
                int[] all = e0.stream().flatMapToInt(Arrays::stream).sorted().toArray();
                int[] expected = new int[23];
                for (int i = 0; i < 23; i++) expected[i] = i;
                assertArrayEquals(expected, all);
                for (int i = 0; i < e0.size(); i++) assertArrayEquals(e0.get(i), again.get(i), "prefetching does not change batches");
                assertNotEquals(Arrays.toString(e0.get(0)) + Arrays.toString(e0.get(1)), Arrays.toString(e1.get(0)) + Arrays.toString(e1.get(1)),
                        "each epoch reshuffles");
                assertTrue(a.stallNanos() >= 0);
            }
        }
    }

    @Test
    void abandoningAnEpochThenStartingAnotherWorks() {
        Dataset d = numbered(40);
        try (DataLoader l = new DataLoader(d, 4, false, 0, Augmentation.NONE, true)) {
            var it = l.epoch(0).iterator();
            it.next();
            List<int[]> full = epoch(l, 1, 0, 1);
            assertEquals(10, full.size());
            assertArrayEquals(new int[] {0, 1, 2, 3}, full.get(0), "no shuffle: in order");
        }
    }

    @Test
    void augmentationFlipsAndShiftsWithinTheImage() {
        byte[] px = new byte[9];
        px[0] = (byte) 255; // top-left pixel only
        Dataset d = Dataset.ofImages(px, 1, 3, 3, 1, new int[] {0}, 1);
        int flipped = 0, moved = 0;
        try (DataLoader l = new DataLoader(d, 1, false, 5, new Augmentation(1, true), false)) {
            for (int e = 0; e < 40; e++) {
                for (Batch b : l.epoch(e)) {
                    float[] x = b.x().toFloatArray();
                    double sum = 0;
                    for (float v : x) sum += v;
                    assertTrue(sum == 0 || Math.abs(sum - 1) < 1e-6, "one bright pixel or none (shifted out)");
                    if (x[2] == 1f) flipped++;
                    if (x[0] != 1f) moved++;
                }
            }
        }
        assertTrue(flipped > 0 && moved > 0, "flips " + flipped + ", moves " + moved);
    }

    @Test
    void validatesItsInputs() {
        Dataset d = numbered(4);
        assertThrows(IllegalArgumentException.class, () -> new DataLoader(d, 0, false, 0, Augmentation.NONE, false));
        assertThrows(IllegalArgumentException.class, () -> Dataset.ofImages(new byte[3], 1, 2, 2, 1, new int[1], 2));
        assertThrows(IllegalArgumentException.class, () -> Dataset.ofImages(new byte[4], 1, 2, 2, 1, new int[] {5}, 2));
        assertThrows(IllegalArgumentException.class, () -> d.normalized(0, 0));
        assertThrows(IllegalArgumentException.class, () -> new Augmentation(-1, false));
        Dataset.Split s = numbered(100).split(0.2, 3);
        assertEquals(80, s.train().size());
        assertEquals(20, s.validation().size());
    }
}
