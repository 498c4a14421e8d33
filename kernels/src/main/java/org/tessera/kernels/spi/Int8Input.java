package org.tessera.kernels.spi;

import org.tessera.kernels.DType;

/**
 * How the int8 activations (A) of an int8 GEMM are quantized: {@code real = scale * (q - zeroPoint)}.
 *
 * @param type      {@link DType#U8} (asymmetric, the usual choice after ReLU) or {@link DType#S8}
 * @param scale     real value of one step; positive and finite
 * @param zeroPoint the quantized value of real 0, within the type's range
 */
public record Int8Input(DType type, float scale, int zeroPoint) {
    public Int8Input {
        if (type != DType.U8 && type != DType.S8) throw new IllegalArgumentException("int8 activations are U8 or S8, got " + type);
        Int8Output.checkScale("activation scale", scale);
        Int8Output.checkZeroPoint("activation zero point", type, zeroPoint);
    }

    /** u8 activations. */
    public static Int8Input u8(float scale, int zeroPoint) {
        return new Int8Input(DType.U8, scale, zeroPoint);
    }

    /** s8 activations. */
    public static Int8Input s8(float scale, int zeroPoint) {
        return new Int8Input(DType.S8, scale, zeroPoint);
    }
}
