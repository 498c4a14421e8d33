package org.tessera.train;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import org.tessera.dist.Communicator;

/**
 * What the members of a distributed data-parallel group sum every step, packed into one array so the step costs
 * one all-reduce: every parameter's gradient, the batch statistics of every BatchNorm layer and fake-quantization observer, the loss and the count
 * of correct predictions. The local shards are summed first, in shard order (as a single-machine step does);
 * the communicator then sums the members in its fixed order, so every member ends the step with the same bits.
 */
final class GradientExchange {
    private final Communicator comm;
    private final float[] flat;
    private final List<Integer> statLayers = new ArrayList<>();
    private final double[][] stats;
    private long nanos, calls;

    GradientExchange(Communicator comm, Replica first) {
        this.comm = comm;
        long len = 2;
        for (Param p : first.params()) len += p.grad().numel();
        List<Backprop> layers = first.layers();
        for (int i = 0; i < layers.size(); i++) {
            if (layers.get(i) instanceof RunningStatistics s) {
                statLayers.add(i);
                len += s.statsWidth();
            }
        }
        if (len > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("distributed training: " + len + " values per step do not fit one Java array");
        this.flat = new float[(int) len];
        this.stats = new double[statLayers.size()][];
        for (int b = 0; b < stats.length; b++) stats[b] = new double[((RunningStatistics) layers.get(statLayers.get(b))).statsWidth()];
    }

    /**
     * Sums the first {@code shards} replicas' gradients, batch statistics, losses and correct counts over this
     * member and then over the group; leaves the gradients in replica 0's, moves replica 0's running statistics, and returns the group's {summed loss, correct predictions}.
     */
    double[] exchange(Replica[] replicas, int shards, double[] shardLoss, int[] shardCorrect) {
        int at = 0;
        List<Param> params = replicas[0].params();
        for (int p = 0; p < params.size(); p++) {
            MemorySegment g = params.get(p).grad().segment();
            int n = (int) (g.byteSize() / 4);
            MemorySegment.copy(g, ValueLayout.JAVA_FLOAT, 0, flat, at, n);
            for (int r = 1; r < shards; r++) {
                MemorySegment add = replicas[r].params().get(p).grad().segment();
                for (int i = 0; i < n; i++) flat[at + i] += add.getAtIndex(ValueLayout.JAVA_FLOAT, i);
            }
            at += n;
        }
        int statsAt = at;
        for (int b = 0; b < stats.length; b++) {
            java.util.Arrays.fill(stats[b], 0);
            for (int r = 0; r < shards; r++) ((RunningStatistics) replicas[r].layers().get(statLayers.get(b))).addBatchStats(stats[b]);
            for (double v : stats[b]) flat[at++] = (float) v;
        }
        double loss = 0, correct = 0;
        for (int r = 0; r < shards; r++) {
            loss += shardLoss[r];
            correct += shardCorrect[r];
        }
        flat[at] = (float) loss;
        flat[at + 1] = (float) correct;

        long t0 = System.nanoTime();
        comm.allReduceSum(flat);
        nanos += System.nanoTime() - t0;
        calls++;

        at = 0;
        for (Param p : params) {
            MemorySegment g = p.grad().segment();
            int n = (int) (g.byteSize() / 4);
            MemorySegment.copy(flat, at, g, ValueLayout.JAVA_FLOAT, 0, n);
            at += n;
        }
        at = statsAt;
        for (int b = 0; b < stats.length; b++) {
            for (int i = 0; i < stats[b].length; i++) stats[b][i] = flat[at++];
            ((RunningStatistics) replicas[0].layers().get(statLayers.get(b))).updateRunning(stats[b]);
        }
        return new double[] {flat[at], flat[at + 1]};
    }

    /** Floats all-reduced per step. */
    int length() {
        return flat.length;
    }

    /** Seconds spent in the all-reduce, over every step so far. */
    double seconds() {
        return nanos / 1e9;
    }

    /** All-reduces so far. */
    long calls() {
        return calls;
    }
}
