package org.tessera.bench.fashion;

import java.util.Arrays;
import java.util.function.Function;
import org.tessera.Tensor;

/** Batch-1 latency (median of many single-image runs) and batch-256 throughput, each after a warm-up. */
final class Timing {
    private Timing() {}

    /** Median milliseconds of {@code predict} on one image, after {@code warmup} calls. */
    static double latencyMs(Function<Tensor, Tensor> predict, Tensor one, int warmup, int runs) {
        for (int i = 0; i < warmup; i++) predict.apply(one).close();
        double[] ms = new double[runs];
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            Tensor y = predict.apply(one);
            ms[i] = (System.nanoTime() - t0) / 1e6;
            y.close();
        }
        Arrays.sort(ms);
        return ms[runs / 2];
    }

    /** Images per second of {@code predict} on {@code batch}, running for at least {@code seconds}. */
    static double throughput(Function<Tensor, Tensor> predict, Tensor batch, double seconds) {
        for (int i = 0; i < 2; i++) predict.apply(batch).close();
        long t0 = System.nanoTime(), images = 0;
        do {
            predict.apply(batch).close();
            images += batch.dim(0);
        } while (System.nanoTime() - t0 < seconds * 1e9);
        return images / ((System.nanoTime() - t0) / 1e9);
    }
}
