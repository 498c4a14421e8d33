package org.tessera.kernels.spi;

import org.tessera.kernels.DType;

/**
 * What an int8 GEMM writes, computed in its epilogue from the exact accumulator
 * {@code acc[i][j] = sum_p (A[i][p] - za) * W[p][j]} (za: the activations' zero point; the kernels use the
 * weights' precomputed column sums, {@code acc = A.W - za * colsum[j]}, not a second pass over A):
 * <ul>
 *   <li>{@link DType#S32}: {@code acc} (no bias, no ReLU).</li>
 *   <li>{@link DType#F32} (dequantized): {@code y = fma((float) acc, sa * sw[j], bias[j])}, bias 0 when absent;
 *       with ReLU, {@code y < 0} becomes 0 (NaN stays NaN).</li>
 *   <li>{@link DType#U8}/{@link DType#S8} (requantized): {@code y = fma((float) acc, (sa * sw[j]) / so, bias[j] / so)},
 *       clamped to {@code [lo - zo, hi - zo]}, rounded half to even, plus {@code zo}; {@code [lo, hi]} is the
 *       type's range, with ReLU {@code lo = max(lo, zo)} (clamp at the zero point). Saturation is the
 *       defined result of the clamp, never an accident of the arithmetic.</li>
 * </ul>
 * sa: activation scale, sw[j]: the weights' scale of column j, so/zo: this output's scale and zero point.
 * Every float operation is IEEE single precision in exactly this order, so every backend gives the same
 * bits (the tests check it).
 *
 * @param type      S32, F32, U8 or S8
 * @param scale     output scale (U8/S8 only; 1 otherwise)
 * @param zeroPoint output zero point (U8/S8 only; 0 otherwise)
 * @param relu      fused ReLU (F32, U8, S8)
 */
public record Int8Output(DType type, float scale, int zeroPoint, boolean relu) {
    public Int8Output {
        if (type == null) throw new NullPointerException("output type is null");
        switch (type) {
            case S32 -> {
                if (relu) throw new IllegalArgumentException("S32 output is the raw accumulator: no ReLU (use F32, U8 or S8)");
                if (scale != 1f || zeroPoint != 0) throw new IllegalArgumentException("S32 output takes no scale or zero point");
            }
            case F32 -> {
                if (scale != 1f || zeroPoint != 0) throw new IllegalArgumentException("F32 output takes no scale or zero point");
            }
            case U8, S8 -> {
                checkScale("output scale", scale);
                checkZeroPoint("output zero point", type, zeroPoint);
            }
        }
    }

    /** The exact s32 accumulators. */
    public static Int8Output s32() {
        return new Int8Output(DType.S32, 1f, 0, false);
    }

    /** Dequantized f32, optionally with ReLU. */
    public static Int8Output f32(boolean relu) {
        return new Int8Output(DType.F32, 1f, 0, relu);
    }

    /** Requantized u8 with the given scale and zero point. */
    public static Int8Output u8(float scale, int zeroPoint, boolean relu) {
        return new Int8Output(DType.U8, scale, zeroPoint, relu);
    }

    /** Requantized s8 with the given scale and zero point. */
    public static Int8Output s8(float scale, int zeroPoint, boolean relu) {
        return new Int8Output(DType.S8, scale, zeroPoint, relu);
    }

    /** Whether this output uses a bias (F32 and requantized outputs may; S32 may not). */
    public boolean takesBias() {
        return type != DType.S32;
    }

    /** Throws an IllegalArgumentException naming {@code name} unless scale is positive and finite. */
    public static void checkScale(String name, float scale) {
        if (!(scale > 0f) || !Float.isFinite(scale)) throw new IllegalArgumentException(name + " must be positive and finite, got " + scale);
    }

    static void checkZeroPoint(String name, DType type, int zeroPoint) {
        int lo = type == DType.U8 ? 0 : -128, hi = type == DType.U8 ? 255 : 127;
        if (zeroPoint < lo || zeroPoint > hi) {
            throw new IllegalArgumentException(name + " must be within " + type + "'s range [" + lo + ", " + hi + "], got " + zeroPoint);
        }
    }
}
