package org.tessera.nn;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tessera.Activation;
import org.tessera.Conv2dParams;
import org.tessera.Layouts;
import org.tessera.Ops;
import org.tessera.PackedConv;
import org.tessera.Pool2dParams;
import org.tessera.Tensor;
import org.tessera.kernels.DType;

/**
 * 2-D convolution on NHWC activations, with groups (groups = channels is a depthwise convolution). Filters
 * (out, in / groups, kh, kw) and bias (out) as in PyTorch; inference converts them once to the kernels'
 * (out, kh, kw, in / groups) and fuses a following BatchNorm (folded) and ReLU.
 */
public final class Conv2d extends WeightedLayer {
    private final int in, out, kh, kw;
    private final Conv2dParams params;

    /**
     * A convolution from {@code in} to {@code out} channels with a kh x kw window; parameters start at zero.
     *
     * @throws IllegalArgumentException if a size is below 1 or the channels are not multiples of the groups
     */
    public Conv2d(int in, int out, int kh, int kw, Conv2dParams params, boolean bias) {
        super(checked(in, out, kh, kw, params), bias);
        this.in = in;
        this.out = out;
        this.kh = kh;
        this.kw = kw;
        this.params = params;
    }

    private static long[] checked(int in, int out, int kh, int kw, Conv2dParams params) {
        if (in < 1 || out < 1 || kh < 1 || kw < 1) {
            throw new IllegalArgumentException("conv2d: channels and window must be >= 1, got in " + in + ", out " + out + ", window " + kh + "x" + kw);
        }
        int g = params.groups();
        if (in % g != 0 || out % g != 0) {
            throw new IllegalArgumentException("conv2d: in (" + in + ") and out (" + out + ") channels must be multiples of groups (" + g + ")");
        }
        return new long[] {out, in / g, kh, kw};
    }

    static Conv2d fromConfig(Map<String, Object> c) {
        long[] k = Shapes.longs(c.get("kernel"), "kernel"), st = Shapes.longs(c.get("stride"), "stride");
        long[] pad = Shapes.longs(c.get("padding"), "padding"), dil = Shapes.longs(c.get("dilation"), "dilation");
        if (k.length != 2 || st.length != 2 || pad.length != 4 || dil.length != 2) {
            throw new IllegalArgumentException("conv2d: kernel, stride and dilation take 2 values, padding 4 (top, bottom, left, right)");
        }
        Conv2dParams p = new Conv2dParams((int) st[0], (int) st[1], (int) pad[0], (int) pad[1], (int) pad[2], (int) pad[3], (int) dil[0],
                (int) dil[1], Shapes.integer(c.get("groups"), "groups"));
        return new Conv2d(Shapes.integer(c.get("in"), "in"), Shapes.integer(c.get("out"), "out"), (int) k[0], (int) k[1], p,
                Boolean.TRUE.equals(c.get("bias")));
    }

    @Override
    public String type() {
        return "conv2d";
    }

    /** Input channels. */
    public int inChannels() {
        return in;
    }

    /** Output channels. */
    public int outChannels() {
        return out;
    }

    /** Stride, padding, dilation and groups. */
    public Conv2dParams params() {
        return params;
    }

    /** Window height and width. */
    public int[] window() {
        return new int[] {kh, kw};
    }

    @Override
    public long[] outputShape(long[] shape) {
        Shapes.requireImage("conv2d", shape);
        if (shape[2] != in) throw new IllegalArgumentException("conv2d expects " + in + " input channels, got " + shape[2] + " (shape " + Shapes.str(shape) + ")");
        long oh = outSize(shape[0], kh, params.strideH(), params.padTop() + params.padBottom(), params.dilationH());
        long ow = outSize(shape[1], kw, params.strideW(), params.padLeft() + params.padRight(), params.dilationW());
        if (oh < 1 || ow < 1) {
            throw new IllegalArgumentException("conv2d: the " + kh + "x" + kw + " window (dilated) does not fit the padded " + shape[0] + "x" + shape[1] + " input");
        }
        return new long[] {oh, ow, out};
    }

    static long outSize(long size, int window, int stride, int pad, int dilation) {
        long span = (long) dilation * (window - 1) + 1;
        return size + pad < span ? 0 : (size + pad - span) / stride + 1;
    }

    @Override
    public Map<String, Object> config() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("in", in);
        c.put("out", out);
        c.put("kernel", List.of(kh, kw));
        c.put("stride", List.of(params.strideH(), params.strideW()));
        c.put("padding", List.of(params.padTop(), params.padBottom(), params.padLeft(), params.padRight()));
        c.put("dilation", List.of(params.dilationH(), params.dilationW()));
        c.put("groups", params.groups());
        c.put("bias", bias() != null);
        return c;
    }

    /**
     * This layer and a max pooling after it as one step, when the pooling is non-overlapping (window = stride,
     * no padding) and the backend has a fused kernel for them; null otherwise.
     */
    Step compileWithMaxPool(Ops ops, long[] inShape, String label, BatchNorm folded, Activation act, Pool2d pool) {
        Pool2dParams pp = pool.params();
        if (!pool.isMax() || pp.kh() != pp.kw() || pp.strideH() != pp.kh() || pp.strideW() != pp.kw()
                || pp.padTop() + pp.padBottom() + pp.padLeft() + pp.padRight() != 0) {
            return null;
        }
        int window = pp.kh();
        long[] convOut = outputShape(inShape), out = pool.outputShape(convOut);
        Folded f = Folded.of(weight(), bias(), folded, this.out);
        Tensor w;
        try (Tensor kcrs = f.weight()) {
            w = Layouts.filtersFromKcrs(kcrs);
        }
        Tensor b = f.bias();
        if (ops.conv2dMaxPoolKernelId(inShape, w, params, window) == null) {
            w.close();
            if (b != null) b.close();
            return null;
        }
        return new Step(label, out, DType.F32, (x, y) -> ops.conv2dMaxPool(x, w, b, params, act, window, y), () -> {
            w.close();
            if (b != null) b.close();
        });
    }

    /** The filters are packed once for the plan (no per-call packing; on native, the implicit GEMM's layout). */
    @Override
    Step compile(Ops ops, long[] inShape, String label, BatchNorm folded, Activation act) {
        Folded f = Folded.of(weight(), bias(), folded, out);
        PackedConv packed;
        try (Tensor kcrs = f.weight(); Tensor w = Layouts.filtersFromKcrs(kcrs)) {
            packed = ops.packConv(w, params);
        }
        Tensor b = f.bias();
        return new Step(label, outputShape(inShape), DType.F32, (x, y) -> ops.conv2d(x, packed, b, act, y), () -> {
            packed.close();
            if (b != null) b.close();
        });
    }
}
