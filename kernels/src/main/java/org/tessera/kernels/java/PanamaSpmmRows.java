package org.tessera.kernels.java;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import org.tessera.kernels.DType;
import org.tessera.kernels.HostStorage;
import org.tessera.kernels.Int8Epilogue;
import org.tessera.kernels.Storage;
import org.tessera.kernels.sparse.SpmmRows;
import org.tessera.kernels.spi.Int8Input;
import org.tessera.kernels.spi.Int8Output;
import org.tessera.kernels.spi.PackedSparse;

/**
 * Vector API sparse products ({@code *_spmm_*__panama<bits>}). Vectors run along a row of X and Y (the m
 * dimension): each stored weight is broadcast and multiplied into a row of X. One output row keeps 4 vectors
 * in flight so the FMA latency is hidden; 4-row blocks (bsr4xN) keep 4 rows x 2 vectors, so each loaded
 * vector of X feeds 4 FMAs. m = 1 (a matrix-vector product) runs scalar: there is no row to vectorize.
 * int8: s32 lanes, exact products, the epilogue per element in {@link Int8Epilogue}; 4x1 blocks widen each X
 * vector once for their 4 rows and one-column rows keep 2 vectors (two add chains) in flight.
 */
final class PanamaSpmmRows implements SpmmRows {
    private static final VectorSpecies<Float> SF = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> SI = VectorSpecies.of(int.class, SF.vectorShape());
    private static final int L = SF.length();
    /** Bytes load at least 64 bits at a time (the narrowest byte species); the low L lanes are used. */
    private static final VectorSpecies<Byte> SB = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, L * 8)));
    private static final int LOAD = SB.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfInt S32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ThreadLocal<int[]> LANES = ThreadLocal.withInitial(() -> new int[L]);

    @Override
    public String isa() {
        return "panama" + SF.vectorBitSize();
    }

    @Override
    public void f32(PackedSparse w, int blockRow0, int blockRow1, int m, MemorySegment x, long xOff, long ldx, MemorySegment bias,
                    long biasOff, boolean relu, MemorySegment y, long yOff, long ldy) {
        MemorySegment ptr = seg(w.rowPtr()), col = seg(w.colIdx()), val = seg(w.values());
        int br = w.br(), n = w.n();
        for (int b = blockRow0; b < blockRow1; b++) {
            int p0 = ptr.getAtIndex(S32, b), p1 = ptr.getAtIndex(S32, b + 1);
            if (br == 4 && b * 4 + 4 <= n && m >= L) {
                fourRows(w, b, p0, p1, m, col, val, x, xOff, ldx, bias, biasOff, relu, y, yOff, ldy);
            } else {
                for (int r = 0; r < br && b * br + r < n; r++) {
                    int i = b * br + r;
                    float bi = bias == null ? 0f : bias.getAtIndex(F32, biasOff + i);
                    if (m == 1) vectorTimesRow(w, r, p0, p1, col, val, x, xOff, ldx, bi, relu, y, yOff + i * ldy);
                    else oneRow(w, r, p0, p1, m, col, val, x, xOff, ldx, bi, relu, y, yOff + i * ldy);
                }
            }
        }
    }

    /** One output row, 4 vectors at a time, then 1, then a masked tail. */
    private static void oneRow(PackedSparse w, int r, int p0, int p1, int m, MemorySegment col, MemorySegment val, MemorySegment x,
                               long xOff, long ldx, float bias, boolean relu, MemorySegment y, long yRow) {
        int br = w.br(), bc = w.bc(), k = w.k();
        int j = 0;
        for (; j + 4 * L <= m; j += 4 * L) {
            FloatVector a0 = FloatVector.zero(SF), a1 = a0, a2 = a0, a3 = a0;
            for (int p = p0; p < p1; p++) {
                int c0 = col.getAtIndex(S32, p), cn = Math.min(bc, k - c0);
                for (int s = 0; s < cn; s++) {
                    FloatVector wv = FloatVector.broadcast(SF, val.getAtIndex(F32, (long) p * br * bc + s * br + r));
                    long xi = (xOff + (c0 + s) * ldx + j) * 4;
                    a0 = FloatVector.fromMemorySegment(SF, x, xi, ORDER).fma(wv, a0);
                    a1 = FloatVector.fromMemorySegment(SF, x, xi + 4L * L, ORDER).fma(wv, a1);
                    a2 = FloatVector.fromMemorySegment(SF, x, xi + 8L * L, ORDER).fma(wv, a2);
                    a3 = FloatVector.fromMemorySegment(SF, x, xi + 12L * L, ORDER).fma(wv, a3);
                }
            }
            long yi = (yRow + j) * 4;
            finish(a0, bias, relu).intoMemorySegment(y, yi, ORDER);
            finish(a1, bias, relu).intoMemorySegment(y, yi + 4L * L, ORDER);
            finish(a2, bias, relu).intoMemorySegment(y, yi + 8L * L, ORDER);
            finish(a3, bias, relu).intoMemorySegment(y, yi + 12L * L, ORDER);
        }
        for (; j < m; j += L) {
            VectorMask<Float> mask = SF.indexInRange(j, m);
            FloatVector a = FloatVector.zero(SF);
            for (int p = p0; p < p1; p++) {
                int c0 = col.getAtIndex(S32, p), cn = Math.min(bc, k - c0);
                for (int s = 0; s < cn; s++) {
                    FloatVector wv = FloatVector.broadcast(SF, val.getAtIndex(F32, (long) p * br * bc + s * br + r));
                    a = FloatVector.fromMemorySegment(SF, x, (xOff + (c0 + s) * ldx + j) * 4, ORDER, mask).fma(wv, a);
                }
            }
            finish(a, bias, relu).intoMemorySegment(y, (yRow + j) * 4, ORDER, mask);
        }
    }

    /** Four output rows of a 4xN block row: each loaded vector of X feeds 4 FMAs. */
    private static void fourRows(PackedSparse w, int b, int p0, int p1, int m, MemorySegment col, MemorySegment val, MemorySegment x,
                                 long xOff, long ldx, MemorySegment bias, long biasOff, boolean relu, MemorySegment y, long yOff, long ldy) {
        int bc = w.bc(), k = w.k(), i = b * 4;
        float b0 = 0f, b1 = 0f, b2 = 0f, b3 = 0f;
        if (bias != null) {
            b0 = bias.getAtIndex(F32, biasOff + i);
            b1 = bias.getAtIndex(F32, biasOff + i + 1);
            b2 = bias.getAtIndex(F32, biasOff + i + 2);
            b3 = bias.getAtIndex(F32, biasOff + i + 3);
        }
        long y0 = (yOff + i * ldy) * 4, step = ldy * 4;
        int j = 0;
        for (; j + 2 * L <= m; j += 2 * L) {
            FloatVector a00 = FloatVector.zero(SF), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
            for (int p = p0; p < p1; p++) {
                int c0 = col.getAtIndex(S32, p), cn = Math.min(bc, k - c0);
                for (int s = 0; s < cn; s++) {
                    long v = ((long) p * bc + s) * 16;
                    long xi = (xOff + (c0 + s) * ldx + j) * 4;
                    FloatVector x0 = FloatVector.fromMemorySegment(SF, x, xi, ORDER), x1 = FloatVector.fromMemorySegment(SF, x, xi + 4L * L, ORDER);
                    FloatVector w0 = FloatVector.broadcast(SF, val.get(F32, v)), w1 = FloatVector.broadcast(SF, val.get(F32, v + 4));
                    FloatVector w2 = FloatVector.broadcast(SF, val.get(F32, v + 8)), w3 = FloatVector.broadcast(SF, val.get(F32, v + 12));
                    a00 = x0.fma(w0, a00);
                    a01 = x1.fma(w0, a01);
                    a10 = x0.fma(w1, a10);
                    a11 = x1.fma(w1, a11);
                    a20 = x0.fma(w2, a20);
                    a21 = x1.fma(w2, a21);
                    a30 = x0.fma(w3, a30);
                    a31 = x1.fma(w3, a31);
                }
            }
            long yi = y0 + 4L * j;
            finish(a00, b0, relu).intoMemorySegment(y, yi, ORDER);
            finish(a01, b0, relu).intoMemorySegment(y, yi + 4L * L, ORDER);
            finish(a10, b1, relu).intoMemorySegment(y, yi + step, ORDER);
            finish(a11, b1, relu).intoMemorySegment(y, yi + step + 4L * L, ORDER);
            finish(a20, b2, relu).intoMemorySegment(y, yi + 2 * step, ORDER);
            finish(a21, b2, relu).intoMemorySegment(y, yi + 2 * step + 4L * L, ORDER);
            finish(a30, b3, relu).intoMemorySegment(y, yi + 3 * step, ORDER);
            finish(a31, b3, relu).intoMemorySegment(y, yi + 3 * step + 4L * L, ORDER);
        }
        for (; j < m; j += L) {
            VectorMask<Float> mask = SF.indexInRange(j, m);
            FloatVector a0 = FloatVector.zero(SF), a1 = a0, a2 = a0, a3 = a0;
            for (int p = p0; p < p1; p++) {
                int c0 = col.getAtIndex(S32, p), cn = Math.min(bc, k - c0);
                for (int s = 0; s < cn; s++) {
                    long v = ((long) p * bc + s) * 16;
                    FloatVector xv = FloatVector.fromMemorySegment(SF, x, (xOff + (c0 + s) * ldx + j) * 4, ORDER, mask);
                    a0 = xv.fma(FloatVector.broadcast(SF, val.get(F32, v)), a0);
                    a1 = xv.fma(FloatVector.broadcast(SF, val.get(F32, v + 4)), a1);
                    a2 = xv.fma(FloatVector.broadcast(SF, val.get(F32, v + 8)), a2);
                    a3 = xv.fma(FloatVector.broadcast(SF, val.get(F32, v + 12)), a3);
                }
            }
            long yi = y0 + 4L * j;
            finish(a0, b0, relu).intoMemorySegment(y, yi, ORDER, mask);
            finish(a1, b1, relu).intoMemorySegment(y, yi + step, ORDER, mask);
            finish(a2, b2, relu).intoMemorySegment(y, yi + 2 * step, ORDER, mask);
            finish(a3, b3, relu).intoMemorySegment(y, yi + 3 * step, ORDER, mask);
        }
    }

    /** m = 1: a sparse dot product per row, with 2 partial sums for the FMA latency. */
    private static void vectorTimesRow(PackedSparse w, int r, int p0, int p1, MemorySegment col, MemorySegment val, MemorySegment x,
                                       long xOff, long ldx, float bias, boolean relu, MemorySegment y, long yi) {
        int br = w.br(), bc = w.bc(), k = w.k();
        float s0 = 0f, s1 = 0f;
        for (int p = p0; p < p1; p++) {
            int c0 = col.getAtIndex(S32, p), cn = Math.min(bc, k - c0);
            for (int s = 0; s < cn; s++) {
                float prod = val.getAtIndex(F32, (long) p * br * bc + s * br + r) * x.getAtIndex(F32, xOff + (c0 + s) * ldx);
                if ((p & 1) == 0) s0 += prod;
                else s1 += prod;
            }
        }
        float acc = s0 + s1 + bias;
        if (relu && acc < 0f) acc = 0f;
        y.setAtIndex(F32, yi, acc);
    }

    private static FloatVector finish(FloatVector acc, float bias, boolean relu) {
        FloatVector v = acc.add(bias);
        return relu ? v.max(0f) : v; // max(0, NaN) is NaN, as Math.max
    }

    @Override
    public void int8(PackedSparse w, int blockRow0, int blockRow1, int m, Int8Input xq, MemorySegment x, long xOff, long ldx,
                     Int8Output out, MemorySegment bias, long biasOff, MemorySegment y, long yOff, long ldy) {
        MemorySegment ptr = seg(w.rowPtr()), col = seg(w.colIdx()), val = seg(w.values());
        MemorySegment sums = seg(w.rowsums()), scales = seg(w.scales());
        int br = w.br(), bc = w.bc(), k = w.k(), n = w.n(), za = xq.zeroPoint();
        boolean signed = xq.type() == DType.S8;
        int[] lanes = LANES.get();
        for (int b = blockRow0; b < blockRow1; b++) {
            int p0 = ptr.getAtIndex(S32, b), p1 = ptr.getAtIndex(S32, b + 1);
            int r = 0;
            if (bc == 1 && br == 4 && b * 4 + 4 <= n) {
                r = 4; // all 4 rows, every column
                fourRowsInt8(b, p0, p1, m, col, val, x, xOff, ldx, signed, sums, za, out, xq.scale(), scales, bias, biasOff, y, yOff, ldy);
            }
            for (; r < br && b * br + r < n; r++) {
                int i = b * br + r;
                float bi = bias == null ? 0f : bias.getAtIndex(F32, biasOff + i), sw = scales.getAtIndex(F32, i);
                int corr = za * sums.getAtIndex(S32, i);
                long yRow = yOff + i * ldy;
                int j = 0;
                if (bc == 1) { // CSR, N:M: 2 vectors per step, two independent add chains
                    for (int mv = vectorColumns(m); j + L < mv; j += 2 * L) {
                        IntVector a0 = IntVector.zero(SI), a1 = a0;
                        for (int p = p0; p < p1; p++) {
                            long xi = xOff + col.getAtIndex(S32, p) * ldx + j;
                            int wv = val.get(ValueLayout.JAVA_BYTE, (long) p * br + r);
                            a0 = a0.add(widen(x, xi, signed).mul(wv));
                            a1 = a1.add(widen(x, xi + L, signed).mul(wv));
                        }
                        storeInt8(a0, i, j, sums, za, out, xq.scale(), scales, bias, biasOff, y, yOff, ldy);
                        storeInt8(a1, i, j + L, sums, za, out, xq.scale(), scales, bias, biasOff, y, yOff, ldy);
                    }
                }
                for (; j + LOAD <= m; j += L) {
                    IntVector acc = IntVector.zero(SI);
                    for (int p = p0; p < p1; p++) {
                        int c0 = col.getAtIndex(S32, p), cn = Math.min(bc, k - c0);
                        for (int s = 0; s < cn; s++) {
                            int wv = val.get(ValueLayout.JAVA_BYTE, (long) p * br * bc + s * br + r);
                            IntVector xv = (IntVector) ByteVector.fromMemorySegment(SB, x, xOff + (c0 + s) * ldx + j, ORDER)
                                    .convertShape(VectorOperators.B2I, SI, 0);
                            if (!signed) xv = xv.and(0xFF);
                            acc = acc.add(xv.mul(wv));
                        }
                    }
                    acc = acc.sub(corr);
                    if (out.type() == DType.S32) {
                        acc.intoMemorySegment(y, (yRow + j) * 4, ORDER);
                    } else {
                        acc.intoArray(lanes, 0);
                        for (int l = 0; l < L; l++) Int8Epilogue.store(out, y, yRow + j + l, lanes[l], xq.scale(), sw, bi);
                    }
                }
                for (; j < m; j++) {
                    int acc = 0;
                    for (int p = p0; p < p1; p++) {
                        int c0 = col.getAtIndex(S32, p), cn = Math.min(bc, k - c0);
                        for (int s = 0; s < cn; s++) {
                            byte xv = x.get(ValueLayout.JAVA_BYTE, xOff + (c0 + s) * ldx + j);
                            acc += val.get(ValueLayout.JAVA_BYTE, (long) p * br * bc + s * br + r) * (signed ? xv : xv & 0xFF);
                        }
                    }
                    Int8Epilogue.store(out, y, yRow + j, acc - corr, xq.scale(), sw, bi);
                }
            }
        }
    }

    /** The columns {@link #fourRowsInt8} leaves: none below a whole L-column step. */
    private static int vectorColumns(int m) {
        return m < LOAD ? 0 : (m - LOAD) / L * L + L;
    }

    /**
     * Rows 4b..4b+3 of a block row of 4x1 blocks, the columns {@link #vectorColumns} covers: each X row loaded and
     * widened once serves all 4 rows, 2 vectors per step; the columns after them run scalar, per row.
     */
    private static void fourRowsInt8(int b, int p0, int p1, int m, MemorySegment col, MemorySegment val, MemorySegment x, long xOff,
                                     long ldx, boolean signed, MemorySegment sums, int za, Int8Output out, float sa, MemorySegment scales,
                                     MemorySegment bias, long biasOff, MemorySegment y, long yOff, long ldy) {
        int mv = vectorColumns(m), i = 4 * b;
        int j = 0;
        for (; j + L < mv; j += 2 * L) {
            IntVector a00 = IntVector.zero(SI), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
            for (int p = p0; p < p1; p++) {
                long xi = xOff + col.getAtIndex(S32, p) * ldx + j;
                IntVector x0 = widen(x, xi, signed), x1 = widen(x, xi + L, signed);
                long v = 4L * p;
                int w0 = val.get(ValueLayout.JAVA_BYTE, v), w1 = val.get(ValueLayout.JAVA_BYTE, v + 1);
                int w2 = val.get(ValueLayout.JAVA_BYTE, v + 2), w3 = val.get(ValueLayout.JAVA_BYTE, v + 3);
                a00 = a00.add(x0.mul(w0));
                a01 = a01.add(x1.mul(w0));
                a10 = a10.add(x0.mul(w1));
                a11 = a11.add(x1.mul(w1));
                a20 = a20.add(x0.mul(w2));
                a21 = a21.add(x1.mul(w2));
                a30 = a30.add(x0.mul(w3));
                a31 = a31.add(x1.mul(w3));
            }
            storeInt8(a00, i, j, sums, za, out, sa, scales, bias, biasOff, y, yOff, ldy);
            storeInt8(a01, i, j + L, sums, za, out, sa, scales, bias, biasOff, y, yOff, ldy);
            storeInt8(a10, i + 1, j, sums, za, out, sa, scales, bias, biasOff, y, yOff, ldy);
            storeInt8(a11, i + 1, j + L, sums, za, out, sa, scales, bias, biasOff, y, yOff, ldy);
            storeInt8(a20, i + 2, j, sums, za, out, sa, scales, bias, biasOff, y, yOff, ldy);
            storeInt8(a21, i + 2, j + L, sums, za, out, sa, scales, bias, biasOff, y, yOff, ldy);
            storeInt8(a30, i + 3, j, sums, za, out, sa, scales, bias, biasOff, y, yOff, ldy);
            storeInt8(a31, i + 3, j + L, sums, za, out, sa, scales, bias, biasOff, y, yOff, ldy);
        }
        if (j < mv) {
            IntVector a0 = IntVector.zero(SI), a1 = a0, a2 = a0, a3 = a0;
            for (int p = p0; p < p1; p++) {
                IntVector xv = widen(x, xOff + col.getAtIndex(S32, p) * ldx + j, signed);
                long v = 4L * p;
                a0 = a0.add(xv.mul(val.get(ValueLayout.JAVA_BYTE, v)));
                a1 = a1.add(xv.mul(val.get(ValueLayout.JAVA_BYTE, v + 1)));
                a2 = a2.add(xv.mul(val.get(ValueLayout.JAVA_BYTE, v + 2)));
                a3 = a3.add(xv.mul(val.get(ValueLayout.JAVA_BYTE, v + 3)));
            }
            storeInt8(a0, i, j, sums, za, out, sa, scales, bias, biasOff, y, yOff, ldy);
            storeInt8(a1, i + 1, j, sums, za, out, sa, scales, bias, biasOff, y, yOff, ldy);
            storeInt8(a2, i + 2, j, sums, za, out, sa, scales, bias, biasOff, y, yOff, ldy);
            storeInt8(a3, i + 3, j, sums, za, out, sa, scales, bias, biasOff, y, yOff, ldy);
        }
        for (int r = 0; r < 4; r++) { // the last columns, scalar
            float bi = bias == null ? 0f : bias.getAtIndex(F32, biasOff + i + r), sw = scales.getAtIndex(F32, i + r);
            int corr = za * sums.getAtIndex(S32, i + r);
            for (int jj = mv; jj < m; jj++) {
                int acc = 0;
                for (int p = p0; p < p1; p++) {
                    byte xv = x.get(ValueLayout.JAVA_BYTE, xOff + col.getAtIndex(S32, p) * ldx + jj);
                    acc += val.get(ValueLayout.JAVA_BYTE, 4L * p + r) * (signed ? xv : xv & 0xFF);
                }
                Int8Epilogue.store(out, y, yOff + (i + r) * ldy + jj, acc - corr, sa, sw, bi);
            }
        }
    }

    /** L bytes of X at element xi as s32 lanes (u8 or s8). */
    private static IntVector widen(MemorySegment x, long xi, boolean signed) {
        IntVector v = (IntVector) ByteVector.fromMemorySegment(SB, x, xi, ORDER).convertShape(VectorOperators.B2I, SI, 0);
        return signed ? v : v.and(0xFF);
    }

    /** Row i, columns [j, j + L) of Y from the accumulators: zero point off, then the epilogue. */
    private static void storeInt8(IntVector acc, int i, int j, MemorySegment sums, int za, Int8Output out, float sa, MemorySegment scales,
                                  MemorySegment bias, long biasOff, MemorySegment y, long yOff, long ldy) {
        acc = acc.sub(za * sums.getAtIndex(S32, i));
        long yRow = yOff + i * ldy;
        if (out.type() == DType.S32) {
            acc.intoMemorySegment(y, (yRow + j) * 4, ORDER);
            return;
        }
        int[] lanes = LANES.get();
        acc.intoArray(lanes, 0);
        float bi = bias == null ? 0f : bias.getAtIndex(F32, biasOff + i), sw = scales.getAtIndex(F32, i);
        for (int l = 0; l < L; l++) Int8Epilogue.store(out, y, yRow + j + l, lanes[l], sa, sw, bi);
    }

    private static MemorySegment seg(Storage s) {
        return ((HostStorage) s).segment();
    }
}
