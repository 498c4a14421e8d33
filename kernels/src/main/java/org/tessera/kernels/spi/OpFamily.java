package org.tessera.kernels.spi;

import java.util.List;

/**
 * An op family of the SPI: one kernel interface per family. Backends are asked for a family and either
 * provide its kernels or say why not ({@link Support}).
 *
 * @param name       short name used in logs, e.g. "f32-gemm"
 * @param kernelType the interface a backend implements for this family
 * @param <T>        that interface
 */
public record OpFamily<T>(String name, Class<T> kernelType) {
    public static final OpFamily<ElementwiseKernels> ELEMENTWISE = new OpFamily<>("elementwise", ElementwiseKernels.class);
    public static final OpFamily<F32GemmKernels> F32_GEMM = new OpFamily<>("f32-gemm", F32GemmKernels.class);
    public static final OpFamily<Int8GemmKernels> INT8_GEMM = new OpFamily<>("int8-gemm", Int8GemmKernels.class);
    public static final OpFamily<ConvKernels> CONV = new OpFamily<>("conv", ConvKernels.class);
    public static final OpFamily<PoolKernels> POOL = new OpFamily<>("pool", PoolKernels.class);
    public static final OpFamily<SparseKernels> SPARSE = new OpFamily<>("sparse", SparseKernels.class);

    /** Every family, in the order reports list them. */
    public static List<OpFamily<?>> all() {
        return List.of(ELEMENTWISE, F32_GEMM, INT8_GEMM, CONV, POOL, SPARSE);
    }

    @Override
    public String toString() {
        return name;
    }
}
