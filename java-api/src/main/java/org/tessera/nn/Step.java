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
 * @param scratch  F32 scratch elements per example the step needs (0: none); the workspace provides them
 * @param withScratch the body when {@code scratch > 0}, else null
 */
record Step(String label, long[] outShape, DType outType, Body body, AutoCloseable owned, long scratch, ScratchBody withScratch)
        implements AutoCloseable {
    @FunctionalInterface
    interface Body {
        void run(Tensor x, Tensor y);
    }

    /** A body that also gets a contiguous F32 scratch tensor of (n, scratch) elements, reused across calls. */
    @FunctionalInterface
    interface ScratchBody {
        void run(Tensor x, Tensor y, Tensor scratch);
    }

    Step(String label, long[] outShape, DType outType, Body body, AutoCloseable owned) {
        this(label, outShape, outType, body, owned, 0, null);
    }

    Step(String label, long[] outShape, DType outType, long scratch, ScratchBody body, AutoCloseable owned) {
        this(label, outShape, outType, null, owned, scratch, body);
    }

    /**
     * A step that copies nothing: its output is the input reshaped to (n, outShape...) (a flatten whose channel
     * order the next layer's weights absorbed). A plan never ends on one.
     */
    static Step view(String label, long[] outShape, DType outType) {
        return new Step(label, outShape, outType, null, null, 0, null);
    }

    /** Whether this is a {@link #view} step. */
    boolean isView() {
        return body == null && withScratch == null;
    }

    void run(Tensor x, Tensor y, Tensor scratchTensor) {
        if (withScratch != null) withScratch.run(x, y, scratchTensor);
        else body.run(x, y);
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
