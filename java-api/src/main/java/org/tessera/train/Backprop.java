package org.tessera.train;

import java.util.List;
import org.tessera.Tensor;

/**
 * One layer's training computation on one replica: a forward pass that keeps what the backward pass needs
 * (argmax, masks, batch statistics) in buffers sized for the largest batch, and a backward pass that
 * overwrites the parameter gradients. Tensors have the batch dimension first and are contiguous.
 */
interface Backprop extends AutoCloseable {
    /** y = layer(x); {@code training} selects batch statistics and dropout. */
    void forward(Tensor x, Tensor y, boolean training);

    /** Writes this layer's parameter gradients for the last forward and, unless dx is null, dL/dx. */
    void backward(Tensor x, Tensor y, Tensor dy, Tensor dx);

    /** The trainable parameters with this replica's gradient buffers. */
    default List<Param> params() {
        return List.of();
    }

    @Override
    default void close() {}
}
