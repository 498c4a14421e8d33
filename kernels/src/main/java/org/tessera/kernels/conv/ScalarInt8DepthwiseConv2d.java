package org.tessera.kernels.conv;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import org.tessera.kernels.DType;
import org.tessera.kernels.Int8Epilogue;
import org.tessera.kernels.spi.Conv2dShape;
import org.tessera.kernels.spi.Int8Input;
import org.tessera.kernels.spi.Int8Output;

/** The int8 depthwise convolution element by element ({@code i8_dwconv2d__scalar}): the fallback without the Vector API. */
public final class ScalarInt8DepthwiseConv2d implements Int8DepthwiseConv2d {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ThreadLocal<int[][]> ACC = ThreadLocal.withInitial(() -> new int[1][0]);

    @Override
    public String kernelId() {
        return "i8_dwconv2d__scalar";
    }

    @Override
    public void rows(Conv2dShape s, Int8Input xq, MemorySegment x, long xOff, MemorySegment wt, MemorySegment scales, Int8Output out,
                     MemorySegment bias, long biasOff, MemorySegment y, long yOff, int row0, int row1) {
        int c = s.c(), outH = s.outH(), outW = s.outW(), za = xq.zeroPoint();
        boolean signed = xq.type() == DType.S8;
        int[] acc = accumulators(c);
        for (int row = row0; row < row1; row++) {
            int n = row / outH, oh = row % outH;
            int hBase = oh * s.strideH() - s.padTop();
            int r0 = Taps.first(hBase, s.dilationH()), r1 = Taps.end(hBase, s.dilationH(), s.h(), s.r());
            for (int ow = 0; ow < outW; ow++) {
                int wBase = ow * s.strideW() - s.padLeft();
                int t0 = Taps.first(wBase, s.dilationW()), t1 = Taps.end(wBase, s.dilationW(), s.w(), s.s());
                Arrays.fill(acc, 0, c, 0);
                for (int r = r0; r < r1; r++) {
                    long xRow = xOff + (((long) n * s.h() + hBase + r * s.dilationH()) * s.w() + wBase) * c;
                    for (int t = t0; t < t1; t++) {
                        long xi = xRow + (long) t * s.dilationW() * c, wi = (long) (r * s.s() + t) * c;
                        if (signed) {
                            for (int ch = 0; ch < c; ch++) acc[ch] += (x.get(ValueLayout.JAVA_BYTE, xi + ch) - za) * wt.get(ValueLayout.JAVA_BYTE, wi + ch);
                        } else {
                            for (int ch = 0; ch < c; ch++) {
                                acc[ch] += ((x.get(ValueLayout.JAVA_BYTE, xi + ch) & 0xFF) - za) * wt.get(ValueLayout.JAVA_BYTE, wi + ch);
                            }
                        }
                    }
                }
                long o = yOff + ((long) row * outW + ow) * c;
                for (int ch = 0; ch < c; ch++) {
                    float b = bias == null ? 0f : bias.getAtIndex(F32, biasOff + ch);
                    Int8Epilogue.store(out, y, o + ch, acc[ch], xq.scale(), scales.getAtIndex(ValueLayout.JAVA_FLOAT, ch), b);
                }
            }
        }
    }

    private static int[] accumulators(int c) {
        int[][] held = ACC.get();
        if (held[0].length < c) held[0] = new int[c];
        return held[0];
    }
}
