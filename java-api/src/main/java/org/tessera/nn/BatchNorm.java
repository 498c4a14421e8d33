package org.tessera.nn;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.Map;
import org.tessera.Ops;
import org.tessera.Tensor;
import org.tessera.kernels.DType;

/**
 * Batch normalization over the channel (last) dimension, PyTorch's BatchNorm1d/2d: parameters {@code weight}
 * (gamma), {@code bias} (beta), {@code running_mean}, {@code running_var}. For inference it is folded into the
 * preceding linear or convolution layer (no pass of its own); anywhere else it runs as a per-channel affine map.
 */
public final class BatchNorm extends Layer {
    private final int channels;
    private final float eps;
    private final Tensor gamma, beta, mean, var;

    /** A BatchNorm of {@code channels} channels: gamma 1, beta 0, running mean 0, running variance 1. */
    public BatchNorm(int channels, float eps) {
        if (channels < 1) throw new IllegalArgumentException("batchnorm: channels must be >= 1, got " + channels);
        if (!(eps > 0f) || !Float.isFinite(eps)) throw new IllegalArgumentException("batchnorm: eps must be positive and finite, got " + eps);
        this.channels = channels;
        this.eps = eps;
        gamma = Tensor.allocate(DType.F32, channels);
        beta = Tensor.allocate(DType.F32, channels);
        mean = Tensor.allocate(DType.F32, channels);
        var = Tensor.allocate(DType.F32, channels);
        Init.fill(gamma, 1f);
        Init.fill(var, 1f);
    }

    static BatchNorm fromConfig(Map<String, Object> c) {
        Object eps = c.get("eps");
        return new BatchNorm(Shapes.integer(c.get("channels"), "channels"), eps instanceof Number n ? n.floatValue() : 1e-5f);
    }

    @Override
    public String type() {
        return "batchnorm";
    }

    /** Channels normalized. */
    public int channels() {
        return channels;
    }

    /** The epsilon added to the variance. */
    public float eps() {
        return eps;
    }

    @Override
    public long[] outputShape(long[] in) {
        if (in.length == 0 || in[in.length - 1] != channels) {
            throw new IllegalArgumentException("batchnorm expects " + channels + " channels in the last dimension, got shape " + Shapes.str(in));
        }
        return in.clone();
    }

    @Override
    public Map<String, Tensor> parameters() {
        Map<String, Tensor> p = new LinkedHashMap<>();
        p.put("weight", gamma);
        p.put("bias", beta);
        p.put("running_mean", mean);
        p.put("running_var", var);
        return p;
    }

    @Override
    public Map<String, Object> config() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("channels", channels);
        c.put("eps", eps);
        return c;
    }

    /** gamma / sqrt(running_var + eps) per channel. */
    float[] inferenceScale() {
        float[] g = gamma.toFloatArray(), v = var.toFloatArray(), s = new float[channels];
        for (int i = 0; i < channels; i++) s[i] = (float) (g[i] / Math.sqrt((double) v[i] + eps));
        return s;
    }

    /** beta - running_mean * scale per channel. */
    float[] inferenceShift() {
        float[] s = inferenceScale(), b = beta.toFloatArray(), m = mean.toFloatArray(), r = new float[channels];
        for (int i = 0; i < channels; i++) r[i] = b[i] - m[i] * s[i];
        return r;
    }

    @Override
    Step compile(Ops ops, long[] in, String label) {
        float[] scale = inferenceScale(), shift = inferenceShift();
        return new Step(label, in.clone(), DType.F32, (x, y) -> {
            MemorySegment xs = x.segment(), ys = y.segment();
            long n = x.numel();
            for (long i = 0; i < n; i++) {
                int c = (int) (i % channels);
                ys.setAtIndex(ValueLayout.JAVA_FLOAT, i, xs.getAtIndex(ValueLayout.JAVA_FLOAT, i) * scale[c] + shift[c]);
            }
        }, null);
    }
}
