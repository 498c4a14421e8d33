package org.tessera.kernels.pool;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.tessera.kernels.WorkerPool;
import org.tessera.kernels.spi.Pool2dShape;

/**
 * Max pooling of u8 codes on NHWC with the Vector API (unsigned byte maximum, {@code vpmaxub} on AVX2): exact,
 * and a quarter of the f32 kernel's bytes. Quantized models pool their activations with it, since quantization is
 * monotonic. Output rows split over the worker pool; operands validated by the caller.
 */
final class MaxPool2dU8Panama {
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_PREFERRED;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private MaxPool2dU8Panama() {}

    /** y from x; offsets in bytes. */
    static void run(Pool2dShape s, MemorySegment x, long xOff, MemorySegment y, long yOff) {
        long rows = (long) s.n() * s.outH();
        WorkerPool pool = WorkerPool.shared();
        int parts = pool.chunks(rows * s.outW() * s.c() * s.kh() * s.kw(), 1 << 18);
        if (parts == 1) {
            rows(s, x, xOff, y, yOff, 0, rows);
        } else {
            pool.parallelFor(parts, t -> rows(s, x, xOff, y, yOff, rows * t / parts, rows * (t + 1) / parts));
        }
    }

    private static void rows(Pool2dShape s, MemorySegment x, long xOff, MemorySegment y, long yOff, long r0, long r1) {
        int c = s.c(), w = s.w(), outW = s.outW(), lanes = B.length(), vecEnd = c - c % lanes;
        for (long row = r0; row < r1; row++) {
            int n = (int) (row / s.outH()), oh = (int) (row % s.outH());
            int ih0 = oh * s.strideH() - s.padTop(), i0 = Math.max(0, -ih0), i1 = Math.min(s.kh(), s.h() - ih0);
            long image = (long) n * s.h() * w;
            for (int ow = 0; ow < outW; ow++) {
                int iw0 = ow * s.strideW() - s.padLeft(), j0 = Math.max(0, -iw0), j1 = Math.min(s.kw(), w - iw0);
                long out = yOff + (row * outW + ow) * c;
                for (int ch = 0; ch < vecEnd; ch += lanes) {
                    ByteVector best = ByteVector.zero(B); // 0 is the smallest code
                    for (int i = i0; i < i1; i++) {
                        long base = xOff + (image + (long) (ih0 + i) * w + iw0) * c + ch;
                        for (int j = j0; j < j1; j++) {
                            best = best.lanewise(VectorOperators.UMAX, ByteVector.fromMemorySegment(B, x, base + (long) j * c, LE));
                        }
                    }
                    best.intoMemorySegment(y, out + ch, LE);
                }
                for (int ch = vecEnd; ch < c; ch++) {
                    int best = 0;
                    for (int i = i0; i < i1; i++) {
                        long base = xOff + (image + (long) (ih0 + i) * w + iw0) * c + ch;
                        for (int j = j0; j < j1; j++) best = Math.max(best, x.get(ValueLayout.JAVA_BYTE, base + (long) j * c) & 0xFF);
                    }
                    y.set(ValueLayout.JAVA_BYTE, out + ch, (byte) best);
                }
            }
        }
    }
}
