package org.tessera.nn;

import org.tessera.kernels.quant.QuantizeF32U8Panama;

/**
 * The u8 encoding of an activation in an int8 model: {@code real = scale * (q - zeroPoint)}, q in [0, 255].
 * Calibration ({@link Calibration}) and quantization-aware training both produce it; the int8 steps, the file
 * format and the training-time fake quantization all use this one rule, so they agree to the bit.
 */
public record U8Range(float scale, int zeroPoint) {
    /** The encoding whose codes 0 and 255 are nearest to lo and hi, with real 0 exactly representable (lo &lt;= 0 &lt;= hi is assumed). */
    public static U8Range of(float lo, float hi) {
        float scale = (hi - lo) / 255f;
        if (!(scale > 0)) scale = 1f; // an activation that is always 0: any scale represents it exactly
        int zp = (int) Math.rint(-lo / scale);
        return new U8Range(scale, Math.max(0, Math.min(255, zp)));
    }

    /** round-half-even(x / scale) + zeroPoint, clamped to [0, 255] (the defined clipping of the encoding). */
    public int quantize(float x) {
        return QuantizeF32U8Panama.quantize(x, scale, zeroPoint);
    }

    /** The real value of code q. */
    public float dequantize(int q) {
        return scale * (q - zeroPoint);
    }

    /** Whether x is inside the encoded range (its unclamped code is in [0, 255]): where fake quantization passes gradients. */
    public boolean inRange(float x) {
        double q = Math.rint(x / scale) + zeroPoint;
        return q >= 0 && q <= 255;
    }
}
