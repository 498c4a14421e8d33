package org.tessera.nn;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.tessera.Activation;
import org.tessera.Ops;
import org.tessera.Tensor;
import org.tessera.kernels.DType;

/**
 * A layer with a weight tensor whose first dimension is the output channel, and an optional bias: the layers
 * that BatchNorm folds into, ReLU fuses into, quantization turns int8 and pruning makes sparse.
 */
public abstract sealed class WeightedLayer extends Layer permits Linear, Conv2d {
    private final Tensor weight, bias;
    private final long fanIn;

    WeightedLayer(long[] weightShape, boolean bias) {
        this.weight = Tensor.allocate(DType.F32, weightShape);
        this.bias = bias ? Tensor.allocate(DType.F32, weightShape[0]) : null;
        this.fanIn = weight.numel() / weightShape[0];
    }

    /** The weights, output channel first (PyTorch's layout); shared: call {@link Sequential#parametersChanged()} after writing. */
    public Tensor weight() {
        return weight;
    }

    /** The (out) bias, or null. */
    public Tensor bias() {
        return bias;
    }

    /** Output channels (features). */
    public int outputs() {
        return (int) weight.dim(0);
    }

    @Override
    public Map<String, Tensor> parameters() {
        Map<String, Tensor> p = new LinkedHashMap<>();
        p.put("weight", weight);
        if (bias != null) p.put("bias", bias);
        return p;
    }

    /** He-uniform weights (bound sqrt(6 / fan-in), suited to ReLU networks), zero bias. */
    @Override
    void initialize(SplittableRandom rng) {
        Init.heUniform(weight, fanIn, rng);
    }

    @Override
    Step compile(Ops ops, long[] in, String label) {
        return compile(ops, in, label, null, Activation.IDENTITY);
    }

    /** The step with an optional BatchNorm folded into the weights and bias and an activation fused. */
    abstract Step compile(Ops ops, long[] in, String label, BatchNorm folded, Activation act);
}
