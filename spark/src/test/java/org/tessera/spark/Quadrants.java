package org.tessera.spark;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.tessera.Tensor;
import org.tessera.data.Dataset;
import org.tessera.nn.Sequential;

/** Test data and models: 8x8 one-channel images whose class (0-3) is the bright quadrant, plus noise. */
final class Quadrants {
    private Quadrants() {}

    static byte[][] images(int n, long seed, int[] labelsOut) {
        SplittableRandom rng = new SplittableRandom(seed);
        byte[][] px = new byte[n][64];
        for (int i = 0; i < n; i++) {
            int c = rng.nextInt(4);
            labelsOut[i] = c;
            for (int y = 0; y < 8; y++) {
                for (int x = 0; x < 8; x++) px[i][y * 8 + x] = (byte) ((((y / 4) * 2 + x / 4) == c ? 140 : 40) + rng.nextInt(80));
            }
        }
        return px;
    }

    static Dataset dataset(byte[][] images, int[] labels) {
        byte[] flat = new byte[images.length * 64];
        for (int i = 0; i < images.length; i++) System.arraycopy(images[i], 0, flat, i * 64, 64);
        return Dataset.ofImages(flat, images.length, 8, 8, 1, labels, 4);
    }

    /**
     * The examples laid out so that partition r of {@code members} equal slices holds what replica r of one trainer
     * with batch {@code members * batch} would get: its shard of every global batch, in order.
     */
    static List<Example> partitionedLikeReplicas(byte[][] images, int[] labels, int members, int batch) {
        List<Example> out = new ArrayList<>();
        for (int r = 0; r < members; r++) {
            for (int from = 0; from < images.length; from += members * batch) {
                int n = Math.min(members * batch, images.length - from);
                for (int i = n * r / members; i < n * (r + 1) / members; i++) out.add(new Example(images[from + i], labels[from + i]));
            }
        }
        return out;
    }

    /** Batch norm included: its running statistics must be summed over the workers too. No dropout: results are exact. */
    static Sequential model() {
        return Sequential.builder(8, 8, 1).seed(11).conv2d(4, 3, 1).batchNorm().relu().maxPool2d(2).flatten().linear(8).relu().linear(4).build();
    }

    static List<float[]> weights(Sequential m) {
        List<float[]> w = new ArrayList<>();
        for (Tensor t : m.parameters().values()) w.add(t.toFloatArray());
        return w;
    }
}
