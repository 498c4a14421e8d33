package org.tessera.kernels.conv;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.tessera.kernels.spi.Conv2dShape;

/** The plain-Java depthwise kernel: the fallback when neither the Vector API nor the native library is usable. */
public final class ScalarDepthwiseConv2d implements DepthwiseConv2d {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

    @Override
    public String kernelId() {
        return "f32_dwconv2d__scalar";
    }

    @Override
    public void rows(Conv2dShape s, MemorySegment x, long xOff, MemorySegment wt, MemorySegment bias, long biasOff,
                     MemorySegment y, long yOff, boolean relu, int row0, int row1) {
        int c = s.c(), outH = s.outH(), outW = s.outW();
        for (int row = row0; row < row1; row++) {
            int n = row / outH, oh = row % outH;
            for (int ow = 0; ow < outW; ow++) {
                long out = yOff + ((long) row * outW + ow) * c;
                for (int ch = 0; ch < c; ch++) {
                    float acc = 0f;
                    for (int r = 0; r < s.r(); r++) {
                        int ih = oh * s.strideH() - s.padTop() + r * s.dilationH();
                        if (ih < 0 || ih >= s.h()) continue;
                        for (int t = 0; t < s.s(); t++) {
                            int iw = ow * s.strideW() - s.padLeft() + t * s.dilationW();
                            if (iw < 0 || iw >= s.w()) continue;
                            float xv = x.getAtIndex(F32, xOff + (((long) n * s.h() + ih) * s.w() + iw) * c + ch);
                            acc = Math.fma(xv, wt.getAtIndex(F32, ((long) r * s.s() + t) * c + ch), acc);
                        }
                    }
                    if (bias != null) acc += bias.getAtIndex(F32, biasOff + ch);
                    if (relu) acc = Math.max(acc, 0f); // NaN stays NaN
                    y.setAtIndex(F32, out + ch, acc);
                }
            }
        }
    }
}
