package org.tessera.bench.fashion;

import java.util.Map;
import org.tessera.Tensor;
import org.tessera.nn.Sequential;
import org.tessera.nn.WeightedLayer;
import org.tessera.prune.PruningMask;
import org.tessera.prune.SparsityReport;
import org.tessera.nn.Pruning;

/**
 * The job's models and their size accounting. The teacher is the classic small Fashion-MNIST CNN (two 3x3
 * convolutions with max pooling, a 128-unit hidden layer with dropout); the student keeps the shape at a
 * fifth of the parameters. No BatchNorm: on this 2-core machine its extra passes over the activations cost
 * more time per epoch than the faster convergence gains (measured; bench/RESULTS.md, "Training").
 */
final class Models {
    private Models() {}

    static Sequential teacher(long seed) {
        return Sequential.builder(28, 28, 1).seed(seed).conv2d(32, 3, 1).relu().maxPool2d(2).conv2d(64, 3, 1).relu().maxPool2d(2).flatten()
                .linear(128).relu().dropout(0.3).linear(10).build();
    }

    static Sequential student(long seed) {
        return Sequential.builder(28, 28, 1).seed(seed).conv2d(16, 3, 1).relu().maxPool2d(2).conv2d(32, 3, 1).relu().maxPool2d(2).flatten()
                .linear(48).relu().linear(10).build();
    }

    /** Re-zeroes the pruned weights (the optimizer's moments would otherwise regrow them). */
    static void applyMasks(Sequential m, Map<String, PruningMask> masks) {
        for (Map.Entry<String, PruningMask> e : masks.entrySet()) {
            Tensor w = m.parameters().get(e.getKey());
            w.copyFrom(e.getValue().apply(w.toFloatArray()));
        }
    }

    /** Fraction of zero weights over the weights of every linear and convolution layer. */
    static double sparsity(Sequential m) {
        long zeros = 0, total = 0;
        for (var l : m.layers()) {
            if (!(l instanceof WeightedLayer w)) continue;
            for (float v : w.weight().toFloatArray()) if (v == 0f) zeros++;
            total += w.weight().numel();
        }
        return total == 0 ? 0 : (double) zeros / total;
    }

    /** Parameters that are not pruned zeros. */
    static long nonZeros(Sequential m) {
        long n = 0;
        for (Tensor t : m.parameters().values()) for (float v : t.toFloatArray()) if (v != 0f) n++;
        return n;
    }

    /**
     * Bytes of a compacted model (dead filters removed) with its pruned layers (>= 50% zeros) stored sparse: CSR
     * values (4 bytes, or 1 for int8) + 4-byte column indices + row offsets, replacing their dense bytes in
     * {@code denseBytes} (the f32 model's bytes, or the int8 model's, whose dense weights take 1 byte each).
     */
    static long sparseBytes(Sequential m, long denseBytes, boolean int8) {
        long bytes = denseBytes;
        for (SparsityReport.Layer l : Pruning.report(m).layers()) {
            if (l.sparsity() < 0.5) continue;
            long elems = (long) l.rows() * l.cols();
            bytes -= int8 ? elems : 4 * elems;
            bytes += l.nonZeros() * ((int8 ? 1 : 4) + 4) + 4L * (l.rows() + 1);
        }
        return bytes;
    }

}
