package org.tessera.kernels;

import java.lang.foreign.ValueLayout;

/** Element types of tensors and kernel operands. */
public enum DType {
    /** IEEE-754 binary32. */
    F32(4, ValueLayout.JAVA_FLOAT_UNALIGNED),
    /** Signed 8-bit integer, -128..127 (quantized weights). */
    S8(1, ValueLayout.JAVA_BYTE),
    /** Unsigned 8-bit integer, 0..255 (quantized activations); stored as a byte, read with {@code & 0xFF}. */
    U8(1, ValueLayout.JAVA_BYTE),
    /** Signed 32-bit integer (int8 GEMM accumulators). */
    S32(4, ValueLayout.JAVA_INT_UNALIGNED);

    private final int byteSize;
    private final ValueLayout layout;

    DType(int byteSize, ValueLayout layout) {
        this.byteSize = byteSize;
        this.layout = layout;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** The FFM layout of one element (native byte order, alignment 1 so views may start anywhere). */
    public ValueLayout layout() {
        return layout;
    }
}
