package org.tessera.nn;

import java.util.LinkedHashMap;
import java.util.Map;
import org.tessera.Tensor;
import org.tessera.prune.MagnitudePruning;
import org.tessera.prune.PruningMask;
import org.tessera.prune.SparsityReport;

/**
 * One-shot magnitude pruning of a model's linear layers (the ones the sparse kernels run): zeroes the smallest
 * weights in place and returns the masks, for fine-tuning with {@link PruningMask#applyToGradient} or for
 * {@link org.tessera.prune.GradualPruner}-style schedules. Afterwards {@link Sequential#predict} (and a
 * {@link QuantizedModel} built from the model) runs each layer at or above 50% zeros on the sparse kernels
 * wherever the measured dense-vs-sparse crossover says it is faster. Convolutions are left dense.
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

    /** Per-layer sparsity and storage of the model's linear layers. */
    public static SparsityReport report(Sequential model) {
        SparsityReport r = new SparsityReport();
        for (int i = 0; i < model.layers().size(); i++) {
            if (model.layers().get(i) instanceof Linear l) r.add(i + ".weight", l.weight().toFloatArray(), l.outFeatures(), l.inFeatures());
        }
        return r;
    }
}
