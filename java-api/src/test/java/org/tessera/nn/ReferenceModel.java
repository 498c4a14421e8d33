package org.tessera.nn;

import java.util.List;
import java.util.Map;
import org.tessera.Conv2dParams;
import org.tessera.Pool2dParams;
import org.tessera.Tensor;

/**
 * A scalar double-precision forward pass over a model's parameters in their PyTorch layouts, written from
 * the layer definitions and independent of the kernels, plans and folding it checks. BatchNorm is applied
 * unfolded; flatten follows PyTorch's (c, h, w) order.
 */
final class ReferenceModel {
    private ReferenceModel() {}

    /** The model on one example (per-example shape inShape), flattened row-major. */
    static double[] forward(Sequential model, double[] x) {
        long[] shape = model.inputShape();
        for (Layer layer : model.layers()) {
            long[] out = layer.outputShape(shape);
            x = layer(layer, x, shape, out);
            shape = out;
        }
        return x;
    }

    private static double[] layer(Layer layer, double[] x, long[] in, long[] out) {
        Map<String, Tensor> p = layer.parameters();
        return switch (layer) {
            case Linear l -> linear(x, p.get("weight").toFloatArray(), p.containsKey("bias") ? p.get("bias").toFloatArray() : null, l.inFeatures(), l.outFeatures());
            case Conv2d c -> conv(x, c, in, out);
            case BatchNorm b -> {
                float[] g = p.get("weight").toFloatArray(), be = p.get("bias").toFloatArray(), m = p.get("running_mean").toFloatArray(), v = p.get("running_var").toFloatArray();
                double[] y = new double[x.length];
                for (int i = 0; i < x.length; i++) {
                    int ch = i % b.channels();
                    y[i] = (x[i] - m[ch]) / Math.sqrt(v[ch] + (double) b.eps()) * g[ch] + be[ch];
                }
                yield y;
            }
            case Nonlinearity n -> {
                double[] y = new double[x.length];
                for (int i = 0; i < x.length; i++) y[i] = n.kind().apply(x[i]);
                yield y;
            }
            case Pool2d pool -> pool(x, pool.isMax(), pool.params(), in, out);
            case GlobalAvgPool g -> {
                int hw = (int) (in[0] * in[1]), c = (int) in[2];
                double[] y = new double[c];
                for (int i = 0; i < hw; i++) for (int ch = 0; ch < c; ch++) y[ch] += x[i * c + ch] / hw;
                yield y;
            }
            case Flatten f -> {
                if (in.length != 3) yield x.clone();
                int hw = (int) (in[0] * in[1]), c = (int) in[2];
                double[] y = new double[x.length];
                for (int i = 0; i < hw; i++) for (int ch = 0; ch < c; ch++) y[ch * hw + i] = x[i * c + ch];
                yield y;
            }
            case Dropout d -> x.clone();
            case Softmax s -> {
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (double v : x) max = Math.max(max, v);
                for (double v : x) sum += Math.exp(v - max);
                double[] y = new double[x.length];
                for (int i = 0; i < x.length; i++) y[i] = s.isLog() ? x[i] - max - Math.log(sum) : Math.exp(x[i] - max) / sum;
                yield y;
            }
            default -> throw new AssertionError("no reference for " + layer.type());
        };
    }

    static double[] linear(double[] x, float[] w, float[] b, int in, int out) {
        double[] y = new double[out];
        for (int o = 0; o < out; o++) {
            double s = b == null ? 0 : b[o];
            for (int i = 0; i < in; i++) s += (double) w[o * in + i] * x[i];
            y[o] = s;
        }
        return y;
    }

    private static double[] conv(double[] x, Conv2d c, long[] in, long[] out) {
        float[] w = c.weight().toFloatArray();
        float[] b = c.bias() == null ? null : c.bias().toFloatArray();
        Conv2dParams p = c.params();
        int h = (int) in[0], wd = (int) in[1], ci = (int) in[2], oh = (int) out[0], ow = (int) out[1], co = (int) out[2];
        int kh = c.window()[0], kw = c.window()[1], g = p.groups(), cg = ci / g, kg = co / g;
        double[] y = new double[oh * ow * co];
        for (int oy = 0; oy < oh; oy++) for (int ox = 0; ox < ow; ox++) for (int k = 0; k < co; k++) {
            double s = b == null ? 0 : b[k];
            int group = k / kg;
            for (int r = 0; r < kh; r++) for (int q = 0; q < kw; q++) {
                int iy = oy * p.strideH() - p.padTop() + r * p.dilationH(), ix = ox * p.strideW() - p.padLeft() + q * p.dilationW();
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                for (int cc = 0; cc < cg; cc++) {
                    s += (double) w[((k * cg + cc) * kh + r) * kw + q] * x[(iy * wd + ix) * ci + group * cg + cc];
                }
            }
            y[(oy * ow + ox) * co + k] = s;
        }
        return y;
    }

    private static double[] pool(double[] x, boolean max, Pool2dParams p, long[] in, long[] out) {
        int h = (int) in[0], w = (int) in[1], c = (int) in[2], oh = (int) out[0], ow = (int) out[1];
        double[] y = new double[oh * ow * c];
        for (int oy = 0; oy < oh; oy++) for (int ox = 0; ox < ow; ox++) for (int ch = 0; ch < c; ch++) {
            double acc = max ? Double.NEGATIVE_INFINITY : 0;
            int count = 0;
            for (int r = 0; r < p.kh(); r++) for (int q = 0; q < p.kw(); q++) {
                int iy = oy * p.strideH() - p.padTop() + r, ix = ox * p.strideW() - p.padLeft() + q;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                double v = x[(iy * w + ix) * c + ch];
                acc = max ? Math.max(acc, v) : acc + v;
                count++;
            }
            y[(oy * ow + ox) * c + ch] = max ? acc : acc / (p.countPadding() ? p.kh() * p.kw() : count);
        }
        return y;
    }

}
