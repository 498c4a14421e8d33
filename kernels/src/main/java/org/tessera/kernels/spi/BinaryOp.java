package org.tessera.kernels.spi;

/** Elementwise binary ops of {@link ElementwiseKernels}. */
public enum BinaryOp {
    /** y = a + b. */
    ADD("vadd"),
    /** y = a * b. */
    MUL("vmul");

    private final String kernelName;

    BinaryOp(String kernelName) {
        this.kernelName = kernelName;
    }

    /** The op part of the kernel id, e.g. {@code vadd} in {@code f32_vadd__avx2}. */
    public String kernelName() {
        return kernelName;
    }
}
