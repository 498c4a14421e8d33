package org.tessera.bench.fashion;

import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import org.tessera.Tensor;

/**
 * Batch-1 latency (median of many single-image runs) and batch-256 throughput (images over a timed window),
 * each the median over rounds in which the variants take turns, after a timed warm-up. On this 2-core machine
 * the JIT compiler's thread still compiles for seconds after a model's first calls and takes a core from the
 * measurement (seen with jstack: ~0.3 s of C2 time per second during the timing phase); the warm-up gives it
 * time to finish, and the medians keep a late compile burst, or a slow spell of the VM, from setting a number.
 * (One 500-call median read 0.093 ms where the runs before read 0.075 on the same code.)
 */
final class Timing {
    private Timing() {}

    /**
     * {latency ms, images/s} of each of {@code predicts}, measured in turns: after a warm-up of each, every round
     * times one latency window ({@code runs} single-image calls, its median) and one throughput window
     * ({@code seconds} of batch calls) of every variant in order; each figure is the median over the rounds.
     * A slow spell of the machine then costs every variant a round instead of one variant all of its windows.
     */
    static double[][] inTurns(List<Function<Tensor, Tensor>> predicts, Tensor one, Tensor batch, double warmupSeconds, int rounds, int runs,
                              double seconds) {
        int n = predicts.size();
        for (Function<Tensor, Tensor> p : predicts) {
            warmUp(p, one, warmupSeconds / 2);
            warmUp(p, batch, warmupSeconds / 2);
        }
        double[][] latency = new double[n][rounds], rate = new double[n][rounds];
        double[] ms = new double[runs];
        for (int round = 0; round < rounds; round++) {
            for (int v = 0; v < n; v++) {
                Function<Tensor, Tensor> predict = predicts.get(v);
                for (int i = 0; i < runs; i++) {
                    long t0 = System.nanoTime();
                    Tensor y = predict.apply(one);
                    ms[i] = (System.nanoTime() - t0) / 1e6;
                    y.close();
                }
                Arrays.sort(ms);
                latency[v][round] = ms[runs / 2];
                long t0 = System.nanoTime(), images = 0;
                do {
                    predict.apply(batch).close();
                    images += batch.dim(0);
                } while (System.nanoTime() - t0 < seconds * 1e9);
                rate[v][round] = images / ((System.nanoTime() - t0) / 1e9);
            }
        }
        double[][] out = new double[n][];
        for (int v = 0; v < n; v++) {
            Arrays.sort(latency[v]);
            Arrays.sort(rate[v]);
            out[v] = new double[] {latency[v][rounds / 2], rate[v][rounds / 2]};
        }
        return out;
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
