package org.tessera.kernels.java;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import org.tessera.kernels.DType;
import org.tessera.kernels.Int8Epilogue;
import org.tessera.kernels.conv.Int8DepthwiseConv2d;
import org.tessera.kernels.conv.Taps;
import org.tessera.kernels.spi.Conv2dShape;
import org.tessera.kernels.spi.Int8Input;
import org.tessera.kernels.spi.Int8Output;

/**
 * Vector API int8 depthwise convolution ({@code i8_dwconv2d__panama<bits>}), exact. Up to {@link #EXACT_TAPS}
 * taps the products and sums run in float, where every partial sum is an integer below 2^24 (FMA instead of
 * {@code vpmulld} + add): 3x3 windows inside the input run tap row by tap row along the output row, the
 * other pixels per pixel over their in-bounds taps. Longer filters widen bytes to s32 lanes and multiply
 * exactly in integers. The epilogue runs a vector at a time in {@link Int8Epilogue}'s float operations, the
 * channel tail element by element. The java backend's kernel (native has {@code i8_dwconv2d__avx2}).
 */
final class PanamaInt8DepthwiseConv2d implements Int8DepthwiseConv2d {
    private static final VectorSpecies<Integer> SI = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> SF = VectorSpecies.of(float.class, SI.vectorShape());
    private static final int L = SI.length();
    /** Bytes are loaded at least 64 bits at a time (the narrowest byte species); the low L lanes are used. */
    private static final VectorSpecies<Byte> SB = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, L * 8)));
    private static final int LOAD = SB.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    /** 1.5 * 2^23: adding and subtracting it rounds a float below 2^22 in magnitude to an integer, half to even. */
    private static final float ROUNDER = 12582912f;
    private static final ThreadLocal<int[]> LANES = ThreadLocal.withInitial(() -> new int[L]);
    /**
     * Taps up to which float sums are exact: |x - zx| <= 255 and |w| <= 128, so a sum of this many products stays
     * below 2^24 and every partial sum is an integer float represents exactly, in any order.
     */
    static final int EXACT_TAPS = (1 << 24) / (255 * 128);
    /** Per-thread filters as floats, (r, s, c); grown on demand, freed with the thread. */
    private static final ThreadLocal<MemorySegment[]> FLOAT_WEIGHTS = ThreadLocal.withInitial(() -> new MemorySegment[1]);
    /** Per-thread sums of one row run of the 3x3 interior loop. */
    private static final ThreadLocal<MemorySegment[]> ROW_SUMS = ThreadLocal.withInitial(() -> new MemorySegment[1]);

    @Override
    public String kernelId() {
        return "i8_dwconv2d__panama" + SI.vectorBitSize();
    }

    @Override
    public void rows(Conv2dShape s, Int8Input xq, MemorySegment x, long xOff, MemorySegment wt, MemorySegment scales, Int8Output out,
                     MemorySegment bias, long biasOff, MemorySegment y, long yOff, int row0, int row1) {
        int c = s.c(), outH = s.outH(), outW = s.outW(), za = xq.zeroPoint();
        boolean signed = xq.type() == DType.S8;
        int vc = c >= LOAD ? (c - LOAD) / L * L + L : 0; // channel blocks whose LOAD-byte loads stay inside the pixel
        int[] lanes = LANES.get();
        DType type = out.type();
        // Up to EXACT_TAPS taps the products and sums run in float (FMA instead of vpmulld + add), exactly.
        MemorySegment wf = vc > 0 && s.r() * s.s() <= EXACT_TAPS ? floatWeights(wt, (long) s.r() * s.s() * c) : null;
        // u8 bytes are loaded as signed bytes of x ^ 0x80, i.e. x - 128: the zero point moves by 128 to match
        float zf = signed ? za : za - 128;
        int sw = s.strideW(), pl = s.padLeft();
        // Output columns [inLo, inHi) have their whole (dilated) window inside the input's width.
        int inLo = (pl + sw - 1) / sw, last = s.w() - 1 - (s.s() - 1) * s.dilationW() + pl;
        int inHi = last < 0 ? inLo : Math.max(inLo, Math.min(outW, last / sw + 1));
        for (int row = row0; row < row1; row++) {
            int n = row / outH, oh = row % outH;
            int hBase = oh * s.strideH() - s.padTop();
            int r0 = Taps.first(hBase, s.dilationH()), r1 = Taps.end(hBase, s.dilationH(), s.h(), s.r());
            boolean interior = wf != null && s.r() == 3 && s.s() == 3 && r0 == 0 && r1 == 3 && inLo < inHi;
            if (interior) {
                long x0 = xOff + (((long) n * s.h() + hBase) * s.w() + (long) inLo * sw - pl) * c;
                MemorySegment sums = rowSums((long) (inHi - inLo) * L);
                for (int ch = 0; ch < vc; ch += L) {
                    interior3x3(x, sums, x0 + ch, (long) s.dilationH() * s.w() * c, (long) s.dilationW() * c, (long) sw * c, wf, ch, c,
                            signed, zf, xq, out, scales, bias, biasOff, y, yOff + ((long) row * outW + inLo) * c, inHi - inLo);
                }
            }
            for (int ow = 0; ow < outW; ow++) {
                int wBase = ow * sw - pl;
                int t0 = Taps.first(wBase, s.dilationW()), t1 = Taps.end(wBase, s.dilationW(), s.w(), s.s());
                long pixel = ((long) n * s.h() + hBase) * s.w() + wBase;
                long o = yOff + ((long) row * outW + ow) * c;
                if (wf != null && !(interior && ow >= inLo && ow < inHi)) {
                    pixelInFloat(s, x, xOff + pixel * c, wf, signed, zf, r0, r1, t0, t1, vc, xq, out, scales, bias, biasOff, y, o);
                }
                for (int ch = wf != null ? vc : 0; ch < vc; ch += L) {
                    IntVector acc = IntVector.zero(SI);
                    for (int r = r0; r < r1; r++) {
                        long xRow = xOff + (pixel + (long) r * s.dilationH() * s.w()) * c + ch;
                        long wRow = (long) r * s.s() * c + ch;
                        for (int t = t0; t < t1; t++) {
                            long xi = xRow + (long) t * s.dilationW() * c, wi = wRow + (long) t * c;
                            IntVector xv = (IntVector) ByteVector.fromMemorySegment(SB, x, xi, ORDER).convertShape(VectorOperators.B2I, SI, 0);
                            if (!signed) xv = xv.and(0xFF);
                            IntVector wv = (IntVector) ByteVector.fromMemorySegment(SB, wt, wi, ORDER).convertShape(VectorOperators.B2I, SI, 0);
                            acc = acc.add(xv.sub(za).mul(wv));
                        }
                    }
                    // The epilogue inline: a vector passed to a method that is not inlined would be boxed.
                    if (type == DType.S32) {
                        acc.intoMemorySegment(y, (o + ch) * 4, ORDER);
                    } else if (type == DType.F32) {
                        FloatVector mult = FloatVector.broadcast(SF, xq.scale()).mul(FloatVector.fromMemorySegment(SF, scales, 4L * ch, ORDER));
                        FloatVector b = bias == null ? FloatVector.zero(SF) : FloatVector.fromMemorySegment(SF, bias, (biasOff + ch) * 4, ORDER);
                        FloatVector v = ((FloatVector) acc.convert(VectorOperators.I2F, 0)).fma(mult, b);
                        if (out.relu()) v = v.blend(0f, v.lt(0f));
                        v.intoMemorySegment(y, (o + ch) * 4, ORDER);
                    } else {
                        requantize(xq, out, acc, scales, bias, biasOff, y, o + ch, ch);
                    }
                }
                for (int ch = vc; ch < c; ch += L) { // the channel tail, element by element
                    int width = Math.min(L, c - ch);
                    Arrays.fill(lanes, 0);
                    for (int r = r0; r < r1; r++) {
                        long xRow = xOff + (pixel + (long) r * s.dilationH() * s.w()) * c + ch;
                        long wRow = (long) r * s.s() * c + ch;
                        for (int t = t0; t < t1; t++) {
                            long xi = xRow + (long) t * s.dilationW() * c, wi = wRow + (long) t * c;
                            for (int j = 0; j < width; j++) {
                                byte xb = x.get(ValueLayout.JAVA_BYTE, xi + j);
                                lanes[j] += ((signed ? xb : xb & 0xFF) - za) * wt.get(ValueLayout.JAVA_BYTE, wi + j);
                            }
                        }
                    }
                    storeLanes(xq, out, lanes, width, scales, bias, biasOff, y, o, ch);
                }
            }
        }
    }

    /**
     * Channels [0, vc) of one output pixel in float: x - zx times w summed over the in-bounds taps, exact (see
     * {@link #EXACT_TAPS}), so {@code (float) acc} in the epilogue is the sum itself. x0 is the element of the
     * window's corner (row 0, tap 0, channel 0; maybe out of bounds: only taps r0..r1, t0..t1 are read).
     */
    private static void pixelInFloat(Conv2dShape s, MemorySegment x, long x0, MemorySegment wf, boolean signed, float zf,
                                     int r0, int r1, int t0, int t1, int vc, Int8Input xq, Int8Output out, MemorySegment scales,
                                     MemorySegment bias, long biasOff, MemorySegment y, long o) {
        int c = s.c();
        long xRowStep = (long) s.dilationH() * s.w() * c, xTap = (long) s.dilationW() * c;
        ByteVector flip = ByteVector.broadcast(SB, signed ? 0 : (byte) 0x80);
        for (int ch = 0; ch < vc; ch += L) {
            FloatVector a0 = FloatVector.zero(SF), a1 = a0; // even and odd filter rows: two chains, any order is exact
            for (int r = r0; r < r1; r++) {
                long xi = x0 + r * xRowStep + t0 * xTap + ch, wi = 4 * (((long) r * s.s() + t0) * c + ch);
                FloatVector a = FloatVector.zero(SF);
                for (int t = t0; t < t1; t++, xi += xTap, wi += 4L * c) {
                    a = bytes(x, xi, flip).sub(zf).fma(FloatVector.fromMemorySegment(SF, wf, wi, ORDER), a);
                }
                if ((r & 1) == 0) a0 = a0.add(a);
                else a1 = a1.add(a);
            }
            store(a0.add(a1), xq, out, scales, bias, biasOff, y, o + ch, ch);
        }
    }

    /**
     * One channel vector (from ch) of {@code count} output pixels along a row whose 3x3 windows are all inside
     * the input; x0 the first window's corner at ch, steps in elements, o0 the first output pixel's channel 0.
     * Tap by tap over the whole run, sums in this thread's row buffer (L1-resident): one small loop body, so
     * C2 keeps every vector in registers (nine taps unrolled in one loop made it box them). With x' the loaded
     * byte (x - 128 for u8), sum (x' - zf) w = sum x' w - zf sum w: the second term is the same for every whole
     * window, so the sums start from it. Every partial sum is an integer below 2^24: exact in float.
     */
    private static void interior3x3(MemorySegment x, MemorySegment sums, long x0, long xRowStep, long xTap, long xPix, MemorySegment wf, int ch, int c,
                                    boolean signed, float zf, Int8Input xq, Int8Output out, MemorySegment scales, MemorySegment bias,
                                    long biasOff, MemorySegment y, long o0, int count) {
        ByteVector flip = ByteVector.broadcast(SB, signed ? 0 : (byte) 0x80);
        FloatVector start = FloatVector.zero(SF);
        for (int t = 0; t < 9; t++) start = start.add(FloatVector.fromMemorySegment(SF, wf, 4L * (t * c + ch), ORDER));
        start = start.mul(-zf);
        for (int i = 0; i < count; i++) start.intoMemorySegment(sums, 4L * L * i, ORDER);
        for (int r = 0; r < 3; r++) {
            FloatVector w0 = FloatVector.fromMemorySegment(SF, wf, 4L * (3 * r * c + ch), ORDER);
            FloatVector w1 = FloatVector.fromMemorySegment(SF, wf, 4L * ((3 * r + 1) * c + ch), ORDER);
            FloatVector w2 = FloatVector.fromMemorySegment(SF, wf, 4L * ((3 * r + 2) * c + ch), ORDER);
            long xr = x0 + r * xRowStep;
            for (int i = 0; i < count; i++) {
                long at = 4L * L * i, xi = xr + i * xPix;
                FloatVector a = bytes(x, xi, flip).fma(w0, FloatVector.fromMemorySegment(SF, sums, at, ORDER));
                a = bytes(x, xi + xTap, flip).fma(w1, a);
                bytes(x, xi + 2 * xTap, flip).fma(w2, a).intoMemorySegment(sums, at, ORDER);
            }
        }
        for (int i = 0; i < count; i++) {
            store(FloatVector.fromMemorySegment(SF, sums, 4L * L * i, ORDER), xq, out, scales, bias, biasOff, y, o0 + (long) i * c + ch, ch);
        }
    }

    /** This thread's buffer for a row's sums, at least {@code floats} long. */
    private static MemorySegment rowSums(long floats) {
        MemorySegment[] held = ROW_SUMS.get();
        if (held[0] == null || held[0].byteSize() < 4 * floats) held[0] = java.lang.foreign.Arena.ofAuto().allocate(4 * Math.max(floats, 1024), 64);
        return held[0];
    }

    /** L bytes at element xi as floats, each XOR flip first (0x80 for u8: x - 128, read as s8). */
    private static FloatVector bytes(MemorySegment x, long xi, ByteVector flip) {
        return (FloatVector) ByteVector.fromMemorySegment(SB, x, xi, ORDER).lanewise(VectorOperators.XOR, flip).convertShape(VectorOperators.B2F, SF, 0);
    }

    /** The epilogue of an exact integer-valued float sum for channels [ch, ch + L) at output element at. */
    private static void store(FloatVector acc, Int8Input xq, Int8Output out, MemorySegment scales, MemorySegment bias, long biasOff,
                              MemorySegment y, long at, int ch) {
        DType type = out.type();
        if (type == DType.S32) {
            acc.convert(VectorOperators.F2I, 0).intoMemorySegment(y, at * 4, ORDER);
        } else if (type == DType.F32) { // (float) acc is acc itself: the same operations as the integer path
            FloatVector mult = FloatVector.broadcast(SF, xq.scale()).mul(FloatVector.fromMemorySegment(SF, scales, 4L * ch, ORDER));
            FloatVector b = bias == null ? FloatVector.zero(SF) : FloatVector.fromMemorySegment(SF, bias, (biasOff + ch) * 4, ORDER);
            FloatVector v = acc.fma(mult, b);
            if (out.relu()) v = v.blend(0f, v.lt(0f));
            v.intoMemorySegment(y, at * 4, ORDER);
        } else {
            requantize(xq, out, (IntVector) acc.convert(VectorOperators.F2I, 0), scales, bias, biasOff, y, at, ch);
        }
    }

    /** The filters (r, s, c) as floats in this thread's buffer. */
    private static MemorySegment floatWeights(MemorySegment wt, long count) {
        MemorySegment[] held = FLOAT_WEIGHTS.get();
        if (held[0] == null || held[0].byteSize() < 4 * count) held[0] = java.lang.foreign.Arena.ofAuto().allocate(4 * count, 64);
        MemorySegment wf = held[0];
        for (long i = 0; i < count; i++) wf.setAtIndex(ValueLayout.JAVA_FLOAT, i, wt.get(ValueLayout.JAVA_BYTE, i));
        return wf;
    }

    /**
     * {@link Int8Epilogue}'s requantization a vector at a time, the same float operations in the same order;
     * round half to even by the 1.5 * 2^23 trick, exact for the clamped range (|y| <= 510 < 2^22). Inlined
     * (the vector must not be boxed): a small method C2 inlines at its single call site.
     */
    private static void requantize(Int8Input xq, Int8Output out, IntVector acc, MemorySegment scales, MemorySegment bias, long biasOff,
                                   MemorySegment y, long at, int ch) {
        boolean s8 = out.type() == DType.S8;
        int zo = out.zeroPoint(), lo = s8 ? -128 : 0, hi = s8 ? 127 : 255;
        if (out.relu()) lo = Math.max(lo, zo);
        float so = out.scale(), flo = lo - zo, fhi = hi - zo;
        FloatVector mult = FloatVector.broadcast(SF, xq.scale()).mul(FloatVector.fromMemorySegment(SF, scales, 4L * ch, ORDER)).div(so);
        FloatVector b = bias == null ? FloatVector.zero(SF) : FloatVector.fromMemorySegment(SF, bias, (biasOff + ch) * 4, ORDER).div(so);
        FloatVector v = ((FloatVector) acc.convert(VectorOperators.I2F, 0)).fma(mult, b);
        v = v.blend(flo, v.compare(VectorOperators.GT, flo).not());
        v = v.blend(fhi, v.compare(VectorOperators.LT, fhi).not());
        v = v.add(ROUNDER).sub(ROUNDER);
        IntVector q = ((IntVector) v.convert(VectorOperators.F2I, 0)).add(zo);
        ((ByteVector) q.convertShape(VectorOperators.I2B, SB, 0)).intoMemorySegment(y, at, ORDER, SB.indexInRange(0, L));
    }

    /** Channels [ch, ch + width) of the output pixel at element o, element by element. */
    private static void storeLanes(Int8Input xq, Int8Output out, int[] lanes, int width, MemorySegment scales, MemorySegment bias, long biasOff,
                                   MemorySegment y, long o, int ch) {
        for (int j = 0; j < width; j++) {
            float b = bias == null ? 0f : bias.getAtIndex(F32, biasOff + ch + j);
            Int8Epilogue.store(out, y, o + ch + j, lanes[j], xq.scale(), scales.getAtIndex(ValueLayout.JAVA_FLOAT, ch + j), b);
        }
    }
}
