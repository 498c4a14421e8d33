package org.tessera.kernels.spi;

/** Elementwise binary ops of {@link ElementwiseKernels}. */
public enum BinaryOp {
    /** y = a + b. */
    ADD("vadd"),
    /** y = a * b. */
    MUL("vmul"),
    /**
     * y = b where a &gt; 0, else 0: the ReLU gradient, with a the ReLU's input or output and b the gradient of its
     * output. A NaN in a gives 0, as the scalar rule {@code a > 0 ? b : 0} does.
     */
    RELU_GRAD("vrelu_grad");

    private final String kernelName;

    BinaryOp(String kernelName) {
        this.kernelName = kernelName;
    }

    /** The op part of the kernel id, e.g. {@code vadd} in {@code f32_vadd__avx2}. */
    public String kernelName() {
        return kernelName;
    }
}
