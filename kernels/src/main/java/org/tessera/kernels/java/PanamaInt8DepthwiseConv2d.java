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
 * Vector API int8 depthwise convolution ({@code i8_dwconv2d__panama<bits>}): per output pixel, a vector of
 * channels at a time, bytes widened to s32 lanes and multiplied exactly ({@code vpmulld}: the products and
 * sums are integers, never rounded), accumulators in registers across the in-bounds taps; the epilogue a
 * vector at a time in {@link Int8Epilogue}'s float operations, the channel tail element by element. Serves
 * both host backends.
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
        for (int row = row0; row < row1; row++) {
            int n = row / outH, oh = row % outH;
            int hBase = oh * s.strideH() - s.padTop();
            int r0 = Taps.first(hBase, s.dilationH()), r1 = Taps.end(hBase, s.dilationH(), s.h(), s.r());
            for (int ow = 0; ow < outW; ow++) {
                int wBase = ow * s.strideW() - s.padLeft();
                int t0 = Taps.first(wBase, s.dilationW()), t1 = Taps.end(wBase, s.dilationW(), s.w(), s.s());
                long pixel = ((long) n * s.h() + hBase) * s.w() + wBase;
                long o = yOff + ((long) row * outW + ow) * c;
                for (int ch = 0; ch < vc; ch += L) {
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
