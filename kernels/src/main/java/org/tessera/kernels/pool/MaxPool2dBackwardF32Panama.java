package org.tessera.kernels.pool;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicBoolean;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.tessera.kernels.WorkerPool;
import org.tessera.kernels.spi.Pool2dShape;

/**
 * f32 max-pooling backward on NHWC for windows that do not overlap (stride &ge; window, the common 2x2 stride-2
 * case), with the Vector API: every input position lies in at most one window, so instead of zeroing dx and
 * scattering each dy to its argmax, each window position gets {@code argmax == position ? dy : 0} in one
 * write pass, a vector of channels at a time, output rows split over the worker pool. Same bits as the scalar
 * rule (0 + dy, so a -0 gradient lands as +0). An argmax that names no position of its window (not what the
 * forward wrote) makes {@link #run} return false, and the caller runs the scalar rule, which reports it.
 */
final class MaxPool2dBackwardF32Panama {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED; // same lane count as F
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private MaxPool2dBackwardF32Panama() {}

    /** Whether this kernel serves {@code s}: windows that do not overlap. */
    static boolean applies(Pool2dShape s) {
        return s.strideH() >= s.kh() && s.strideW() >= s.kw();
    }

    /** dx from dy and argmax (offsets in elements); false when an argmax lies outside its window. */
    static boolean run(Pool2dShape s, MemorySegment dy, long dyOff, MemorySegment argmax, long aOff, MemorySegment dx, long dxOff) {
        boolean tiled = s.strideH() == s.kh() && s.strideW() == s.kw() && (long) s.outH() * s.kh() - s.padTop() >= s.h()
                && (long) s.outW() * s.kw() - s.padLeft() >= s.w();
        if (!tiled) dx.asSlice(4 * dxOff, 4L * s.n() * s.h() * s.w() * s.c()).fill((byte) 0); // positions no window covers
        long rows = (long) s.n() * s.outH();
        WorkerPool pool = WorkerPool.shared();
        int parts = pool.chunks((long) s.n() * s.h() * s.w() * s.c(), 1 << 17);
        if (parts == 1) return rows(s, dy, dyOff, argmax, aOff, dx, dxOff, 0, rows);
        AtomicBoolean ok = new AtomicBoolean(true);
        pool.parallelFor(parts, t -> {
            if (!rows(s, dy, dyOff, argmax, aOff, dx, dxOff, rows * t / parts, rows * (t + 1) / parts)) ok.set(false);
        });
        return ok.get();
    }

    /** Output rows [r0, r1) of all images, row = image * outH + oh. */
    private static boolean rows(Pool2dShape s, MemorySegment dy, long dyOff, MemorySegment argmax, long aOff, MemorySegment dx, long dxOff,
                                long r0, long r1) {
        int c = s.c(), w = s.w(), outW = s.outW(), lanes = F.length(), vecEnd = c - c % lanes;
        FloatVector zero = FloatVector.zero(F);
        for (long row = r0; row < r1; row++) {
            int n = (int) (row / s.outH()), oh = (int) (row % s.outH());
            int ih0 = oh * s.strideH() - s.padTop(), i0 = Math.max(0, -ih0), i1 = Math.min(s.kh(), s.h() - ih0);
            long image = (long) n * s.h() * w;
            for (int ow = 0; ow < outW; ow++) {
                int iw0 = ow * s.strideW() - s.padLeft(), j0 = Math.max(0, -iw0), j1 = Math.min(s.kw(), w - iw0);
                long out = (row * outW + ow) * c;
                for (int ch = 0; ch < vecEnd; ch += lanes) {
                    FloatVector g = FloatVector.fromMemorySegment(F, dy, 4 * (dyOff + out + ch), LE).add(0f);
                    IntVector at = IntVector.fromMemorySegment(I, argmax, 4 * (aOff + out + ch), LE);
                    VectorMask<Integer> hit = I.maskAll(false);
                    for (int i = i0; i < i1; i++) {
                        for (int j = j0; j < j1; j++) {
                            int pos = (ih0 + i) * w + iw0 + j;
                            VectorMask<Integer> here = at.compare(VectorOperators.EQ, pos);
                            hit = hit.or(here);
                            zero.blend(g, here.cast(F)).intoMemorySegment(dx, 4 * (dxOff + (image + pos) * c + ch), LE);
                        }
                    }
                    if (!hit.allTrue()) return false;
                }
                for (int ch = vecEnd; ch < c; ch++) {
                    float g = 0f + dy.getAtIndex(F32, dyOff + out + ch);
                    int at = argmax.getAtIndex(I32, aOff + out + ch);
                    boolean hit = false;
                    for (int i = i0; i < i1; i++) {
                        for (int j = j0; j < j1; j++) {
                            int pos = (ih0 + i) * w + iw0 + j;
                            hit |= at == pos;
                            dx.setAtIndex(F32, dxOff + (image + pos) * c + ch, at == pos ? g : 0f);
                        }
                    }
                    if (!hit) return false;
                }
            }
        }
        return true;
    }
}
