package org.tessera.train;

import org.tessera.nn.U8Range;

/**
 * The elementwise rules of quantization-aware training, bit for bit those of the int8 model: activations are
 * rounded to their u8 encoding and back; weights to s8 (or 7-bit) codes per output channel, symmetric with the
 * scale max|w| / levels, as {@code QuantizedModel} quantizes them. Non-finite values pass through unchanged, so
 * the NaN/Inf checks still see them.
 */
final class FakeQuant {
    private FakeQuant() {}

    /** x[0, n) rounded to r's codes and back, in place: {@code r.dequantize(r.quantize(x))}. */
    static void activations(float[] x, int n, U8Range r) {
        float s = r.scale();
        int zp = r.zeroPoint();
        for (int i = 0; i < n; i++) {
            float v = x[i];
            if (!Float.isFinite(v)) continue;
            double q = Math.rint(v / s) + zp;
            int code = (int) Math.max(0, Math.min(255, q));
            x[i] = s * (code - zp);
        }
    }

    /** The straight-through estimator: zeroes g[i] where x[i] falls outside r's range (its code was clamped). */
    static void passInRange(float[] g, float[] x, int n, U8Range r) {
        float s = r.scale();
        int zp = r.zeroPoint();
        for (int i = 0; i < n; i++) {
            double q = Math.rint(x[i] / s) + zp;
            if (!(q >= 0 && q <= 255)) g[i] = 0;
        }
    }

    /**
     * w[0, rows * rowLen) (rows = output channels) rounded per row to {@code bits}-bit symmetric codes and back,
     * in place; the gradient passes straight through (the scale comes from the row's maximum, so nothing clips).
     */
    static void weights(float[] w, int rows, int rowLen, int bits) {
        float levels = (1 << (bits - 1)) - 1;
        for (int o = 0; o < rows; o++) {
            int at = o * rowLen;
            float max = 0;
            for (int i = 0; i < rowLen; i++) max = Math.max(max, Math.abs(w[at + i]));
            float scale = max > 0 ? max / levels : 1f;
            for (int i = 0; i < rowLen; i++) {
                float v = w[at + i];
                if (!Float.isFinite(v)) continue;
                w[at + i] = (float) Math.max(-levels, Math.min(levels, Math.rint(v / scale))) * scale;
            }
        }
    }
}
