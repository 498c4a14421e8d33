package org.tessera.bench;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.engine;
import org.bytedeco.dnnl.matmul;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.reorder;
import org.bytedeco.dnnl.stream;
import org.bytedeco.dnnl.global.dnnl;

/**
 * The int8 peer: oneDNN's matmul, u8 (m, k) x s8 (k, n) -> s32 (m, n), weights reordered once into the
 * layout oneDNN picks ({@code format_tag.any}), as a framework would for inference. Threads: oneDNN's
 * OpenMP, set with {@code omp_set_num_threads} on the calling thread (found in the loaded library).
 * Every native object is held in a field: the GC would otherwise free it under oneDNN.
 */
final class OneDnnInt8Matmul implements AutoCloseable {
    private final engine eng = new engine(engine.kind.cpu, 0);
    private final stream strm = new stream(eng);
    private final memory src, weights, dst, userWeights;
    private final matmul prim;
    private final IntMemoryMap args = new IntMemoryMap();
    private final String impl;

    /** a: m*k u8 bytes, w: k*n s8 bytes, both row-major, copied into oneDNN memory. */
    OneDnnInt8Matmul(int m, int n, int k, byte[] a, byte[] w, int threads) {
        setThreads(threads);
        memory.desc srcDesc = new memory.desc(new long[] {m, k}, memory.data_type.u8, memory.format_tag.ab);
        memory.desc anyWeights = new memory.desc(new long[] {k, n}, memory.data_type.s8, memory.format_tag.any);
        memory.desc dstDesc = new memory.desc(new long[] {m, n}, memory.data_type.s32, memory.format_tag.ab);
        matmul.primitive_desc pd = new matmul.primitive_desc(eng, srcDesc, anyWeights, dstDesc);
        impl = pd.impl_info_str().getString();
        src = new memory(srcDesc, eng);
        dst = new memory(dstDesc, eng);
        userWeights = new memory(new memory.desc(new long[] {k, n}, memory.data_type.s8, memory.format_tag.ab), eng);
        weights = new memory(pd.weights_desc(), eng);
        new BytePointer(src.get_data_handle()).capacity(a.length).put(a);
        new BytePointer(userWeights.get_data_handle()).capacity(w.length).put(w);
        new reorder(userWeights, weights).execute(strm, userWeights, weights);
        strm._wait();
        prim = new matmul(pd);
        args.put(dnnl.DNNL_ARG_SRC, src);
        args.put(dnnl.DNNL_ARG_WEIGHTS, weights);
        args.put(dnnl.DNNL_ARG_DST, dst);
    }

    void run() {
        prim.execute(strm, args);
        strm._wait();
    }

    /** The implementation oneDNN chose, e.g. {@code brg_matmul:avx2_vnni}. */
    String implementation() {
        return impl;
    }

    /** Element {@code index} of the s32 (m, n) row-major result. */
    int result(long index) {
        return new IntPointer(dst.get_data_handle()).capacity(index + 1).get(index);
    }

    static void setThreads(int threads) {
        Loader.load(dnnl.class);
        Pointer address = Loader.addressof("omp_set_num_threads");
        if (address == null || address.address() == 0) throw new IllegalStateException("omp_set_num_threads not found next to oneDNN");
        MethodHandle set = Linker.nativeLinker().downcallHandle(java.lang.foreign.MemorySegment.ofAddress(address.address()),
                FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT));
        try {
            set.invokeExact(threads);
        } catch (Throwable e) {
            throw new IllegalStateException("omp_set_num_threads failed", e);
        }
    }

    @Override
    public void close() {
        prim.close();
        src.close();
        dst.close();
        weights.close();
        userWeights.close();
        args.close();
        strm.close();
        eng.close();
    }
}
