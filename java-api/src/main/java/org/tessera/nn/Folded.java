package org.tessera.nn;

import org.tessera.Tensor;

/**
 * Weights and bias with an inference BatchNorm folded in: with s = gamma / sqrt(var + eps) per output
 * channel, W' = s W (row by row) and b' = s (b - mean) + beta. Both are new tensors owned by the caller;
 * bias is null only when there is neither a bias nor a BatchNorm.
 */
record Folded(Tensor weight, Tensor bias) {
    static Folded of(Tensor weight, Tensor bias, BatchNorm bn, int outChannels) {
        float[] w = weight.toFloatArray();
        float[] b = bias == null ? null : bias.toFloatArray();
        if (bn != null) {
            float[] scale = bn.inferenceScale(), shift = bn.inferenceShift();
            int row = w.length / outChannels;
            if (b == null) b = new float[outChannels];
            for (int o = 0; o < outChannels; o++) {
                for (int i = 0; i < row; i++) w[o * row + i] *= scale[o];
                // shift = beta - mean * s, so s (b - mean) + beta = s b + shift
                b[o] = scale[o] * b[o] + shift[o];
            }
        }
        Tensor wt = Tensor.of(w, weight.shape());
        return new Folded(wt, b == null ? null : Tensor.of(b, outChannels));
    }
}
