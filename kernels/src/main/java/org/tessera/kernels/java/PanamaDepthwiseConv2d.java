package org.tessera.kernels.java;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;
import org.tessera.kernels.conv.DepthwiseConv2d;
import org.tessera.kernels.conv.Taps;
import org.tessera.kernels.spi.Conv2dShape;

/**
 * Vector API depthwise convolution ({@code f32_dwconv2d__panama<bits>}): per output pixel, channels a vector
 * at a time, the in-bounds taps only (their range is computed once per row and per pixel, so the inner loop
 * has no bounds tests). Loaded reflectively, like every Panama kernel.
 */
final class PanamaDepthwiseConv2d implements DepthwiseConv2d {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    @Override
    public String kernelId() {
        return "f32_dwconv2d__panama" + S.vectorBitSize();
    }

    @Override
    public void rows(Conv2dShape s, MemorySegment x, long xOff, MemorySegment wt, MemorySegment bias, long biasOff,
                     MemorySegment y, long yOff, boolean relu, int row0, int row1) {
        int c = s.c(), outH = s.outH(), outW = s.outW(), vc = c / L * L;
        VectorMask<Float> tail = S.indexInRange(vc, c);
        for (int row = row0; row < row1; row++) {
            int n = row / outH, oh = row % outH;
            int hBase = oh * s.strideH() - s.padTop();
            int r0 = Taps.first(hBase, s.dilationH()), r1 = Taps.end(hBase, s.dilationH(), s.h(), s.r());
            for (int ow = 0; ow < outW; ow++) {
                int wBase = ow * s.strideW() - s.padLeft();
                int t0 = Taps.first(wBase, s.dilationW()), t1 = Taps.end(wBase, s.dilationW(), s.w(), s.s());
                long out = 4 * (yOff + ((long) row * outW + ow) * c);
                for (int ch = 0; ch < vc; ch += L) { // whole vectors: no masks in the hot loop
                    FloatVector acc = FloatVector.zero(S);
                    for (int r = r0; r < r1; r++) {
                        long xRow = xOff + (((long) n * s.h() + hBase + r * s.dilationH()) * s.w() + wBase) * c + ch;
                        long wRow = (long) r * s.s() * c + ch;
                        for (int t = t0; t < t1; t++) {
                            long xi = 4 * (xRow + (long) t * s.dilationW() * c), wi = 4 * (wRow + (long) t * c);
                            acc = FloatVector.fromMemorySegment(S, x, xi, ORDER).fma(FloatVector.fromMemorySegment(S, wt, wi, ORDER), acc);
                        }
                    }
                    if (bias != null) acc = acc.add(FloatVector.fromMemorySegment(S, bias, 4 * (biasOff + ch), ORDER));
                    if (relu) acc = acc.max(0f); // lanewise Math.max: NaN stays NaN
                    acc.intoMemorySegment(y, out + 4L * ch, ORDER);
                }
                if (vc < c) { // the channel tail, masked
                    FloatVector acc = FloatVector.zero(S);
                    for (int r = r0; r < r1; r++) {
                        long xRow = xOff + (((long) n * s.h() + hBase + r * s.dilationH()) * s.w() + wBase) * c + vc;
                        long wRow = (long) r * s.s() * c + vc;
                        for (int t = t0; t < t1; t++) {
                            long xi = 4 * (xRow + (long) t * s.dilationW() * c), wi = 4 * (wRow + (long) t * c);
                            acc = FloatVector.fromMemorySegment(S, x, xi, ORDER, tail).fma(FloatVector.fromMemorySegment(S, wt, wi, ORDER, tail), acc);
                        }
                    }
                    if (bias != null) acc = acc.add(FloatVector.fromMemorySegment(S, bias, 4 * (biasOff + vc), ORDER, tail));
                    if (relu) acc = acc.max(0f);
                    acc.intoMemorySegment(y, out + 4L * vc, ORDER, tail);
                }
            }
        }
    }
}
