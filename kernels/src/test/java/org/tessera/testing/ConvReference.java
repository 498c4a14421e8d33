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
}
