package org.tessera.train;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.tessera.Ops;
import org.tessera.nn.QuantizedModel;
import org.tessera.nn.Sequential;

/**
 * What quantization-aware training rounds, taken from the int8 model's own {@link QuantizedModel#plan}: the
 * weights of the layers that will run int8 (per output channel, {@code weightBits}) and the activations the int8
 * model will carry as u8 codes (one shared {@link ActivationObserver} each). Converting hands the observed ranges
 * to {@link QuantizedModel.Builder#activationRange}, so the int8 model rounds where and as training did.
 */
final class FakeQuantization {
    static final String STATE_PREFIX = "qat.";
    private final int weightBits;
    private final Set<Integer> int8Layers = new HashSet<>();
    private final Map<Integer, ActivationObserver> observers = new LinkedHashMap<>(); // by layer, -1: the input

    FakeQuantization(Sequential model, int weightBits) {
        this.weightBits = weightBits;
        QuantizedModel.Plan plan = QuantizedModel.plan(model);
        for (int l : plan.int8Layers()) int8Layers.add(l);
        for (int l : plan.u8Outputs()) observers.put(l, new ActivationObserver(l));
    }

    /** The bits to fake-quantize layer i's weights to (0: it stays f32). */
    int weightBits(int layer) {
        return int8Layers.contains(layer) ? weightBits : 0;
    }

    /** Layer i's backprop, wrapped to round its input (layer 0 only) and/or output where the int8 model does. */
    Backprop wrap(int layer, Backprop b, long[] in, long[] out, int maxBatch) {
        ActivationObserver inObs = layer == 0 ? observers.get(-1) : null, outObs = observers.get(layer);
        if (inObs == null && outObs == null) return b;
        return new FakeQuantBackprop(b, inObs, outObs, in, out, maxBatch);
    }

    /** The observers' ranges as checkpoint tensors: {@code qat.<layer>.range} = {lo, hi, seen} ({@code qat.input.range} for -1). */
    Map<String, float[]> state() {
        Map<String, float[]> s = new LinkedHashMap<>();
        for (ActivationObserver o : observers.values()) s.put(name(o.layer), o.state());
        return s;
    }

    /** Restores what {@link #state} saved; observers missing from {@code s} (a checkpoint without QAT) start afresh. */
    void restore(Map<String, float[]> s) {
        for (ActivationObserver o : observers.values()) {
            float[] v = s.get(name(o.layer));
            o.restore(v != null ? v : new float[3]);
        }
    }

    private static String name(int layer) {
        return STATE_PREFIX + (layer < 0 ? "input" : Integer.toString(layer)) + ".range";
    }

    /**
     * The int8 model: the trained weights quantized as training rounded them, the observed activation ranges.
     *
     * @throws IllegalStateException if an observer has seen no batch yet
     */
    QuantizedModel convert(Sequential model, Ops ops) {
        QuantizedModel.Builder b = QuantizedModel.builder(model).weightBits(weightBits);
        for (ActivationObserver o : observers.values()) {
            if (o.range() == null) throw new IllegalStateException("quantization-aware training has not observed layer " + o.layer + "'s output yet: train at least one step first");
            b.activationRange(o.layer, o.lo(), o.hi());
        }
        return b.build(ops);
    }
}
