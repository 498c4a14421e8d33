package org.tessera.kernels.spi;

import org.tessera.kernels.Storage;

/**
 * f32 elementwise kernels over row-major (rows, cols) blocks. Offsets and row strides ({@code ld*}) are
 * in elements. The output may be the input itself (in place) or disjoint from it; partial overlap is
 * undefined. Implementations extend {@link CheckedElementwise}, which validates every argument.
 */
public interface ElementwiseKernels {
    /** The kernel id that runs {@code op}, e.g. {@code f32_vrelu__avx2}. */
    String kernelId(UnaryOp op);

    /** The kernel id that runs {@code op}, e.g. {@code f32_vadd__panama256}. */
    String kernelId(BinaryOp op);

    /**
     * y = op(x) (with {@code alpha} for {@link UnaryOp#SCALE}; ignored otherwise).
     *
     * @throws IllegalArgumentException for bad sizes, strides, out-of-bounds blocks or foreign memory
     * @throws IllegalStateException    if an operand's memory is closed
     */
    void unary(UnaryOp op, float alpha, long rows, long cols,
               Storage x, long xOffset, long ldx, Storage y, long yOffset, long ldy);

    /**
     * y = a op b.
     *
     * @throws IllegalArgumentException for bad sizes, strides, out-of-bounds blocks or foreign memory
     * @throws IllegalStateException    if an operand's memory is closed
     */
    void binary(BinaryOp op, long rows, long cols, Storage a, long aOffset, long lda,
                Storage b, long bOffset, long ldb, Storage y, long yOffset, long ldy);
}
