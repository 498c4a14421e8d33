package org.tessera;

/** Activations that ops fuse into their output pass, so a layer never makes a second pass over C. */
public enum Activation {
    /** f(x) = x. */
    IDENTITY,
    /** f(x) = max(x, 0); NaN stays NaN. */
    RELU
}
