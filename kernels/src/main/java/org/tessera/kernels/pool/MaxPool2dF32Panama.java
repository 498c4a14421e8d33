package org.tessera.kernels.pool;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.tessera.kernels.WorkerPool;
import org.tessera.kernels.spi.Pool2dShape;

/**
 * f32 max pooling on NHWC with the Vector API: one vector of channels per window, the running maximum and its
 * argmax held in registers across the taps, output rows split over the worker pool. Same result as the scalar
 * rule, bit for bit: a tap replaces the maximum when it is greater, or NaN over a non-NaN (so the first NaN or
 * the first of equal maxima wins). Operands are validated by the caller.
 */
final class MaxPool2dF32Panama {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED; // same lane count as F
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private MaxPool2dF32Panama() {}

    /** y (and argmax, when not null) from x; offsets in elements. */
    static void run(Pool2dShape s, MemorySegment x, long xOff, MemorySegment y, long yOff, MemorySegment argmax, long aOff) {
        long rows = (long) s.n() * s.outH();
        WorkerPool pool = WorkerPool.shared();
        int parts = pool.chunks(rows * s.outW() * s.c() * s.kh() * s.kw(), 1 << 17);
        if (parts == 1) {
            rows(s, x, xOff, y, yOff, argmax, aOff, 0, rows);
        } else {
            pool.parallelFor(parts, t -> rows(s, x, xOff, y, yOff, argmax, aOff, rows * t / parts, rows * (t + 1) / parts));
        }
    }

    /** Output rows [r0, r1) of all images, row = image * outH + oh. */
    private static void rows(Pool2dShape s, MemorySegment x, long xOff, MemorySegment y, long yOff, MemorySegment argmax, long aOff, long r0,
                             long r1) {
        int c = s.c(), w = s.w(), outW = s.outW(), lanes = F.length(), vecEnd = c - c % lanes;
        for (long row = r0; row < r1; row++) {
            int n = (int) (row / s.outH()), oh = (int) (row % s.outH());
            int ih0 = oh * s.strideH() - s.padTop(), i0 = Math.max(0, -ih0), i1 = Math.min(s.kh(), s.h() - ih0);
            long image = (long) n * s.h() * w;
            for (int ow = 0; ow < outW; ow++) {
                int iw0 = ow * s.strideW() - s.padLeft(), j0 = Math.max(0, -iw0), j1 = Math.min(s.kw(), w - iw0);
                int firstPos = (ih0 + i0) * w + iw0 + j0;
                long out = (row * outW + ow) * c;
                for (int ch = 0; ch < vecEnd; ch += lanes) {
                    FloatVector best = load(x, xOff + (image + firstPos) * c + ch);
                    IntVector at = IntVector.broadcast(I, firstPos);
                    for (int i = i0; i < i1; i++) {
                        for (int j = i == i0 ? j0 + 1 : j0; j < j1; j++) {
                            int pos = (ih0 + i) * w + iw0 + j;
                            FloatVector v = load(x, xOff + (image + pos) * c + ch);
                            VectorMask<Float> take = v.compare(VectorOperators.GT, best)
                                    .or(v.test(VectorOperators.IS_NAN).andNot(best.test(VectorOperators.IS_NAN)));
                            best = best.blend(v, take);
                            if (argmax != null) at = at.blend(pos, take.cast(I));
                        }
                    }
                    best.intoMemorySegment(y, 4 * (yOff + out + ch), LE);
                    if (argmax != null) at.intoMemorySegment(argmax, 4 * (aOff + out + ch), LE);
                }
                for (int ch = vecEnd; ch < c; ch++) {
                    float best = x.getAtIndex(F32, xOff + (image + firstPos) * c + ch);
                    int at = firstPos;
                    for (int i = i0; i < i1; i++) {
                        for (int j = i == i0 ? j0 + 1 : j0; j < j1; j++) {
                            int pos = (ih0 + i) * w + iw0 + j;
                            float v = x.getAtIndex(F32, xOff + (image + pos) * c + ch);
                            if (v > best || (Float.isNaN(v) && !Float.isNaN(best))) {
                                best = v;
                                at = pos;
                            }
                        }
                    }
                    y.setAtIndex(F32, yOff + out + ch, best);
                    if (argmax != null) argmax.setAtIndex(I32, aOff + out + ch, at);
                }
            }
        }
    }

    private static FloatVector load(MemorySegment x, long element) {
        return FloatVector.fromMemorySegment(F, x, 4 * element, LE);
    }
}
