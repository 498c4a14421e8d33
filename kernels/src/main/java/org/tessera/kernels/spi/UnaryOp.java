package org.tessera.kernels.spi;

/** Elementwise unary ops of {@link ElementwiseKernels}. */
public enum UnaryOp {
    /** y = max(x, 0); NaN propagates. */
    RELU("vrelu"),
    /** y = alpha * x. */
    SCALE("vscale");

    private final String kernelName;

    UnaryOp(String kernelName) {
        this.kernelName = kernelName;
    }

    /** The op part of the kernel id, e.g. {@code vrelu} in {@code f32_vrelu__avx2}. */
    public String kernelName() {
        return kernelName;
    }
}
