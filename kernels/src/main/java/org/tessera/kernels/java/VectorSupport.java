package org.tessera.kernels.java;

import org.tessera.kernels.spi.ElementwiseKernels;

/**
 * Finds out once whether the Vector API can be used, Lucene-style: the Panama classes are constructed
 * reflectively, and any failure (JVM started without {@code --add-modules jdk.incubator.vector}, a
 * species too narrow to pay off) selects the scalar kernels with one line saying why.
 *
 * @param elementwise the elementwise kernels to use
 * @param description what was chosen and why, for the info report
 * @param vectorized  whether the Panama kernels were chosen
 */
record VectorSupport(ElementwiseKernels elementwise, String description, boolean vectorized) {
    static VectorSupport detect() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return scalar("Vector API module absent: start the JVM with --add-modules jdk.incubator.vector");
        }
        try {
            Class<?> cls = Class.forName("org.tessera.kernels.java.PanamaElementwise");
            var ctor = cls.getDeclaredConstructor();
            ElementwiseKernels panama = (ElementwiseKernels) ctor.newInstance();
            int bits = (int) cls.getDeclaredMethod("bits").invoke(null);
            if (bits < 128) return scalar("preferred vector species is only " + bits + " bits");
            return new VectorSupport(panama, "Vector API, " + bits + "-bit preferred species", true);
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            return scalar("Vector API unusable (" + e + ")");
        }
    }

    private static VectorSupport scalar(String why) {
        return new VectorSupport(new ScalarElementwise(), "scalar kernels: " + why, false);
    }
}
