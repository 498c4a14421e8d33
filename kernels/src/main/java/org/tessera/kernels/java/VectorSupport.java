package org.tessera.kernels.java;

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
 * @param description what was chosen and why, for the info report
 * @param vectorized  whether the Panama kernels were chosen
 */
record VectorSupport(ElementwiseKernels elementwise, F32GemmKernels gemm, Int8GemmKernels int8Gemm, String description,
                     boolean vectorized) {
    static VectorSupport detect() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return scalar("Vector API module absent: start the JVM with --add-modules jdk.incubator.vector");
        }
        try {
            Class<?> elementwise = Class.forName("org.tessera.kernels.java.PanamaElementwise");
            int bits = (int) elementwise.getDeclaredMethod("bits").invoke(null);
            if (bits < 128) return scalar("preferred vector species is only " + bits + " bits");
            return new VectorSupport((ElementwiseKernels) construct(elementwise),
                    (F32GemmKernels) construct(Class.forName("org.tessera.kernels.java.PanamaF32Gemm")),
                    (Int8GemmKernels) construct(Class.forName("org.tessera.kernels.java.PanamaInt8Gemm")),
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
        return new VectorSupport(new ScalarElementwise(), new ScalarF32Gemm(), new ScalarInt8Gemm(), "scalar kernels: " + why, false);
    }
}
