package org.tessera.bench;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.convolution_forward;
import org.bytedeco.dnnl.engine;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.reorder;
import org.bytedeco.dnnl.stream;
import org.bytedeco.dnnl.global.dnnl;
import org.tessera.kernels.spi.Conv2dShape;

/**
 * The convolution peer (f32, or u8 x s8 -> s32): oneDNN's forward-inference convolution on NHWC activations (our layout, so both
 * sides do the same work on the same data), weights and bias reordered once into the layout oneDNN picks
 * ({@code format_tag.any}), as a framework does for inference. Threads: oneDNN's OpenMP (see
 * {@link OneDnnInt8Matmul#setThreads}). Every native object is held in a field so the GC cannot free it.
 */
final class OneDnnConv implements AutoCloseable {
    private final engine eng = new engine(engine.kind.cpu, 0);
    private final stream strm = new stream(eng);
    private final memory src, weights, userWeights, bias, dst;
    private final convolution_forward prim;
    private final IntMemoryMap args = new IntMemoryMap();
    private final String impl;

    /** x: NHWC, w: (k, r, s, c / groups) as in our kernels, bias: (k). Dilation and groups as in the shape. */
    OneDnnConv(Conv2dShape s, float[] x, float[] w, float[] b, int threads) {
        this(s, x, w, b, threads, false);
    }

    /**
     * The u8 x s8 peer: x NHWC u8 bytes, w (k, r, s, c / groups) s8 bytes, f32 bias, raw s32 output (no scales,
     * no zero points: less epilogue work than our requantized u8 output, so the comparison does not favour us).
     */
    static OneDnnConv int8(Conv2dShape s, byte[] x, byte[] w, float[] b, int threads) {
        return new OneDnnConv(s, x, w, b, threads, true);
    }

    private OneDnnConv(Conv2dShape s, Object x, Object w, float[] b, int threads, boolean int8) {
        OneDnnInt8Matmul.setThreads(threads);
        int g = s.groups();
        long[] srcDims = {s.n(), s.c(), s.h(), s.w()}, dstDims = {s.n(), s.k(), s.outH(), s.outW()};
        long[] wDims = g == 1 ? new long[] {s.k(), s.c(), s.r(), s.s()} : new long[] {g, s.k() / g, s.c() / g, s.r(), s.s()};
        memory.data_type srcType = int8 ? memory.data_type.u8 : memory.data_type.f32, weiType = int8 ? memory.data_type.s8 : memory.data_type.f32;
        memory.desc srcDesc = new memory.desc(srcDims, srcType, memory.format_tag.nhwc);
        memory.desc dstDesc = new memory.desc(dstDims, int8 ? memory.data_type.s32 : memory.data_type.f32, memory.format_tag.nhwc);
        memory.desc anyWeights = new memory.desc(wDims, weiType, memory.format_tag.any);
        memory.desc biasDesc = new memory.desc(new long[] {s.k()}, memory.data_type.f32, memory.format_tag.a);
        // oneDNN counts dilation from 0 (no gaps), we from 1.
        convolution_forward.primitive_desc pd = new convolution_forward.primitive_desc(eng, dnnl.prop_kind.forward_inference,
                dnnl.algorithm.convolution_direct, srcDesc, anyWeights, biasDesc, dstDesc, new long[] {s.strideH(), s.strideW()},
                new long[] {s.dilationH() - 1, s.dilationW() - 1}, new long[] {s.padTop(), s.padLeft()},
                new long[] {s.padBottom(), s.padRight()}, new org.bytedeco.dnnl.primitive_attr(), false);
        impl = pd.impl_info_str().getString();
        src = new memory(srcDesc, eng);
        dst = new memory(dstDesc, eng);
        bias = new memory(biasDesc, eng);
        // ours is (k, r, s, c/g) = oneDNN's ohwi (gohwi grouped)
        userWeights = new memory(new memory.desc(wDims, weiType, g == 1 ? memory.format_tag.ohwi : memory.format_tag.gohwi), eng);
        weights = new memory(pd.weights_desc(), eng);
        if (int8) {
            new BytePointer(src.get_data_handle()).capacity(((byte[]) x).length).put((byte[]) x);
            new BytePointer(userWeights.get_data_handle()).capacity(((byte[]) w).length).put((byte[]) w);
        } else {
            new FloatPointer(src.get_data_handle()).capacity(((float[]) x).length).put((float[]) x);
            new FloatPointer(userWeights.get_data_handle()).capacity(((float[]) w).length).put((float[]) w);
        }
        new FloatPointer(bias.get_data_handle()).capacity(b.length).put(b);
        new reorder(userWeights, weights).execute(strm, userWeights, weights);
        strm._wait();
        prim = new convolution_forward(pd);
        args.put(dnnl.DNNL_ARG_SRC, src);
        args.put(dnnl.DNNL_ARG_WEIGHTS, weights);
        args.put(dnnl.DNNL_ARG_BIAS, bias);
        args.put(dnnl.DNNL_ARG_DST, dst);
    }

    void run() {
        prim.execute(strm, args);
        strm._wait();
    }

    /** The implementation oneDNN chose, e.g. {@code brg_conv_fwd:avx2}. */
    String implementation() {
        return impl;
    }

    /** The NHWC output. */
    float[] result(int length) {
        float[] out = new float[length];
        new FloatPointer(dst.get_data_handle()).capacity(length).get(out);
        return out;
    }

    /** The NHWC s32 output of the int8 form. */
    int[] resultInts(int length) {
        int[] out = new int[length];
        new org.bytedeco.javacpp.IntPointer(dst.get_data_handle()).capacity(length).get(out);
        return out;
    }

    @Override
    public void close() {
        prim.close();
        src.close();
        dst.close();
        bias.close();
        weights.close();
        userWeights.close();
        args.close();
        strm.close();
        eng.close();
    }
}
