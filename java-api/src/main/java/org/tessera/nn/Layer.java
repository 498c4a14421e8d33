package org.tessera.nn;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.tessera.Ops;
import org.tessera.Tensor;

/**
 * A layer of a {@link Sequential} model. Activations are NHWC: an image example is (h, w, c), a vector
 * example (features); shapes here are per example, the batch dimension comes first at run time.
 * Parameters use PyTorch's names and layouts ({@code weight}, {@code bias}, {@code running_mean}, ...;
 * linear weights (out, in), convolution filters (out, in / groups, kh, kw)) so weight files interchange.
 * A layer owns its parameter tensors; closing the model closes them.
 */
public abstract class Layer implements AutoCloseable {
    Layer() {}

    /** The type name used in model files, e.g. {@code conv2d}. */
    public abstract String type();

    /**
     * The output shape for an input of {@code in} (per example).
     *
     * @throws IllegalArgumentException naming the mismatching dimension (the model adds the layer's index)
     */
    public abstract long[] outputShape(long[] in);

    /** Parameters by PyTorch name, in file order; empty for layers without any. */
    public Map<String, Tensor> parameters() {
        return Map.of();
    }

    /** The hyper-parameters that rebuild this layer (written to model files as JSON). */
    public Map<String, Object> config() {
        return new LinkedHashMap<>();
    }

    /** Fills the parameters with their initial values from {@code rng}. */
    void initialize(SplittableRandom rng) {}

    /** The inference step for input shape {@code in} (per example) on {@code ops}. */
    abstract Step compile(Ops ops, long[] in, String label);

    /** Elements in the parameters. */
    public long parameterCount() {
        long n = 0;
        for (Tensor t : parameters().values()) n += t.numel();
        return n;
    }

    /** Frees the parameters. */
    @Override
    public void close() {
        for (Tensor t : parameters().values()) t.close();
    }

    @Override
    public String toString() {
        return type() + config();
    }
}
