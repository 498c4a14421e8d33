package org.tessera.nn;

/** A NaN or infinity found by the model's checks, naming the layer (and tensor or element) it first appeared in. */
public final class NonFiniteException extends IllegalStateException {
    public NonFiniteException(String message) {
        super(message);
    }
}
