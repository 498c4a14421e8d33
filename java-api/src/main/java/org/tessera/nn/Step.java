package org.tessera.nn;

import org.tessera.Tensor;
import org.tessera.kernels.DType;

/**
 * One step of a compiled inference plan: one layer, or a layer with what was fused into it (a folded
 * BatchNorm, a ReLU). Shapes are per example; {@code run} sees the batch dimension first.
 *
 * @param label    the layers this step runs, e.g. {@code 0-2 conv2d+batchnorm+relu}, for errors and reports
 * @param outShape output shape per example
 * @param outType  output dtype
 * @param body     y = step(x)
 * @param owned    what the step holds (packed weights) and frees on close; may be null
 */
record Step(String label, long[] outShape, DType outType, Body body, AutoCloseable owned) implements AutoCloseable {
    @FunctionalInterface
    interface Body {
        void run(Tensor x, Tensor y);
    }

    @Override
    public void close() {
        if (owned == null) return;
        try {
            owned.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing step " + label, e);
        }
    }
}
