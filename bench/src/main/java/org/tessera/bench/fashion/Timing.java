package org.tessera.bench.fashion;

import java.util.Arrays;
import java.util.function.Function;
import org.tessera.Tensor;

/**
 * Batch-1 latency (median of many single-image runs) and batch-256 throughput (median of several timed
 * windows), each after a timed warm-up. On this 2-core machine the JIT compiler's thread still compiles
 * for seconds after a model's first calls and takes a core from the measurement (seen with jstack: ~0.3 s
 * of C2 time per second during the timing phase); the warm-up gives it time to finish and the medians keep
 * a late compile burst from setting the number.
 */
final class Timing {
    private Timing() {}

    /**
     * Milliseconds of {@code predict} on one image, after {@code warmupSeconds} of calls: the median over
     * {@code windows} windows of {@code runs} calls of each window's median. One window lasts only tens of
     * milliseconds at this scale, so a compile burst can hold a whole window (a single 500-call median read
     * 0.093 ms where the runs before read 0.075 on the same code); the median of windows outvotes it.
     */
    static double latencyMs(Function<Tensor, Tensor> predict, Tensor one, double warmupSeconds, int windows, int runs) {
        warmUp(predict, one, warmupSeconds);
        double[] medians = new double[windows], ms = new double[runs];
        for (int w = 0; w < windows; w++) {
            for (int i = 0; i < runs; i++) {
                long t0 = System.nanoTime();
                Tensor y = predict.apply(one);
                ms[i] = (System.nanoTime() - t0) / 1e6;
                y.close();
            }
            Arrays.sort(ms);
            medians[w] = ms[runs / 2];
        }
        Arrays.sort(medians);
        return medians[windows / 2];
    }

    /** Images per second of {@code predict} on {@code batch}: the median of {@code windows} windows of {@code seconds}. */
    static double throughput(Function<Tensor, Tensor> predict, Tensor batch, double warmupSeconds, int windows, double seconds) {
        warmUp(predict, batch, warmupSeconds);
        double[] rates = new double[windows];
        for (int w = 0; w < windows; w++) {
            long t0 = System.nanoTime(), images = 0;
            do {
                predict.apply(batch).close();
                images += batch.dim(0);
            } while (System.nanoTime() - t0 < seconds * 1e9);
            rates[w] = images / ((System.nanoTime() - t0) / 1e9);
        }
        Arrays.sort(rates);
        return rates[windows / 2];
    }

    private static void warmUp(Function<Tensor, Tensor> predict, Tensor x, double seconds) {
        long t0 = System.nanoTime();
        int calls = 0;
        while (calls < 2 || System.nanoTime() - t0 < seconds * 1e9) {
            predict.apply(x).close();
            calls++;
        }
    }
}
