package org.tessera.nn;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tessera.Ops;
import org.tessera.Pool2dParams;
import org.tessera.kernels.DType;

/** Max or average pooling over (h, w) of NHWC activations. */
public final class Pool2d extends Layer {
    private final boolean max;
    private final Pool2dParams params;

    /** Max pooling ({@code max}) or average pooling with {@code params}. */
    public Pool2d(boolean max, Pool2dParams params) {
        this.max = max;
        this.params = java.util.Objects.requireNonNull(params, "params");
    }

    static Pool2d fromConfig(String type, Map<String, Object> c) {
        long[] k = Shapes.longs(c.get("kernel"), "kernel"), st = Shapes.longs(c.get("stride"), "stride"), pad = Shapes.longs(c.get("padding"), "padding");
        if (k.length != 2 || st.length != 2 || pad.length != 4) throw new IllegalArgumentException(type + ": kernel and stride take 2 values, padding 4");
        return new Pool2d(type.equals("maxpool2d"), new Pool2dParams((int) k[0], (int) k[1], (int) st[0], (int) st[1], (int) pad[0], (int) pad[1],
                (int) pad[2], (int) pad[3], !Boolean.FALSE.equals(c.get("count_padding"))));
    }

    @Override
    public String type() {
        return max ? "maxpool2d" : "avgpool2d";
    }

    /** Max (true) or average pooling. */
    public boolean isMax() {
        return max;
    }

    /** Window, stride and padding. */
    public Pool2dParams params() {
        return params;
    }

    @Override
    public long[] outputShape(long[] in) {
        Shapes.requireImage(type(), in);
        long oh = Conv2d.outSize(in[0], params.kh(), params.strideH(), params.padTop() + params.padBottom(), 1);
        long ow = Conv2d.outSize(in[1], params.kw(), params.strideW(), params.padLeft() + params.padRight(), 1);
        if (oh < 1 || ow < 1) throw new IllegalArgumentException(type() + ": the " + params.kh() + "x" + params.kw() + " window does not fit the " + in[0] + "x" + in[1] + " input");
        return new long[] {oh, ow, in[2]};
    }

    @Override
    public Map<String, Object> config() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("kernel", List.of(params.kh(), params.kw()));
        c.put("stride", List.of(params.strideH(), params.strideW()));
        c.put("padding", List.of(params.padTop(), params.padBottom(), params.padLeft(), params.padRight()));
        if (!max) c.put("count_padding", params.countPadding());
        return c;
    }

    @Override
    Step compile(Ops ops, long[] in, String label) {
        Step.Body body = max ? (x, y) -> ops.maxPool2d(x, params, y, null) : (x, y) -> ops.avgPool2d(x, params, y);
        return new Step(label, outputShape(in), DType.F32, body, null);
    }
}
