package org.tessera.kernels.java;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.tessera.kernels.conv.DirectConv2d;
import org.tessera.kernels.spi.Conv2dShape;

/**
 * Vector API short-patch direct convolution ({@code f32_conv2d_direct_4x<2 lanes>__panama<bits>}), the same
 * algorithm as the AVX2 kernel: per output row, the r input rows it reads are copied once into a zero-padded
 * buffer (so no tap needs a bounds test); tiles of 4 pixels x 2 vectors of channels accumulate in 8 vector
 * registers across the whole patch, one broadcast per pixel and patch element. With pool > 1 the rows of a
 * pooling window are computed into a buffer and only the pooled row is written (the pooling rule of
 * {@link org.tessera.kernels.spi.ConvKernels#conv2dMaxPoolF32}). Loaded reflectively, like every Panama kernel.
 */
final class PanamaDirectConv2d implements DirectConv2d {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length(), PW = 4;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final VectorMask<Float> ALL = S.maskAll(true);

    /** Per thread: [0] padded input rows, [1] convolution rows (pool x outW x k) before pooling. */
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[2][]);

    @Override
    public String kernelId() {
        return "f32_conv2d_direct_4x" + 2 * L + "__panama" + S.vectorBitSize();
    }

    @Override
    public void rows(Conv2dShape s, int pool, MemorySegment x, long xOff, MemorySegment wt, MemorySegment bias, long biasOff,
                     MemorySegment y, long yOff, boolean relu, int row0, int row1) {
        int c = s.c(), k = s.k(), kPad = (k + 7) / 8 * 8, outW = s.outW(), patch = s.r() * s.s() * c;
        int convW = pool > 1 ? outW / pool * pool : outW;
        int wpad = Math.max((convW + PW - 1) / PW * PW * s.strideW() + (s.s() - 1) * s.dilationW() + 1, s.padLeft() + s.w());
        int[] off = new int[patch];
        for (int i = 0, e = 0; i < s.r(); i++) {
            for (int t = 0; t < s.s(); t++) for (int ch = 0; ch < c; ch++, e++) off[e] = (i * wpad + t * s.dilationW()) * c + ch;
        }
        float[][] scratch = SCRATCH.get();
        float[] padded = grow(scratch, 0, s.r() * wpad * c), conv = grow(scratch, 1, Math.max(pool, 1) * convW * k);
        float[] b = new float[kPad], w = new float[patch * kPad]; // heap copies: array loads beat segment loads here
        if (bias != null) MemorySegment.copy(bias, F32, 4 * biasOff, b, 0, k);
        MemorySegment.copy(wt, F32, 0, w, 0, w.length);
        if (pool <= 1) {
            for (int row = row0; row < row1; row++) {
                convRow(s, x, xOff, row / s.outH(), row % s.outH(), padded, wpad, off, w, kPad, b, relu, convW, conv, 0);
                MemorySegment.copy(conv, 0, y, F32, 4 * (yOff + (long) row * outW * k), outW * k);
            }
            return;
        }
        int ph = s.outH() / pool, pw = outW / pool;
        for (int row = row0; row < row1; row++) {
            int n = row / ph, prow = row % ph;
            for (int q = 0; q < pool; q++) convRow(s, x, xOff, n, prow * pool + q, padded, wpad, off, w, kPad, b, relu, convW, conv, q * convW * k);
            long out = yOff + (long) row * pw * k;
            for (int pc = 0; pc < pw; pc++) {
                for (int ch = 0; ch < k; ch += L) {
                    boolean whole = ch + L <= k; // unmasked loads and stores where the vector is whole
                    VectorMask<Float> live = whole ? ALL : S.indexInRange(ch, k);
                    int first = pc * pool * k + ch; // tap (0, 0); a nullable vector would be boxed, so it starts the max
                    FloatVector m = whole ? FloatVector.fromArray(S, conv, first) : FloatVector.fromArray(S, conv, first, live);
                    for (int i = 0; i < pool; i++) {
                        for (int j = i == 0 ? 1 : 0; j < pool; j++) {
                            int at = (i * convW + pc * pool + j) * k + ch;
                            FloatVector v = whole ? FloatVector.fromArray(S, conv, at) : FloatVector.fromArray(S, conv, at, live);
                            // greater, or NaN over non-NaN: the first NaN or the first of equal maxima wins
                            VectorMask<Float> take = v.compare(VectorOperators.GT, m)
                                    .or(v.test(VectorOperators.IS_NAN).andNot(m.test(VectorOperators.IS_NAN)));
                            m = m.blend(v, take);
                        }
                    }
                    if (whole) m.intoMemorySegment(y, 4 * (out + (long) pc * k + ch), ORDER);
                    else m.intoMemorySegment(y, 4 * (out + (long) pc * k + ch), ORDER, live);
                }
            }
        }
    }

    /** Output row oh of example n (convW pixels, k channels) into conv at `at`, bias and ReLU applied. */
    private static void convRow(Conv2dShape s, MemorySegment x, long xOff, int n, int oh, float[] padded, int wpad, int[] off,
                                float[] wt, int kPad, float[] b, boolean relu, int convW, float[] conv, int at) {
        int c = s.c(), k = s.k(), rowFloats = wpad * c, hb = oh * s.strideH() - s.padTop();
        for (int i = 0; i < s.r(); i++) { // the input rows, zero-padded
            int ih = hb + i * s.dilationH(), base = i * rowFloats;
            java.util.Arrays.fill(padded, base, base + rowFloats, 0f);
            if (ih >= 0 && ih < s.h()) {
                MemorySegment.copy(x, F32, 4 * (xOff + ((long) n * s.h() + ih) * s.w() * c), padded, base + s.padLeft() * c, s.w() * c);
            }
        }
        int step = s.strideW() * c, patch = off.length;
        for (int ow = 0; ow < convW; ow += PW) {
            int np = Math.min(PW, convW - ow), x0 = ow * step;
            for (int kb = 0; kb < k; kb += 2 * L) {
                VectorMask<Float> m0 = S.indexInRange(kb, k), m1 = S.indexInRange(kb + L, k);
                FloatVector a00 = FloatVector.zero(S), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
                boolean full = kb + 2 * L <= k; // whole vectors: unmasked loads (masked ones are far slower on AVX2)
                for (int e = 0; e < patch; e++) {
                    int w = e * kPad + kb;
                    FloatVector w0 = full ? FloatVector.fromArray(S, wt, w) : FloatVector.fromArray(S, wt, w, m0);
                    FloatVector w1 = full ? FloatVector.fromArray(S, wt, w + L) : FloatVector.fromArray(S, wt, w + L, m1);
                    int xi = x0 + off[e];
                    FloatVector v0 = FloatVector.broadcast(S, padded[xi]), v1 = FloatVector.broadcast(S, padded[xi + step]);
                    FloatVector v2 = FloatVector.broadcast(S, padded[xi + 2 * step]), v3 = FloatVector.broadcast(S, padded[xi + 3 * step]);
                    a00 = v0.fma(w0, a00);
                    a01 = v0.fma(w1, a01);
                    a10 = v1.fma(w0, a10);
                    a11 = v1.fma(w1, a11);
                    a20 = v2.fma(w0, a20);
                    a21 = v2.fma(w1, a21);
                    a30 = v3.fma(w0, a30);
                    a31 = v3.fma(w1, a31);
                }
                FloatVector b0 = FloatVector.fromArray(S, b, kb, m0), b1 = FloatVector.fromArray(S, b, kb + L, m1);
                if (full) m0 = m1 = ALL; // stores of whole vectors need no mask either
                int dst = at + ow * k + kb;
                store(a00, a01, b0, b1, relu, conv, dst, m0, m1);
                if (np > 1) store(a10, a11, b0, b1, relu, conv, dst + k, m0, m1);
                if (np > 2) store(a20, a21, b0, b1, relu, conv, dst + 2 * k, m0, m1);
                if (np > 3) store(a30, a31, b0, b1, relu, conv, dst + 3 * k, m0, m1);
            }
        }
    }

    /** One pixel's two channel vectors: + bias, ReLU (lanewise Math.max: NaN stays NaN), into conv at dst. */
    private static void store(FloatVector a0, FloatVector a1, FloatVector b0, FloatVector b1, boolean relu, float[] conv, int dst,
                              VectorMask<Float> m0, VectorMask<Float> m1) {
        FloatVector o0 = a0.add(b0), o1 = a1.add(b1);
        if (relu) {
            o0 = o0.max(0f);
            o1 = o1.max(0f);
        }
        if (m1 == ALL) {
            o0.intoArray(conv, dst);
            o1.intoArray(conv, dst + L);
        } else {
            o0.intoArray(conv, dst, m0);
            o1.intoArray(conv, dst + L, m1);
        }
    }

    private static float[] grow(float[][] scratch, int slot, int floats) {
        if (scratch[slot] == null || scratch[slot].length < floats) scratch[slot] = new float[floats];
        return scratch[slot];
    }
}
