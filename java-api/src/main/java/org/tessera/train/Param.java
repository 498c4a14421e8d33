package org.tessera.train;

import org.tessera.Tensor;

/**
 * A trainable parameter and its gradient buffer.
 *
 * @param name  the model's parameter name, e.g. {@code 0.weight}
 * @param value the parameter (shared by every replica)
 * @param grad  this replica's gradient, same shape (overwritten by each backward pass)
 * @param decay whether weight decay applies (weights of linear and convolution layers; not biases or BatchNorm)
 */
public record Param(String name, Tensor value, Tensor grad, boolean decay) {}
