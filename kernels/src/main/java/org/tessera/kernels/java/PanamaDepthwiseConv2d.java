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
 * Vector API depthwise convolution ({@code f32_dwconv2d__panama<bits>}).
 *
 * <p>3x3 filters, for the pixels whose whole window is inside the input: one channel vector at a time, its
 * nine filter vectors held in registers across a run of output pixels along the row (one counted loop, one
 * load per tap, three FMA chains per pixel). Every other pixel, and any other filter size: per pixel,
 * channels four vectors at a time (four FMA chains), then one vector, then a masked tail, over the in-bounds
 * taps only (their range is computed once per row and per pixel, so the inner loop has no bounds tests).
 * The hot loops sit in small methods of their own: in one large method C2 runs out of inlining budget and
 * boxes the vectors (1.6 MB allocated per call, at half the speed, in a trial that unrolled the taps).
 * Loaded reflectively, like every Panama kernel.
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
        int c = s.c(), outH = s.outH(), outW = s.outW(), sw = s.strideW(), pl = s.padLeft();
        long xTap = 4L * s.dilationW() * c, wTap = 4L * c; // bytes from one tap of a filter row to the next
        long xRowStep = 4L * s.dilationH() * s.w() * c, wRowStep = 4L * s.s() * c; // ... and from one filter row to the next
        boolean threeByThree = s.r() == 3 && s.s() == 3 && c >= L;
        // Output columns [inLo, inHi) have their whole (dilated) window inside the input's width.
        int inLo = (pl + sw - 1) / sw, last = s.w() - 1 - (s.s() - 1) * s.dilationW() + pl;
        int inHi = last < 0 ? inLo : Math.max(inLo, Math.min(outW, last / sw + 1));
        VectorMask<Float> tail = S.indexInRange(c / L * L, c);
        for (int row = row0; row < row1; row++) {
            int n = row / outH, oh = row % outH;
            int hBase = oh * s.strideH() - s.padTop();
            int r0 = Taps.first(hBase, s.dilationH()), r1 = Taps.end(hBase, s.dilationH(), s.h(), s.r());
            long xRow = 4 * (xOff + ((long) n * s.h() + hBase) * s.w() * c); // filter row 0 (maybe out of bounds: only r0..r1 are read)
            boolean interior = threeByThree && r0 == 0 && r1 == 3 && inLo < inHi;
            if (interior) {
                long x0 = xRow + 4L * ((long) inLo * sw - pl) * c, y0 = 4 * (yOff + ((long) row * outW + inLo) * c);
                for (int ch = 0; ch + L <= c; ch += L) {
                    interior3x3(x, x0 + 4L * ch, xRowStep, xTap, 4L * sw * c, wt, 4L * ch, wTap, bias, biasOff + ch, relu,
                            y, y0 + 4L * ch, 4L * c, inHi - inLo);
                }
            }
            for (int ow = 0; ow < outW; ow++) {
                int wBase = ow * sw - pl;
                int t0 = Taps.first(wBase, s.dilationW()), taps = Taps.end(wBase, s.dilationW(), s.w(), s.s()) - t0;
                long x0 = xRow + 4L * (wBase + (long) t0 * s.dilationW()) * c, w0 = 4L * t0 * c;
                long out = 4 * (yOff + ((long) row * outW + ow) * c);
                int ch = interior && ow >= inLo && ow < inHi ? c / L * L : 0; // whole vectors done above
                for (; ch + 4 * L <= c; ch += 4 * L) {
                    pixel4(x, x0 + 4L * ch, xRowStep, xTap, wt, w0 + 4L * ch, wRowStep, wTap, r0, r1, taps, bias, biasOff + ch, relu, y, out + 4L * ch);
                }
                for (; ch + L <= c; ch += L) {
                    FloatVector a = FloatVector.zero(S);
                    for (int r = r0; r < r1; r++) {
                        long xi = x0 + r * xRowStep + 4L * ch, wi = w0 + r * wRowStep + 4L * ch;
                        for (int t = 0; t < taps; t++, xi += xTap, wi += wTap) {
                            a = FloatVector.fromMemorySegment(S, x, xi, ORDER).fma(FloatVector.fromMemorySegment(S, wt, wi, ORDER), a);
                        }
                    }
                    store(a, bias, biasOff + ch, relu, y, out + 4L * ch);
                }
                if (ch < c) { // the channel tail, masked: masked lanes are neither read nor written
                    FloatVector a = FloatVector.zero(S);
                    for (int r = r0; r < r1; r++) {
                        long xi = x0 + r * xRowStep + 4L * ch, wi = w0 + r * wRowStep + 4L * ch;
                        for (int t = 0; t < taps; t++, xi += xTap, wi += wTap) {
                            a = FloatVector.fromMemorySegment(S, x, xi, ORDER, tail).fma(FloatVector.fromMemorySegment(S, wt, wi, ORDER, tail), a);
                        }
                    }
                    if (bias != null) a = a.add(FloatVector.fromMemorySegment(S, bias, 4 * (biasOff + ch), ORDER, tail));
                    if (relu) a = a.max(0f);
                    a.intoMemorySegment(y, out + 4L * ch, ORDER, tail);
                }
            }
        }
    }

    /**
     * One channel vector of {@code count} output pixels along a row, all taps of a 3x3 window in bounds; byte
     * offsets: x0 the first pixel's window corner, xPix from one pixel's window to the next, w0 the channel
     * in filter tap (0, 0), y0 the first output. Each filter row is its own FMA chain, added at the end.
     */
    private static void interior3x3(MemorySegment x, long x0, long xRowStep, long xTap, long xPix, MemorySegment wt, long w0, long wTap,
                                    MemorySegment bias, long biasAt, boolean relu, MemorySegment y, long y0, long yPix, int count) {
        FloatVector w00 = FloatVector.fromMemorySegment(S, wt, w0, ORDER), w01 = FloatVector.fromMemorySegment(S, wt, w0 + wTap, ORDER),
                w02 = FloatVector.fromMemorySegment(S, wt, w0 + 2 * wTap, ORDER), w10 = FloatVector.fromMemorySegment(S, wt, w0 + 3 * wTap, ORDER),
                w11 = FloatVector.fromMemorySegment(S, wt, w0 + 4 * wTap, ORDER), w12 = FloatVector.fromMemorySegment(S, wt, w0 + 5 * wTap, ORDER),
                w20 = FloatVector.fromMemorySegment(S, wt, w0 + 6 * wTap, ORDER), w21 = FloatVector.fromMemorySegment(S, wt, w0 + 7 * wTap, ORDER),
                w22 = FloatVector.fromMemorySegment(S, wt, w0 + 8 * wTap, ORDER);
        FloatVector b = bias == null ? FloatVector.zero(S) : FloatVector.fromMemorySegment(S, bias, 4 * biasAt, ORDER);
        for (int i = 0; i < count; i++) {
            long xi = x0 + i * xPix, xj = xi + xRowStep, xk = xj + xRowStep;
            FloatVector a0 = FloatVector.fromMemorySegment(S, x, xi, ORDER).fma(w00, b);
            FloatVector a1 = FloatVector.fromMemorySegment(S, x, xj, ORDER).mul(w10);
            FloatVector a2 = FloatVector.fromMemorySegment(S, x, xk, ORDER).mul(w20);
            a0 = FloatVector.fromMemorySegment(S, x, xi + xTap, ORDER).fma(w01, a0);
            a1 = FloatVector.fromMemorySegment(S, x, xj + xTap, ORDER).fma(w11, a1);
            a2 = FloatVector.fromMemorySegment(S, x, xk + xTap, ORDER).fma(w21, a2);
            a0 = FloatVector.fromMemorySegment(S, x, xi + 2 * xTap, ORDER).fma(w02, a0);
            a1 = FloatVector.fromMemorySegment(S, x, xj + 2 * xTap, ORDER).fma(w12, a1);
            a2 = FloatVector.fromMemorySegment(S, x, xk + 2 * xTap, ORDER).fma(w22, a2);
            FloatVector v = a0.add(a1).add(a2);
            if (relu) v = v.max(0f); // lanewise Math.max: NaN stays NaN
            v.intoMemorySegment(y, y0 + i * yPix, ORDER);
        }
    }

    /** Four channel vectors of one output pixel over the in-bounds taps (rows r0..r1, {@code taps} per row); byte offsets as above. */
    private static void pixel4(MemorySegment x, long x0, long xRowStep, long xTap, MemorySegment wt, long w0, long wRowStep, long wTap,
                               int r0, int r1, int taps, MemorySegment bias, long biasAt, boolean relu, MemorySegment y, long out) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        for (int r = r0; r < r1; r++) {
            long xi = x0 + r * xRowStep, wi = w0 + r * wRowStep;
            for (int t = 0; t < taps; t++, xi += xTap, wi += wTap) {
                a0 = FloatVector.fromMemorySegment(S, x, xi, ORDER).fma(FloatVector.fromMemorySegment(S, wt, wi, ORDER), a0);
                a1 = FloatVector.fromMemorySegment(S, x, xi + 4L * L, ORDER).fma(FloatVector.fromMemorySegment(S, wt, wi + 4L * L, ORDER), a1);
                a2 = FloatVector.fromMemorySegment(S, x, xi + 8L * L, ORDER).fma(FloatVector.fromMemorySegment(S, wt, wi + 8L * L, ORDER), a2);
                a3 = FloatVector.fromMemorySegment(S, x, xi + 12L * L, ORDER).fma(FloatVector.fromMemorySegment(S, wt, wi + 12L * L, ORDER), a3);
            }
        }
        store(a0, bias, biasAt, relu, y, out);
        store(a1, bias, biasAt + L, relu, y, out + 4L * L);
        store(a2, bias, biasAt + 2 * L, relu, y, out + 8L * L);
        store(a3, bias, biasAt + 3 * L, relu, y, out + 12L * L);
    }

    /** Adds the bias (elements from {@code biasAt}), applies ReLU (lanewise max: NaN stays NaN) and stores at byte {@code at}. */
    private static void store(FloatVector a, MemorySegment bias, long biasAt, boolean relu, MemorySegment y, long at) {
        if (bias != null) a = a.add(FloatVector.fromMemorySegment(S, bias, 4 * biasAt, ORDER));
        if (relu) a = a.max(0f);
        a.intoMemorySegment(y, at, ORDER);
    }
}
