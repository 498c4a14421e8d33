package org.tessera.nn;

import java.util.LinkedHashMap;
import java.util.Map;
import org.tessera.Ops;

/** Dropout: zeroes a fraction p of activations in training (inverted scaling); the identity at inference. */
public final class Dropout extends Layer {
    private final double p;

    /** @throws IllegalArgumentException unless 0 <= p < 1 */
    public Dropout(double p) {
        if (!(p >= 0 && p < 1)) throw new IllegalArgumentException("dropout: p must be in [0, 1), got " + p);
        this.p = p;
    }

    /** The drop rate. */
    public double p() {
        return p;
    }

    @Override
    public String type() {
        return "dropout";
    }

    @Override
    public long[] outputShape(long[] in) {
        return in.clone();
    }

    @Override
    public Map<String, Object> config() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("p", p);
        return c;
    }

    /** Never called: inference plans skip dropout. */
    @Override
    Step compile(Ops ops, long[] in, String label) {
        return null;
    }
}
