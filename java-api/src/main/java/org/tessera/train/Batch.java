package org.tessera.train;

import org.tessera.Tensor;

/**
 * A batch of examples: inputs (n, ...), integer labels and optional float targets (n, k): regression
 * targets for {@link MeanSquaredError}, a teacher's logits for {@link Distillation}. Views, not copies.
 *
 * @param x       inputs, batch dimension first, contiguous
 * @param labels  class labels from {@code labelOffset} on (may be null for losses that do not use them)
 * @param labelOffset the first label's index in {@code labels}
 * @param targets (n, k) float targets, or null
 */
public record Batch(Tensor x, int[] labels, int labelOffset, Tensor targets) {
    /** Examples in the batch. */
    public int size() {
        return (int) x.dim(0);
    }

    /** The label of example i. */
    public int label(int i) {
        if (labels == null) throw new IllegalStateException("this loss needs labels; the batch has none");
        return labels[labelOffset + i];
    }

    /** Examples [from, to) as a batch (views). */
    public Batch slice(int from, int to) {
        return new Batch(x.slice(0, from, to), labels, labelOffset + from, targets == null ? null : targets.slice(0, from, to));
    }
}
