package org.tessera.train;

import java.util.List;
import java.util.Map;

/**
 * Updates parameters from their (all-reduced) gradients. The learning rate comes from the trainer's
 * {@link Schedule} at every step. State (momentum, moments) is kept per parameter name and can be saved
 * in a checkpoint and restored.
 */
public interface Optimizer {
    /** One update of every parameter from its gradient at learning rate {@code lr}. */
    void step(List<Param> params, double lr);

    /** The state to checkpoint, by key (e.g. {@code 0.weight.m}); arrays are copies. */
    Map<String, float[]> state();

    /** Restores what {@link #state()} returned, after {@code steps} steps (bias correction depends on it). */
    void restore(Map<String, float[]> state, long steps);

    /** Steps taken so far. */
    long steps();

    /**
     * Stochastic gradient descent with momentum {@code momentum} (0: plain SGD), optionally Nesterov, and L2
     * weight decay added to the gradient (PyTorch's SGD semantics).
     */
    static Optimizer sgd(double momentum, boolean nesterov, double weightDecay) {
        return new Sgd(momentum, nesterov, weightDecay);
    }

    /** Adam (Kingma and Ba) with betas 0.9 / 0.999, eps 1e-8 and L2 weight decay added to the gradient. */
    static Optimizer adam(double weightDecay) {
        return new Adam(0.9, 0.999, 1e-8, weightDecay, false);
    }

    /** AdamW (Loshchilov and Hutter): Adam with decoupled weight decay {@code w -= lr * weightDecay * w}. */
    static Optimizer adamW(double weightDecay) {
        return new Adam(0.9, 0.999, 1e-8, weightDecay, true);
    }

    /** Adam or AdamW with every hyper-parameter given. */
    static Optimizer adam(double beta1, double beta2, double eps, double weightDecay, boolean decoupled) {
        return new Adam(beta1, beta2, eps, weightDecay, decoupled);
    }
}
