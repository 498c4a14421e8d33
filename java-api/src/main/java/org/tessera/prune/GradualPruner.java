package org.tessera.prune;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Gradual magnitude pruning during training or fine-tuning. Register each layer's weight array (updated in place
 * by the optimizer) with how it is pruned; call {@link #afterStep(long)} after every optimizer step: on the
 * schedule's update steps the masks are recomputed at the scheduled sparsity, and on every step the masks are
 * applied, so pruned weights stay exactly zero. Pruned weights are the smallest, so as sparsity grows they stay
 * pruned.
 */
public final class GradualPruner {
    /** How a layer is pruned. */
    public enum Structure { UNSTRUCTURED, BLOCK_4X1, CHANNEL }

    private record Layer(float[] weights, int rows, int cols, Structure structure) {}

    private final PolynomialSchedule schedule;
    private final Map<String, Layer> layers = new LinkedHashMap<>();
    private final Map<String, PruningMask> masks = new LinkedHashMap<>();

    public GradualPruner(PolynomialSchedule schedule) {
        this.schedule = java.util.Objects.requireNonNull(schedule, "schedule");
    }

    /** Registers a layer's weights (row-major rows x cols, modified in place by pruning); returns this. */
    public GradualPruner layer(String name, float[] weights, int rows, int cols, Structure structure) {
        if ((long) rows * cols != weights.length) throw new IllegalArgumentException(name + ": " + rows + "x" + cols + " needs " + (long) rows * cols + " weights, got " + weights.length);
        if (layers.putIfAbsent(name, new Layer(weights, rows, cols, structure)) != null) throw new IllegalArgumentException("layer " + name + " registered twice");
        masks.put(name, PruningMask.dense(rows, cols));
        return this;
    }

    /** Updates the masks if this is an update step, then zeroes every pruned weight. Call after each optimizer step. */
    public void afterStep(long step) {
        if (schedule.isUpdateStep(step)) {
            double s = schedule.sparsityAt(step);
            for (Map.Entry<String, Layer> e : layers.entrySet()) {
                Layer l = e.getValue();
                PruningMask m = switch (l.structure()) {
                    case UNSTRUCTURED -> MagnitudePruning.unstructured(l.weights(), l.rows(), l.cols(), s);
                    case BLOCK_4X1 -> MagnitudePruning.blocks(l.weights(), l.rows(), l.cols(), 4, 1, s);
                    case CHANNEL -> MagnitudePruning.channels(l.weights(), l.rows(), l.cols(), s);
                };
                masks.put(e.getKey(), m.and(masks.get(e.getKey()))); // once pruned, always pruned
            }
        }
        for (Map.Entry<String, Layer> e : layers.entrySet()) masks.get(e.getKey()).apply(e.getValue().weights());
    }

    /** The current mask of a layer. */
    public PruningMask mask(String name) {
        PruningMask m = masks.get(name);
        if (m == null) throw new IllegalArgumentException("no layer named " + name + "; registered: " + layers.keySet());
        return m;
    }

    /** The sparsity report of every layer as it is now. */
    public SparsityReport report() {
        SparsityReport r = new SparsityReport();
        for (Map.Entry<String, Layer> e : layers.entrySet()) r.add(e.getKey(), e.getValue().weights(), e.getValue().rows(), e.getValue().cols());
        return r;
    }

    /** Names of the registered layers, in registration order. */
    public List<String> layerNames() {
        return new ArrayList<>(layers.keySet());
    }
}
