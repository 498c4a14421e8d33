package org.tessera.testing;

import org.tessera.kernels.spi.Conv2dShape;

/** The direct convolution, seven loops, accumulating in double: what every conv kernel is checked against. */
public final class ConvReference {
    private ConvReference() {}

    /** y = act(conv(x, w) + bias), layouts as in {@link org.tessera.kernels.spi.ConvKernels}; bias may be null. */
    public static float[] conv2d(Conv2dShape s, float[] x, float[] w, float[] bias, boolean relu) {
        int outH = s.outH(), outW = s.outW(), cg = s.c() / s.groups(), kg = s.k() / s.groups();
        float[] y = new float[s.n() * outH * outW * s.k()];
        for (int n = 0; n < s.n(); n++) {
            for (int oh = 0; oh < outH; oh++) {
                for (int ow = 0; ow < outW; ow++) {
                    for (int k = 0; k < s.k(); k++) {
                        int g = k / kg;
                        double acc = 0;
                        for (int r = 0; r < s.r(); r++) {
                            int ih = oh * s.strideH() - s.padTop() + r * s.dilationH();
                            if (ih < 0 || ih >= s.h()) continue;
                            for (int t = 0; t < s.s(); t++) {
                                int iw = ow * s.strideW() - s.padLeft() + t * s.dilationW();
                                if (iw < 0 || iw >= s.w()) continue;
                                for (int c = 0; c < cg; c++) {
                                    acc += (double) x[((n * s.h() + ih) * s.w() + iw) * s.c() + g * cg + c]
                                            * w[((k * s.r() + r) * s.s() + t) * cg + c];
                                }
                            }
                        }
                        if (bias != null) acc += bias[k];
                        if (relu) acc = Math.max(acc, 0);
                        y[((n * outH + oh) * outW + ow) * s.k() + k] = (float) acc;
                    }
                }
            }
        }
        return y;
    }

    /** dx of the convolution (no activation) for output gradient dy, accumulated in double. */
    public static float[] backwardData(Conv2dShape s, float[] dy, float[] w) {
        double[] dx = new double[s.n() * s.h() * s.w() * s.c()];
        forEachTap(s, (xi, wi, yi) -> dx[xi] += (double) dy[yi] * w[wi]);
        return toFloats(dx);
    }

    /** dw of the convolution for output gradient dy and input x, accumulated in double. */
    public static float[] backwardWeights(Conv2dShape s, float[] x, float[] dy) {
        double[] dw = new double[s.k() * s.r() * s.s() * (s.c() / s.groups())];
        forEachTap(s, (xi, wi, yi) -> dw[wi] += (double) dy[yi] * x[xi]);
        return toFloats(dw);
    }

    /** db: dy summed over pixels. */
    public static float[] backwardBias(Conv2dShape s, float[] dy) {
        double[] db = new double[s.k()];
        for (int i = 0; i < dy.length; i++) db[i % s.k()] += dy[i];
        return toFloats(db);
    }

    private interface Tap {
        void at(int xIndex, int wIndex, int yIndex);
    }

    /** Every (input, filter, output) index triple the forward multiplies, padding skipped. */
    private static void forEachTap(Conv2dShape s, Tap tap) {
        int outH = s.outH(), outW = s.outW(), cg = s.c() / s.groups(), kg = s.k() / s.groups();
        for (int n = 0; n < s.n(); n++) {
            for (int oh = 0; oh < outH; oh++) {
                for (int ow = 0; ow < outW; ow++) {
                    for (int k = 0; k < s.k(); k++) {
                        int g = k / kg, yi = ((n * outH + oh) * outW + ow) * s.k() + k;
                        for (int r = 0; r < s.r(); r++) {
                            int ih = oh * s.strideH() - s.padTop() + r * s.dilationH();
                            if (ih < 0 || ih >= s.h()) continue;
                            for (int t = 0; t < s.s(); t++) {
                                int iw = ow * s.strideW() - s.padLeft() + t * s.dilationW();
                                if (iw < 0 || iw >= s.w()) continue;
                                for (int c = 0; c < cg; c++) {
                                    tap.at(((n * s.h() + ih) * s.w() + iw) * s.c() + g * cg + c, ((k * s.r() + r) * s.s() + t) * cg + c, yi);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private static float[] toFloats(double[] a) {
        float[] out = new float[a.length];
        for (int i = 0; i < a.length; i++) out[i] = (float) a[i];
        return out;
    }
}
