package org.tessera.kernels.conv;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import org.tessera.kernels.HostStorage;
import org.tessera.kernels.Storage;
import org.tessera.kernels.spi.Conv2dShape;
import org.tessera.kernels.spi.F32GemmKernels;

/**
 * Gradients of {@link GemmConv2d}'s forward, on the same GEMM, per algorithm (depthwise: {@link DepthwiseBackward}):
 * <ul>
 *   <li>1x1: dx = dy w (one GEMM), dw = dy^T x (one GEMM, k = pixels);</li>
 *   <li>general: per group and chunk of pixels, dcol = dy w then col2im (scatter-add) into dx; and im2col of
 *       x, then dw += dy^T col (the chunks accumulate through the GEMM's beta).</li>
 * </ul>
 * db is summed in double. Outputs are overwritten.
 */
final class ConvBackward {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> HALF = FloatVector.SPECIES_PREFERRED.withShape(VectorShape.forBitSize(D.vectorBitSize() / 2));

    private ConvBackward() {}

    static void data(F32GemmKernels gemm, HostStorage ws, int chunk, Conv2dShape s, Storage dy, long dyOff, Storage w, long wOff,
                     Storage dx, long dxOff) {
        MemorySegment dxs = seg(dx);
        long pixels = (long) s.n() * s.outH() * s.outW();
        switch (GemmConv2d.algorithm(s)) {
            case GEMM_1X1 -> {
                for (long p0 = 0; p0 < pixels; p0 += Integer.MAX_VALUE) { // GEMM sizes are ints
                    int rows = (int) Math.min(Integer.MAX_VALUE, pixels - p0);
                    gemm.gemm(false, false, rows, s.c(), s.k(), 1f, dy, dyOff + p0 * s.k(), s.k(), w, wOff, s.c(), 0f, dx,
                            dxOff + p0 * s.c(), s.c(), null, 0, false);
                }
            }
            case DEPTHWISE -> throw new IllegalStateException("depthwise gradients are DepthwiseBackward's");
            case IM2COL -> {
                Im2col.zero(dxs, dxOff, (long) s.n() * s.h() * s.w() * s.c());
                long cols = Im2col.columns(s);
                int kg = s.k() / s.groups();
                for (int g = 0; g < s.groups(); g++) {
                    for (long p0 = 0; p0 < pixels; p0 += chunk) {
                        int rows = (int) Math.min(chunk, pixels - p0);
                        gemm.gemm(false, false, rows, (int) cols, kg, 1f, dy, dyOff + p0 * s.k() + (long) g * kg, s.k(), w,
                                wOff + (long) g * kg * cols, cols, 0f, ws, 0, cols, null, 0, false);
                        Im2col.addRows(s, ws.segment(), 0, g, p0, rows, dxs, dxOff);
                    }
                }
            }
        }
    }

    static void weights(F32GemmKernels gemm, HostStorage ws, int chunk, Conv2dShape s, Storage x, long xOff, Storage dy, long dyOff,
                        Storage dw, long dwOff, Storage db, long dbOff) {
        MemorySegment xs = seg(x), dys = seg(dy);
        long pixels = (long) s.n() * s.outH() * s.outW();
        switch (GemmConv2d.algorithm(s)) {
            case GEMM_1X1 -> {
                for (long p0 = 0; p0 < pixels; p0 += Integer.MAX_VALUE) {
                    int rows = (int) Math.min(Integer.MAX_VALUE, pixels - p0);
                    gemm.gemm(true, false, s.k(), s.c(), rows, 1f, dy, dyOff + p0 * s.k(), s.k(), x, xOff + p0 * s.c(), s.c(),
                            p0 == 0 ? 0f : 1f, dw, dwOff, s.c(), null, 0, false);
                }
            }
            case DEPTHWISE -> throw new IllegalStateException("depthwise gradients are DepthwiseBackward's");
            case IM2COL -> {
                long cols = Im2col.columns(s);
                int kg = s.k() / s.groups();
                for (int g = 0; g < s.groups(); g++) {
                    for (long p0 = 0; p0 < pixels; p0 += chunk) {
                        int rows = (int) Math.min(chunk, pixels - p0);
                        Im2col.rows(s, xs, xOff, g, p0, rows, ws.segment(), 0);
                        gemm.gemm(true, false, kg, (int) cols, rows, 1f, dy, dyOff + p0 * s.k() + (long) g * kg, s.k(), ws, 0, cols,
                                p0 == 0 ? 0f : 1f, dw, dwOff + (long) g * kg * cols, cols, null, 0, false);
                    }
                }
            }
        }
        if (db != null) biasGradient(s, dys, dyOff, seg(db), dbOff);
    }

    /**
     * db[j] = sum over pixels of dy[p][j], added in pixel order in double (vector lanes are channels). Up to four
     * vectors of channels per pass over the pixels, their sums held in registers (summing into an array instead
     * cost a store and reload per vector and pixel: 0.4 ms for Fashion-MNIST's first layer at 64 images).
     */
    static void biasGradient(Conv2dShape s, MemorySegment dy, long dyOff, MemorySegment db, long dbOff) {
        biasGradient(s, dy, dyOff, db, dbOff, 0, s.k());
    }

    /**
     * db[j] for channels [j0, j1) only, the same sums as {@link #biasGradient(Conv2dShape, MemorySegment, long,
     * MemorySegment, long)}: threads that own disjoint channel ranges give the one-thread bits.
     */
    static void biasGradient(Conv2dShape s, MemorySegment dy, long dyOff, MemorySegment db, long dbOff, int j0, int j1) {
        int k = s.k(), lanes = D.length(), vecEnd = j1 - (j1 - j0) % lanes;
        long pixels = (long) s.n() * s.outH() * s.outW();
        for (int j = j0; j < vecEnd; j += 4 * lanes) {
            int vectors = Math.min(4, (vecEnd - j) / lanes);
            if (vectors == 4) {
                DoubleVector a0 = DoubleVector.zero(D), a1 = a0, a2 = a0, a3 = a0;
                for (long p = 0, at = 4 * (dyOff + j); p < pixels; p++, at += 4L * k) {
                    a0 = a0.add(widened(dy, at));
                    a1 = a1.add(widened(dy, at + 4L * lanes));
                    a2 = a2.add(widened(dy, at + 8L * lanes));
                    a3 = a3.add(widened(dy, at + 12L * lanes));
                }
                store(a0, db, dbOff + j);
                store(a1, db, dbOff + j + lanes);
                store(a2, db, dbOff + j + 2L * lanes);
                store(a3, db, dbOff + j + 3L * lanes);
            } else {
                for (int v = 0; v < vectors; v++) {
                    DoubleVector a = DoubleVector.zero(D);
                    for (long p = 0, at = 4 * (dyOff + j + (long) v * lanes); p < pixels; p++, at += 4L * k) a = a.add(widened(dy, at));
                    store(a, db, dbOff + j + (long) v * lanes);
                }
            }
        }
        for (int j = vecEnd; j < j1; j++) {
            double sum = 0;
            for (long p = 0; p < pixels; p++) sum += dy.getAtIndex(F32, dyOff + p * k + j);
            db.setAtIndex(F32, dbOff + j, (float) sum);
        }
    }

    /** db[at ..] = the lanes of sums, rounded to float (no array: this runs every training step). */
    private static void store(DoubleVector sums, MemorySegment db, long at) {
        for (int l = 0; l < D.length(); l++) db.setAtIndex(F32, at + l, (float) sums.lane(l));
    }

    /** The floats at byte offset {@code at} of dy, one double lane each. */
    private static DoubleVector widened(MemorySegment dy, long at) {
        return (DoubleVector) FloatVector.fromMemorySegment(HALF, dy, at, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.F2D, D, 0);
    }

    private static MemorySegment seg(Storage s) {
        return ((HostStorage) s).segment();
    }
}
