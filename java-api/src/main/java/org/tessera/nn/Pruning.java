package org.tessera.nn;

import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tessera.Tensor;
import org.tessera.prune.MagnitudePruning;
import org.tessera.prune.PruningMask;
import org.tessera.prune.SparsityReport;

/**
 * One-shot magnitude pruning of a model's linear layers (the ones the sparse kernels run): zeroes the smallest
 * weights in place and returns the masks, for fine-tuning with {@link PruningMask#applyToGradient} or for
 * {@link org.tessera.prune.GradualPruner}-style schedules. Afterwards {@link Sequential#predict} runs each f32
 * layer at or above 50% zeros on the sparse kernels where the measured dense-vs-sparse crossover says that is
 * faster (single examples; batches and int8 layers keep the faster dense GEMM). Convolutions are pruned by whole
 * filters ({@link #pruneFilters}), which inference removes: fewer channels are faster on every path.
 */
public final class Pruning {
    /** How weights are removed. */
    public enum Structure {
        /** Any weight: the highest accuracy at a given sparsity; CSR kernels. */
        UNSTRUCTURED,
        /** Blocks of 4 output rows x 1 input column: the faster BSR kernels. */
        BLOCK_4X1
    }

    private Pruning() {}

    /**
     * Prunes every linear layer except the last (the classifier, small and sensitive) to {@code sparsity}.
     *
     * @return the mask of each pruned layer, by parameter name ({@code 3.weight})
     */
    public static Map<String, PruningMask> prune(Sequential model, double sparsity, Structure structure) {
        if (!(sparsity >= 0 && sparsity < 1)) throw new IllegalArgumentException("sparsity must be in [0, 1), got " + sparsity);
        Map<String, PruningMask> masks = new LinkedHashMap<>();
        int lastLinear = -1;
        for (int i = 0; i < model.layers().size(); i++) if (model.layers().get(i) instanceof Linear) lastLinear = i;
        for (int i = 0; i < lastLinear; i++) {
            if (!(model.layers().get(i) instanceof Linear l)) continue;
            Tensor wt = l.weight();
            float[] w = wt.toFloatArray();
            int rows = l.outFeatures(), cols = l.inFeatures();
            PruningMask mask = structure == Structure.BLOCK_4X1 && rows % 4 == 0
                    ? MagnitudePruning.blocks(w, rows, cols, 4, 1, sparsity)
                    : MagnitudePruning.unstructured(w, rows, cols, sparsity);
            wt.copyFrom(mask.apply(w));
            masks.put(i + ".weight", mask);
        }
        model.parametersChanged();
        return masks;
    }

    /**
     * Filter pruning: zeroes the {@code round(fraction * filters)} filters of smallest L2 norm (weights and bias)
     * of every convolution (groups = 1) that another weighted layer follows. Such a filter's channel is exactly
     * zero, and inference compiles the model without it ({@link #removeDeadChannels}): the convolution computes
     * fewer filters and the layer reading it fewer inputs, so unlike scattered zeros these speed up every backend.
     * Filters pruned earlier (norm 0) stay pruned, so calling this with a rising fraction is a gradual schedule.
     * The weights of the next layer that read a pruned filter's channel are zeroed too (they multiply zeros; the
     * outputs do not change), so they count as pruned and a later {@link #prune} of that layer keeps only weights
     * that still matter. A filter after which a BatchNorm shifts the zero channel is not removable: its consumer's
     * weights stay.
     *
     * @return the weight and bias masks of each pruned layer by parameter name ({@code 3.weight}, {@code 3.bias}),
     *         and of the layers reading them, to re-apply after optimizer steps while fine-tuning
     */
    public static Map<String, PruningMask> pruneFilters(Sequential model, double fraction) {
        return pruneFilters(model, fraction, -1);
    }

    /**
     * {@link #pruneFilters(Sequential, double)} on one layer only: the convolution at index {@code layer} (layers
     * differ in how much they tolerate; the first sees the raw image).
     *
     * @throws IllegalArgumentException if that layer is not such a convolution
     */
    public static Map<String, PruningMask> pruneFilters(Sequential model, double fraction, int layer) {
        if (!(fraction >= 0 && fraction < 1)) throw new IllegalArgumentException("fraction must be in [0, 1), got " + fraction);
        Map<String, PruningMask> masks = new LinkedHashMap<>();
        int lastWeighted = -1;
        for (int i = 0; i < model.layers().size(); i++) if (model.layers().get(i) instanceof WeightedLayer) lastWeighted = i;
        if (layer >= 0 && (layer >= lastWeighted || !(model.layers().get(layer) instanceof Conv2d c0) || c0.params().groups() != 1)) {
            throw new IllegalArgumentException("layer " + layer + " is not a convolution (groups = 1) that another weighted layer follows");
        }
        List<ChannelCompaction.Link> links = ChannelCompaction.links(model);
        for (int i = 0; i < lastWeighted; i++) { // in order: a filter's norm leaves out the inputs pruned before it
            if (layer >= 0 && i != layer) continue;
            if (!(model.layers().get(i) instanceof Conv2d c) || c.params().groups() != 1) continue;
            Tensor wt = c.weight();
            float[] w = wt.toFloatArray();
            int rows = c.outChannels(), cols = w.length / rows;
            PruningMask mask = MagnitudePruning.channels(w, rows, cols, fraction);
            wt.copyFrom(mask.apply(w));
            masks.merge(i + ".weight", mask, PruningMask::and);
            if (c.bias() != null) {
                PruningMask bm = mask.rowMask();
                c.bias().copyFrom(bm.apply(c.bias().toFloatArray()));
                masks.put(i + ".bias", bm);
            }
            for (ChannelCompaction.Link k : links) if (k.producer() == i) zeroInputsOfDeadChannels(model, k, masks);
        }
        model.parametersChanged();
        return masks;
    }

    /**
     * Zeroes the weights of a link's consumer that read the producer's dead channels: they multiply zeros, and
     * zeroed they count as pruned, so a later magnitude cut of that layer spends its budget on weights that matter.
     */
    private static void zeroInputsOfDeadChannels(Sequential model, ChannelCompaction.Link k, Map<String, PruningMask> masks) {
        BitSet dead = ChannelCompaction.deadChannels(model, k);
        if (dead.isEmpty()) return;
        WeightedLayer reader = (WeightedLayer) model.layers().get(k.consumer());
        Tensor wt = reader.weight();
        int tap = ChannelCompaction.tap(model, k), rows = reader.outputs(), cols = Math.toIntExact(wt.numel() / rows);
        BitSet columns = new BitSet(cols);
        dead.stream().forEach(ch -> columns.set(ch * tap, (ch + 1) * tap));
        PruningMask mask = PruningMask.withoutColumns(rows, cols, columns);
        wt.copyFrom(mask.apply(wt.toFloatArray()));
        masks.merge(k.consumer() + ".weight", mask, PruningMask::and);
    }

    /**
     * A copy of {@code model} without its dead channels: output channels of linear and convolution layers with
     * all-zero weights and bias (as {@link #pruneFilters} leaves them), and the inputs of the next layer that read
     * them. Same outputs (the dropped terms were zeros), fewer parameters. Inference does this by itself; this is
     * for saving or inspecting the smaller model. The caller owns (closes) the copy.
     */
    public static Sequential removeDeadChannels(Sequential model) {
        return ChannelCompaction.of(model, true);
    }

    /** Per-layer sparsity and storage of the model's linear and convolution layers (rows: output channels). */
    public static SparsityReport report(Sequential model) {
        SparsityReport r = new SparsityReport();
        for (int i = 0; i < model.layers().size(); i++) {
            if (model.layers().get(i) instanceof WeightedLayer l) {
                int rows = l.outputs();
                r.add(i + ".weight", l.weight().toFloatArray(), rows, (int) (l.weight().numel() / rows));
            }
        }
        return r;
    }
}
