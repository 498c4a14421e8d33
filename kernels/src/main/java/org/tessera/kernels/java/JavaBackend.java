package org.tessera.kernels.java;

import java.util.List;
import org.tessera.kernels.MemoryKind;
import org.tessera.kernels.pool.HostPool2d;
import org.tessera.kernels.spi.Availability;
import org.tessera.kernels.spi.Backend;
import org.tessera.kernels.sparse.ScalarSpmmRows;
import org.tessera.kernels.sparse.SparseSpmm;
import org.tessera.kernels.sparse.SpmmRows;
import org.tessera.kernels.spi.ConvKernels;
import org.tessera.kernels.spi.OpFamily;
import org.tessera.kernels.spi.Support;

/**
 * The zero-native backend: Vector API kernels where the JVM offers the module, scalar Java otherwise.
 * Always available, so it ends every candidate list.
 */
public final class JavaBackend implements Backend {
    public static final String NAME = "java";

    private final ScalarF32Gemm scalarGemm = new ScalarF32Gemm();
    private final ScalarInt8Gemm scalarInt8Gemm = new ScalarInt8Gemm();
    private final ScalarElementwise scalarElementwise = new ScalarElementwise();
    private final ConvKernels scalarConv = VectorSupport.scalarConv();
    private final SparseSpmm scalarSparse = new SparseSpmm(new ScalarSpmmRows(), new ScalarSpmmRows());
    private volatile SparseSpmm sparse;
    /** Pooling is memory-bound: one Java implementation serves every host backend. */
    public static final HostPool2d POOL = new HostPool2d();

    /** Probed on first use: loading the Vector API costs start-up time that GEMM-only apps need not pay. */
    private static final class Vectors {
        static final VectorSupport SUPPORT = VectorSupport.detect();
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Availability availability() {
        // Not Vectors.SUPPORT: probing the Vector API here would make every app pay for it at start-up.
        return Availability.available("pure JVM, always available");
    }

    @Override
    public String details() {
        return Vectors.SUPPORT.description();
    }

    @Override
    public MemoryKind memoryKind() {
        return MemoryKind.HOST;
    }

    /** Whether the Vector API kernels are in use (false: scalar fallback). */
    public boolean vectorized() {
        return Vectors.SUPPORT.vectorized();
    }

    @Override
    public <T> Support<T> kernels(OpFamily<T> family) {
        if (family == OpFamily.ELEMENTWISE) return Support.of(family.kernelType().cast(Vectors.SUPPORT.elementwise()));
        if (family == OpFamily.F32_GEMM) return Support.of(family.kernelType().cast(Vectors.SUPPORT.gemm()));
        if (family == OpFamily.INT8_GEMM) return Support.of(family.kernelType().cast(Vectors.SUPPORT.int8Gemm()));
        if (family == OpFamily.CONV) return Support.of(family.kernelType().cast(Vectors.SUPPORT.conv()));
        if (family == OpFamily.POOL) return Support.of(family.kernelType().cast(POOL));
        if (family == OpFamily.SPARSE) {
            SparseSpmm s = sparse;
            if (s == null) sparse = s = new SparseSpmm(Vectors.SUPPORT.spmm(), Vectors.SUPPORT.spmm());
            return Support.of(family.kernelType().cast(s));
        }
        return Support.refused("no java " + family + " kernels yet");
    }

    @Override
    public <T> List<T> variants(OpFamily<T> family) {
        if (family == OpFamily.ELEMENTWISE && Vectors.SUPPORT.vectorized()) {
            return List.of(family.kernelType().cast(Vectors.SUPPORT.elementwise()), family.kernelType().cast(scalarElementwise));
        }
        if (family == OpFamily.F32_GEMM && Vectors.SUPPORT.vectorized()) {
            return List.of(family.kernelType().cast(Vectors.SUPPORT.gemm()), family.kernelType().cast(scalarGemm));
        }
        if (family == OpFamily.INT8_GEMM && Vectors.SUPPORT.vectorized()) {
            return List.of(family.kernelType().cast(Vectors.SUPPORT.int8Gemm()), family.kernelType().cast(scalarInt8Gemm));
        }
        if (family == OpFamily.CONV && Vectors.SUPPORT.vectorized()) {
            return List.of(family.kernelType().cast(Vectors.SUPPORT.conv()), family.kernelType().cast(scalarConv));
        }
        if (family == OpFamily.SPARSE && Vectors.SUPPORT.vectorized()) {
            return List.of(family.kernelType().cast(kernels(family).kernels()), family.kernelType().cast(scalarSparse));
        }
        return Backend.super.variants(family);
    }
}
