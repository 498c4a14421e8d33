package org.tessera.nn;

import java.util.LinkedHashMap;
import java.util.Map;
import org.tessera.Activation;
import org.tessera.Ops;
import org.tessera.PackedMatrix;
import org.tessera.Tensor;
import org.tessera.kernels.DType;

/**
 * Fully connected layer y = x W^T + b: weight (out, in) and bias (out) as in PyTorch. Inference packs W^T once
 * for the GEMM and fuses a following BatchNorm (folded into W and b) and ReLU; pruned weights also run sparse
 * where that is faster (see SparseLinear).
 */
public final class Linear extends WeightedLayer {
    private final int in, out;

    /** A layer of {@code in} inputs and {@code out} outputs, with or without bias; parameters start at zero. */
    public Linear(int in, int out, boolean bias) {
        super(checked(in, out), bias);
        this.in = in;
        this.out = out;
    }

    private static long[] checked(int in, int out) {
        if (in < 1 || out < 1) throw new IllegalArgumentException("linear: in and out must be >= 1, got in " + in + ", out " + out);
        return new long[] {out, in};
    }

    static Linear fromConfig(Map<String, Object> c) {
        return new Linear(Shapes.integer(c.get("in"), "in"), Shapes.integer(c.get("out"), "out"), Boolean.TRUE.equals(c.get("bias")));
    }

    @Override
    public String type() {
        return "linear";
    }

    /** Input features. */
    public int inFeatures() {
        return in;
    }

    /** Output features. */
    public int outFeatures() {
        return out;
    }

    @Override
    public long[] outputShape(long[] shape) {
        Shapes.requireVector("linear", shape);
        if (shape[0] != in) throw new IllegalArgumentException("linear expects " + in + " input features, got " + shape[0]);
        return new long[] {out};
    }

    @Override
    public Map<String, Object> config() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("in", in);
        c.put("out", out);
        c.put("bias", bias() != null);
        return c;
    }

    // An (h, w, c) inShape is the image of a flatten folded into this layer: columns taken in (h, w, c) order.
    @Override
    Step compile(Ops ops, long[] inShape, String label, BatchNorm folded, Activation act) {
        Folded f = Folded.of(weight(), bias(), folded, out);
        float[] values = f.weight().toFloatArray();
        if (inShape.length == 3) values = Flatten.hwcColumns(values, out, inShape);
        PackedMatrix packed;
        f.weight().close();
        try (Tensor w = Tensor.of(values, out, in)) {
            packed = ops.pack(w.t());
        }
        Tensor b = f.bias();
        Step.Body dense = (x, y) -> ops.matmul(x, packed, b, act, y);
        AutoCloseable owned = () -> {
            packed.close();
            if (b != null) b.close();
        };
        if (SparseLinear.zeroFraction(values) >= SparseLinear.MIN_SPARSITY) {
            Step sparse = SparseLinear.f32(ops, label, values, out, in, b, act, dense, owned);
            if (sparse != null) return sparse;
        }
        return new Step(label, new long[] {out}, DType.F32, dense, owned);
    }
}
