package org.tessera.bench;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.ByteOrder;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.openblas.global.openblas;

/**
 * The OpenBLAS peer (bytedeco): sgemm on our own off-heap buffers (no copies), with its thread count set
 * through {@code openblas_set_num_threads}, which the preset does not map: found with
 * {@link Loader#addressof} and called through FFM.
 */
final class OpenBlas {
    private static final MethodHandle SET_THREADS;

    static {
        Loader.load(openblas.class);
        Pointer symbol = Loader.addressof("openblas_set_num_threads");
        long address = symbol == null ? 0 : symbol.address();
        if (address == 0) throw new IllegalStateException("openblas_set_num_threads not found in the loaded OpenBLAS");
        SET_THREADS = Linker.nativeLinker().downcallHandle(MemorySegment.ofAddress(address), FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT));
    }

    private OpenBlas() {}

    static void setThreads(int threads) {
        try {
            SET_THREADS.invokeExact(threads);
        } catch (Throwable t) {
            throw new IllegalStateException("openblas_set_num_threads failed", t);
        }
    }

    /** A JavaCPP view of a native segment's floats (no copy). */
    static FloatPointer pointer(MemorySegment segment) {
        return new FloatPointer(segment.asByteBuffer().order(ByteOrder.nativeOrder()).asFloatBuffer());
    }

    /** Row-major C = A * B, like our sgemm with alpha = 1, beta = 0. */
    static void sgemm(int m, int n, int k, FloatPointer a, FloatPointer b, FloatPointer c) {
        openblas.cblas_sgemm(openblas.CblasRowMajor, openblas.CblasNoTrans, openblas.CblasNoTrans, m, n, k, 1f, a, k, b, n, 0f, c, n);
    }
}
