package org.tessera.kernels.openblas;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.openblas.global.openblas;

/**
 * The two OpenBLAS entry points we call, bound through FFM on addresses JavaCPP's loader resolves:
 * {@code cblas_sgemm} on raw addresses (no Pointer objects per call) and {@code openblas_set_num_threads},
 * which the bytedeco preset does not map. Only this class names OpenBLAS types.
 */
record OpenBlasCalls(MethodHandle sgemm, MethodHandle setThreads) {
    static final int ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;

    static OpenBlasCalls load() {
        Loader.load(openblas.class);
        Linker linker = Linker.nativeLinker();
        ValueLayout i = ValueLayout.JAVA_INT, f = ValueLayout.JAVA_FLOAT, p = ValueLayout.ADDRESS;
        MethodHandle sgemm = linker.downcallHandle(symbol("cblas_sgemm"),
                FunctionDescriptor.ofVoid(i, i, i, i, i, i, f, p, i, p, i, f, p, i));
        MethodHandle threads = linker.downcallHandle(symbol("openblas_set_num_threads"), FunctionDescriptor.ofVoid(i));
        return new OpenBlasCalls(sgemm, threads);
    }

    private static MemorySegment symbol(String name) {
        Pointer address = Loader.addressof(name);
        if (address == null || address.address() == 0) throw new IllegalStateException(name + " not found in the loaded OpenBLAS");
        return MemorySegment.ofAddress(address.address());
    }
}
