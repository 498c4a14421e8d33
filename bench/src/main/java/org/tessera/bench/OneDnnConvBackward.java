package org.tessera.bench;

import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.convolution_backward_data;
import org.bytedeco.dnnl.convolution_backward_weights;
import org.bytedeco.dnnl.convolution_forward;
import org.bytedeco.dnnl.engine;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.primitive;
import org.bytedeco.dnnl.primitive_attr;
import org.bytedeco.dnnl.reorder;
import org.bytedeco.dnnl.stream;
import org.bytedeco.dnnl.global.dnnl;
import org.bytedeco.javacpp.FloatPointer;
import org.tessera.kernels.spi.Conv2dShape;

/**
 * The training peer: oneDNN's f32 convolution backward, data (dx from dy and w) or weights (dw and db from x and
 * dy), on NHWC activations as ours. The filters (w, or dw) stay in the layout oneDNN picks ({@code format_tag.any}),
 * as in a training loop that keeps them there; ours are (k, r, s, c / groups). That spares oneDNN a reorder we do
 * not get to skip, so the comparison does not favour us. Every native object is held in a field so the GC cannot
 * free it.
 */
final class OneDnnConvBackward implements AutoCloseable {
    /** Which gradient the primitive computes. */
    enum Pass { DATA, WEIGHTS }

    private final engine eng = new engine(engine.kind.cpu, 0);
    private final stream strm = new stream(eng);
    private final memory act, diffDst, filters, userFilters, diffBias;
    private final primitive prim;
    private final IntMemoryMap args = new IntMemoryMap();
    private final String impl;
    private final Pass pass;

    /** x: the forward input (DATA: unused), dy: the output gradient, w: filters (WEIGHTS: unused), all as ours. */
    OneDnnConvBackward(Pass pass, Conv2dShape s, float[] x, float[] dy, float[] w, int threads) {
        this.pass = pass;
        OneDnnInt8Matmul.setThreads(threads);
        int g = s.groups();
        long[] srcDims = {s.n(), s.c(), s.h(), s.w()}, dstDims = {s.n(), s.k(), s.outH(), s.outW()};
        long[] wDims = g == 1 ? new long[] {s.k(), s.c(), s.r(), s.s()} : new long[] {g, s.k() / g, s.c() / g, s.r(), s.s()};
        memory.desc srcDesc = new memory.desc(srcDims, memory.data_type.f32, memory.format_tag.nhwc);
        memory.desc dstDesc = new memory.desc(dstDims, memory.data_type.f32, memory.format_tag.nhwc);
        memory.desc anyFilters = new memory.desc(wDims, memory.data_type.f32, memory.format_tag.any);
        memory.desc biasDesc = new memory.desc(new long[] {s.k()}, memory.data_type.f32, memory.format_tag.a);
        long[] strides = {s.strideH(), s.strideW()}, dilation = {s.dilationH() - 1, s.dilationW() - 1}; // oneDNN counts gaps
        long[] padL = {s.padTop(), s.padLeft()}, padR = {s.padBottom(), s.padRight()};
        convolution_forward.primitive_desc hint = new convolution_forward.primitive_desc(eng, dnnl.prop_kind.forward_training,
                dnnl.algorithm.convolution_direct, srcDesc, anyFilters, biasDesc, dstDesc, strides, dilation, padL, padR,
                new primitive_attr(), false);
        userFilters = new memory(new memory.desc(wDims, memory.data_type.f32, g == 1 ? memory.format_tag.ohwi : memory.format_tag.gohwi), eng);
        diffDst = new memory(dstDesc, eng);
        put(diffDst, dy);
        if (pass == Pass.DATA) {
            var pd = new convolution_backward_data.primitive_desc(eng, dnnl.algorithm.convolution_direct, srcDesc, anyFilters, dstDesc,
                    strides, dilation, padL, padR, hint, new primitive_attr(), false);
            impl = pd.impl_info_str().getString();
            act = new memory(srcDesc, eng);
            filters = new memory(pd.weights_desc(), eng);
            diffBias = null;
            put(userFilters, w);
            new reorder(userFilters, filters).execute(strm, userFilters, filters);
            strm._wait();
            prim = new convolution_backward_data(pd);
            args.put(dnnl.DNNL_ARG_DIFF_DST, diffDst);
            args.put(dnnl.DNNL_ARG_WEIGHTS, filters);
            args.put(dnnl.DNNL_ARG_DIFF_SRC, act);
        } else {
            var pd = new convolution_backward_weights.primitive_desc(eng, dnnl.algorithm.convolution_direct, srcDesc, anyFilters, biasDesc,
                    dstDesc, strides, dilation, padL, padR, hint, new primitive_attr(), false);
            impl = pd.impl_info_str().getString();
            act = new memory(srcDesc, eng);
            put(act, x);
            filters = new memory(pd.diff_weights_desc(), eng);
            diffBias = new memory(biasDesc, eng);
            prim = new convolution_backward_weights(pd);
            args.put(dnnl.DNNL_ARG_SRC, act);
            args.put(dnnl.DNNL_ARG_DIFF_DST, diffDst);
            args.put(dnnl.DNNL_ARG_DIFF_WEIGHTS, filters);
            args.put(dnnl.DNNL_ARG_DIFF_BIAS, diffBias);
        }
    }

    private static void put(memory m, float[] v) {
        new FloatPointer(m.get_data_handle()).capacity(v.length).put(v);
    }

    void run() {
        prim.execute(strm, args);
        strm._wait();
    }

    /** The implementation oneDNN chose, e.g. {@code brg_conv_bwd_w:avx512_core}. */
    String implementation() {
        return impl;
    }

    /** DATA: dx, NHWC. WEIGHTS: dw reordered to our (k, r, s, c / groups), then db. Not for the timed loop. */
    float[] result() {
        if (pass == Pass.DATA) {
            float[] out = new float[(int) (act.get_desc().get_size() / 4)];
            new FloatPointer(act.get_data_handle()).capacity(out.length).get(out);
            return out;
        }
        new reorder(filters, userFilters).execute(strm, filters, userFilters);
        strm._wait();
        int nw = (int) (userFilters.get_desc().get_size() / 4), nb = (int) (diffBias.get_desc().get_size() / 4);
        float[] out = new float[nw + nb];
        new FloatPointer(userFilters.get_data_handle()).capacity(nw).get(out, 0, nw);
        new FloatPointer(diffBias.get_data_handle()).capacity(nb).get(out, nw, nb);
        return out;
    }

    @Override
    public void close() {
        prim.close();
        act.close();
        diffDst.close();
        filters.close();
        userFilters.close();
        if (diffBias != null) diffBias.close();
        args.close();
        strm.close();
        eng.close();
    }
}
