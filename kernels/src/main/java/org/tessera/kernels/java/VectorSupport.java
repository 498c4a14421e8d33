package org.tessera.kernels.java;

import org.tessera.kernels.conv.DepthwiseConv2d;
import org.tessera.kernels.conv.DirectConv2d;
import org.tessera.kernels.conv.GemmConv2d;
import org.tessera.kernels.conv.Int8DepthwiseConv2d;
import org.tessera.kernels.conv.ScalarDepthwiseConv2d;
import org.tessera.kernels.conv.ScalarInt8DepthwiseConv2d;
import org.tessera.kernels.sparse.ScalarSpmmRows;
import org.tessera.kernels.sparse.SpmmRows;
import org.tessera.kernels.spi.ConvKernels;
import org.tessera.kernels.spi.ElementwiseKernels;
import org.tessera.kernels.spi.F32GemmKernels;
import org.tessera.kernels.spi.Int8GemmKernels;

/**
 * Finds out once whether the Vector API can be used, Lucene-style: the Panama classes are constructed
 * reflectively, and any failure (JVM started without {@code --add-modules jdk.incubator.vector}, a
 * species too narrow to pay off) selects the scalar kernels with one line saying why.
 *
 * @param elementwise the elementwise kernels to use
 * @param gemm        the f32 GEMM to use
 * @param int8Gemm    the int8 GEMM to use
 * @param conv        the convolutions to use (the GEMM above, plus a depthwise kernel)
 * @param int8Depthwise the int8 depthwise kernel, which the native backend shares
 * @param spmm        the sparse product bodies (f32 and int8)
 * @param description what was chosen and why, for the info report
 * @param vectorized  whether the Panama kernels were chosen
 */
record VectorSupport(ElementwiseKernels elementwise, F32GemmKernels gemm, Int8GemmKernels int8Gemm, ConvKernels conv,
                     Int8DepthwiseConv2d int8Depthwise, SpmmRows spmm, String description, boolean vectorized) {
    static VectorSupport detect() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return scalar("Vector API module absent: start the JVM with --add-modules jdk.incubator.vector");
        }
        try {
            Class<?> elementwise = Class.forName("org.tessera.kernels.java.PanamaElementwise");
            int bits = (int) elementwise.getDeclaredMethod("bits").invoke(null);
            if (bits < 128) return scalar("preferred vector species is only " + bits + " bits");
            F32GemmKernels gemm = (F32GemmKernels) construct(Class.forName("org.tessera.kernels.java.PanamaF32Gemm"));
            Int8GemmKernels int8Gemm = (Int8GemmKernels) construct(Class.forName("org.tessera.kernels.java.PanamaInt8Gemm"));
            Int8DepthwiseConv2d int8Depthwise = (Int8DepthwiseConv2d) construct(Class.forName("org.tessera.kernels.java.PanamaInt8DepthwiseConv2d"));
            return new VectorSupport((ElementwiseKernels) construct(elementwise), gemm, int8Gemm,
                    new GemmConv2d(gemm, (DepthwiseConv2d) construct(Class.forName("org.tessera.kernels.java.PanamaDepthwiseConv2d")), int8Gemm,
                            int8Depthwise, null, null, (DirectConv2d) construct(Class.forName("org.tessera.kernels.java.PanamaDirectConv2d"))),
                    int8Depthwise, (SpmmRows) construct(Class.forName("org.tessera.kernels.java.PanamaSpmmRows")),
                    "Vector API, " + bits + "-bit preferred species", true);
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            return scalar("Vector API unusable (" + e + ")");
        }
    }

    private static Object construct(Class<?> cls) throws ReflectiveOperationException {
        var ctor = cls.getDeclaredConstructor();
        return ctor.newInstance();
    }

    private static VectorSupport scalar(String why) {
        return new VectorSupport(new ScalarElementwise(), new ScalarF32Gemm(), new ScalarInt8Gemm(), scalarConv(), new ScalarInt8DepthwiseConv2d(),
                new ScalarSpmmRows(),
                "scalar kernels: " + why,
                false);
    }

    /** Convolution on the scalar GEMM and depthwise kernels. */
    static ConvKernels scalarConv() {
        return new GemmConv2d(new ScalarF32Gemm(), new ScalarDepthwiseConv2d(), new ScalarInt8Gemm(), new ScalarInt8DepthwiseConv2d());
    }
}
