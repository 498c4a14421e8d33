package org.tessera.nn;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.tessera.Activation;
import org.tessera.Ops;
import org.tessera.PackedMatrix;
import org.tessera.Tensor;
import org.tessera.kernels.DType;

/**
 * Fully connected layer y = x W^T + b: weight (out, in) and bias (out) as in PyTorch. Inference packs W^T once
 * for the GEMM and fuses a following BatchNorm (folded into W and b) and ReLU.
 */
public final class Linear extends Layer {
    private final int in, out;
    private final Tensor weight, bias;

    /** A layer of {@code in} inputs and {@code out} outputs, with or without bias; parameters start at zero. */
    public Linear(int in, int out, boolean bias) {
        if (in < 1 || out < 1) throw new IllegalArgumentException("linear: in and out must be >= 1, got in " + in + ", out " + out);
        this.in = in;
        this.out = out;
        this.weight = Tensor.allocate(DType.F32, out, in);
        this.bias = bias ? Tensor.allocate(DType.F32, out) : null;
    }

    static Linear fromConfig(Map<String, Object> c) {
        return new Linear(Shapes.integer(c.get("in"), "in"), Shapes.integer(c.get("out"), "out"), Boolean.TRUE.equals(c.get("bias")));
    }

    @Override
    public String type() {
        return "linear";
    }

    public int inFeatures() {
        return in;
    }

    public int outFeatures() {
        return out;
    }

    /** The (out, in) weight, shared (writes change the layer; call {@link Sequential#parametersChanged()} after). */
    public Tensor weight() {
        return weight;
    }

    /** The (out) bias, or null. */
    public Tensor bias() {
        return bias;
    }

    @Override
    public long[] outputShape(long[] shape) {
        Shapes.requireVector("linear", shape);
        if (shape[0] != in) throw new IllegalArgumentException("linear expects " + in + " input features, got " + shape[0]);
        return new long[] {out};
    }

    @Override
    public Map<String, Tensor> parameters() {
        Map<String, Tensor> p = new LinkedHashMap<>();
        p.put("weight", weight);
        if (bias != null) p.put("bias", bias);
        return p;
    }

    @Override
    public Map<String, Object> config() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("in", in);
        c.put("out", out);
        c.put("bias", bias != null);
        return c;
    }

    /** He-uniform weights (bound sqrt(6 / in), suited to ReLU networks), zero bias. */
    @Override
    void initialize(SplittableRandom rng) {
        Init.heUniform(weight, in, rng);
    }

    @Override
    Step compile(Ops ops, long[] inShape, String label) {
        return compile(ops, label, null, Activation.IDENTITY);
    }

    /** The step with an optional BatchNorm folded into W and b and an activation fused into the GEMM. */
    Step compile(Ops ops, String label, BatchNorm folded, Activation act) {
        Folded f = Folded.of(weight, bias, folded, out);
        float[] values = f.weight().toFloatArray();
        if (SparseLinear.zeroFraction(values) >= SparseLinear.MIN_SPARSITY) {
            f.weight().close();
            return SparseLinear.f32(ops, label, values, out, in, f.bias(), act);
        }
        PackedMatrix packed;
        try (Tensor w = f.weight()) {
            packed = ops.pack(w.t());
        }
        Tensor b = f.bias();
        return new Step(label, new long[] {out}, DType.F32, (x, y) -> ops.matmul(x, packed, b, act, y), () -> {
            packed.close();
            if (b != null) b.close();
        });
    }
}
