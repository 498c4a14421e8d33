package org.tessera.nn;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tessera.Tensor;

/**
 * Takes dead channels out of a model before it is compiled for inference. An output channel of a linear or
 * convolution layer whose weights are all zero and whose bias (BatchNorm folded) is zero (what filter pruning
 * leaves) is exactly zero; it stays zero through activations with f(0) = 0, dropout, pooling, flatten and global
 * average pooling, so the layer that reads it next (a convolution, or a linear layer) multiplies it by nothing.
 * The compacted model drops the channel from the producing layer (and a BatchNorm right after it) and the
 * matching inputs from the consuming one. It computes the same outputs with fewer channels: the same sums
 * less their zero terms (int8: the same integers; the zero activation is the zero point, which the kernels
 * subtract exactly). Layer order, types and indices are kept, so step labels and calibration slots match.
 */
final class ChannelCompaction {
    private ChannelCompaction() {}

    /** {@code model} with its dead channels removed, or {@code model} itself when it has none (then nothing new to close). */
    static Sequential of(Sequential model) {
        return of(model, false);
    }

    /** With {@code copy}, a new model even when nothing is removed. */
    static Sequential of(Sequential model, boolean copy) {
        List<Layer> layers = model.layers();
        List<Map<String, Object>> configs = new ArrayList<>();
        Map<String, float[]> params = new LinkedHashMap<>();
        for (Layer l : layers) {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("type", l.type());
            c.putAll(l.config());
            configs.add(c);
        }
        for (Map.Entry<String, Tensor> e : model.parameters().entrySet()) params.put(e.getKey(), e.getValue().toFloatArray());

        boolean changed = false;
        for (Link k : links(model)) {
            WeightedLayer producer = (WeightedLayer) layers.get(k.producer());
            int i = k.producer(), bn = k.batchNorm(), consumer = k.consumer(), hw = k.hw();
            int out = producer.outputs();
            BitSet dead = deadChannels(params, i, bn >= 0 ? (BatchNorm) layers.get(bn) : null, out);
            if (dead.cardinality() == out) dead.clear(dead.nextSetBit(0)); // a layer keeps at least one channel
            if (dead.isEmpty()) continue;
            changed = true;
            int kept = out - dead.cardinality();
            params.put(i + ".weight", dropRows(params.get(i + ".weight"), out, dead));
            if (params.containsKey(i + ".bias")) params.put(i + ".bias", dropRows(params.get(i + ".bias"), out, dead));
            configs.get(i).put("out", kept);
            if (bn >= 0) {
                for (String p : layers.get(bn).parameters().keySet()) params.put(bn + "." + p, dropRows(params.get(bn + "." + p), out, dead));
                configs.get(bn).put("channels", kept);
            }
            WeightedLayer reader = (WeightedLayer) layers.get(consumer);
            String w = consumer + ".weight";
            int readerOut = reader.outputs(), readerIn = ((Number) configs.get(consumer).get("in")).intValue();
            int tap = tap(model, k);
            params.put(w, dropInputs(params.get(w), readerOut, readerIn / (reader instanceof Conv2d ? 1 : hw), tap, dead));
            configs.get(consumer).put("in", reader instanceof Conv2d ? kept : kept * hw);
        }
        if (!changed && !copy) return model;
        return rebuild(model.inputShape(), configs, params);
    }

    /**
     * A layer's output channels as a later layer reads them: {@code producer} (a linear layer or a convolution with
     * groups = 1), the BatchNorm right after it ({@code batchNorm}, or -1), and {@code consumer}, the next linear or
     * convolution layer, reached only through layers that keep a zero channel zero. {@code hw}: the positions
     * per channel a Flatten in between lays side by side (1 without one).
     */
    record Link(int producer, int batchNorm, int consumer, int hw) {}

    static List<Link> links(Sequential model) {
        List<Layer> layers = model.layers();
        long[][] inShapes = new long[layers.size()][];
        long[] s = model.inputShape();
        for (int i = 0; i < layers.size(); i++) {
            inShapes[i] = s;
            s = layers.get(i).outputShape(s);
        }
        List<Link> links = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            if (!(layers.get(i) instanceof WeightedLayer) || (layers.get(i) instanceof Conv2d c && c.params().groups() != 1)) continue;
            int bn = i + 1 < layers.size() && layers.get(i + 1) instanceof BatchNorm ? i + 1 : -1;
            int hw = 1;
            for (int j = (bn >= 0 ? bn : i) + 1; j < layers.size(); j++) {
                Layer l = layers.get(j);
                if (l instanceof Dropout || (l instanceof Nonlinearity n && n.kind().apply(0.0) == 0.0) || (l instanceof Pool2d && inShapes[j].length == 3)) continue;
                if (l instanceof Flatten && inShapes[j].length == 3) {
                    hw = Math.toIntExact(inShapes[j][0] * inShapes[j][1]);
                    continue;
                }
                if (l instanceof GlobalAvgPool || l instanceof Flatten) continue;
                if (l instanceof Linear || (l instanceof Conv2d c && c.params().groups() == 1 && inShapes[j].length == 3)) links.add(new Link(i, bn, j, hw));
                break;
            }
        }
        return links;
    }

    /** The dead output channels of a link's producer in {@code model} as it stands. */
    static BitSet deadChannels(Sequential model, Link k) {
        Map<String, float[]> params = new LinkedHashMap<>();
        for (String p : new String[] {k.producer() + ".weight", k.producer() + ".bias"}) {
            Tensor t = model.parameters().get(p);
            if (t != null) params.put(p, t.toFloatArray());
        }
        BatchNorm bn = k.batchNorm() >= 0 ? (BatchNorm) model.layers().get(k.batchNorm()) : null;
        return deadChannels(params, k.producer(), bn, ((WeightedLayer) model.layers().get(k.producer())).outputs());
    }

    /**
     * Weights per input channel of a link's consumer, contiguous in its weight rows: a convolution's kernel
     * window, or a linear layer's positions per channel.
     */
    static int tap(Sequential model, Link k) {
        return model.layers().get(k.consumer()) instanceof Conv2d conv ? conv.window()[0] * conv.window()[1] : k.hw();
    }

    /** Output channels with all-zero weights and a zero bias after folding the BatchNorm (or no bias at all). */
    private static BitSet deadChannels(Map<String, float[]> params, int layer, BatchNorm bn, int out) {
        float[] w = params.get(layer + ".weight"), b = params.get(layer + ".bias");
        float[] scale = bn == null ? null : bn.inferenceScale(), shift = bn == null ? null : bn.inferenceShift();
        int row = w.length / out;
        BitSet dead = new BitSet(out);
        for (int o = 0; o < out; o++) {
            boolean zero = true;
            for (int k = 0; k < row && zero; k++) zero = w[o * row + k] == 0f;
            float bias = b == null ? 0f : b[o];
            if (bn != null) bias = scale[o] * bias + shift[o]; // as Folded computes it
            if (zero && bias == 0f) dead.set(o);
        }
        return dead;
    }

    /** The rows of a (rows, row length) array that are not in {@code drop}. */
    static float[] dropRows(float[] a, int rows, BitSet drop) {
        int row = a.length / rows;
        float[] r = new float[(rows - drop.cardinality()) * row];
        int at = 0;
        for (int o = 0; o < rows; o++) {
            if (drop.get(o)) continue;
            System.arraycopy(a, o * row, r, at, row);
            at += row;
        }
        return r;
    }

    /**
     * Weights (out, channels, tap) row-major (a convolution's (out, in, kh, kw); a linear layer's columns in
     * PyTorch's (c, h, w) flatten order) without the input channels in {@code drop}.
     */
    static float[] dropInputs(float[] w, int out, int channels, int tap, BitSet drop) {
        int kept = channels - drop.cardinality();
        float[] r = new float[out * kept * tap];
        int at = 0;
        for (int o = 0; o < out; o++) {
            for (int c = 0; c < channels; c++) {
                if (drop.get(c)) continue;
                System.arraycopy(w, (o * channels + c) * tap, r, at, tap);
                at += tap;
            }
        }
        return r;
    }

    private static Sequential rebuild(long[] inputShape, List<Map<String, Object>> configs, Map<String, float[]> params) {
        List<Layer> layers = new ArrayList<>();
        for (Map<String, Object> c : configs) { // through JSON, as a model file reads it (integers as Long)
            @SuppressWarnings("unchecked")
            Map<String, Object> read = (Map<String, Object>) org.tessera.io.Json.parse(org.tessera.io.Json.write(c));
            layers.add(Layers.fromConfig(read));
        }
        Sequential m = new Sequential(inputShape, layers);
        try {
            m.outputShape(); // checks that the shapes still chain
            for (Map.Entry<String, Tensor> e : m.parameters().entrySet()) e.getValue().copyFrom(params.get(e.getKey()));
            return m;
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }
}
