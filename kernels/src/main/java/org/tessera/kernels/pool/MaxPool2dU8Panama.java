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
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_PREFERRED, B256 = ByteVector.SPECIES_256, B128 = ByteVector.SPECIES_128,
            B64 = ByteVector.SPECIES_64;
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
        int c = s.c(), w = s.w(), outW = s.outW();
        boolean pairs = s.kh() == 2 && s.kw() == 2 && s.strideH() == 2 && s.strideW() == 2 && s.padTop() == 0 && s.padLeft() == 0;
        for (long row = r0; row < r1; row++) {
            int n = (int) (row / s.outH()), oh = (int) (row % s.outH());
            int ih0 = oh * s.strideH() - s.padTop(), i0 = Math.max(0, -ih0), i1 = Math.min(s.kh(), s.h() - ih0);
            long image = (long) n * s.h() * w;
            int ow = 0;
            if (pairs && i1 == 2) ow = whole2x2(x, xOff + (image + (long) ih0 * w) * c, (long) w * c, y, yOff + row * outW * c, c, Math.min(outW, w / 2));
            for (; ow < outW; ow++) {
                int iw0 = ow * s.strideW() - s.padLeft(), j0 = Math.max(0, -iw0), j1 = Math.min(s.kw(), w - iw0);
                long out = yOff + (row * outW + ow) * c;
                long first = xOff + (image + (long) (ih0 + i0) * w + iw0 + j0) * c;
                // The widest vectors first, then narrower ones for the rest: with 64-byte vectors, the 24 or 32
                // channels of a small pruned layer would otherwise all fall to the scalar tail.
                int ch = channelsWide(s, x, first, y, out, 0, c, i0, i1, j0, j1);
                if (B.length() > 32) ch = channels32(s, x, first, y, out, ch, c, i0, i1, j0, j1);
                if (B.length() > 16) ch = channels16(s, x, first, y, out, ch, c, i0, i1, j0, j1);
                if (B.length() > 8) ch = channels8(s, x, first, y, out, ch, c, i0, i1, j0, j1);
                for (; ch < c; ch++) {
                    int best = 0;
                    for (int i = i0; i < i1; i++) {
                        long base = first + (long) (i - i0) * w * c + ch;
                        for (int j = j0; j < j1; j++) best = Math.max(best, x.get(ValueLayout.JAVA_BYTE, base + (long) (j - j0) * c) & 0xFF);
                    }
                    y.set(ValueLayout.JAVA_BYTE, out + ch, (byte) best);
                }
            }
        }
    }

    /**
     * The 2x2, stride-2 windows of one output row that lie inside the input (the quantized models' pooling), the
     * channels in preferred-width vectors: four loads and three maxima per vector, without the general loop's
     * per-pixel window bounds and per-width calls (270-305 -> 200-215 us for 256 Fashion-MNIST conv2 outputs on 2
     * threads). Returns the first output pixel it left, all of them where c is a multiple of the vector width.
     */
    private static int whole2x2(MemorySegment x, long top, long rowBytes, MemorySegment y, long out, int c, int pixels) {
        if (c % B.length() != 0) return 0;
        for (int ow = 0; ow < pixels; ow++, top += 2L * c, out += c) {
            for (int ch = 0; ch < c; ch += B.length()) {
                long a = top + ch;
                ByteVector m = ByteVector.fromMemorySegment(B, x, a, LE).lanewise(VectorOperators.UMAX, ByteVector.fromMemorySegment(B, x, a + c, LE));
                ByteVector d = ByteVector.fromMemorySegment(B, x, a + rowBytes, LE).lanewise(VectorOperators.UMAX,
                        ByteVector.fromMemorySegment(B, x, a + rowBytes + c, LE));
                m.lanewise(VectorOperators.UMAX, d).intoMemorySegment(y, out + ch, LE);
            }
        }
        return pixels;
    }

    // One method per vector width, each naming its species as a constant: the Vector API compiles to vector
    // instructions only where the species is a compile-time constant, and one method taking the species as a
    // parameter was not always inlined at its four call sites (JFR: ByteVector.zero boxed on the slow path).

    /** Channels from {@code ch} on, 64-byte (or the preferred width's) vectors while they fit in c; returns the first channel left. */
    private static int channelsWide(Pool2dShape s, MemorySegment x, long first, MemorySegment y, long out, int ch, int c, int i0, int i1, int j0, int j1) {
        long rowBytes = (long) s.w() * c;
        for (; ch + B.length() <= c; ch += B.length()) {
            ByteVector best = ByteVector.zero(B); // 0 is the smallest code
            for (int i = i0; i < i1; i++) {
                long base = first + (i - i0) * rowBytes + ch;
                for (int j = j0; j < j1; j++) best = best.lanewise(VectorOperators.UMAX, ByteVector.fromMemorySegment(B, x, base + (long) (j - j0) * c, LE));
            }
            best.intoMemorySegment(y, out + ch, LE);
        }
        return ch;
    }

    /** {@link #channelsWide} with 32-byte vectors. */
    private static int channels32(Pool2dShape s, MemorySegment x, long first, MemorySegment y, long out, int ch, int c, int i0, int i1, int j0, int j1) {
        long rowBytes = (long) s.w() * c;
        for (; ch + 32 <= c; ch += 32) {
            ByteVector best = ByteVector.zero(B256);
            for (int i = i0; i < i1; i++) {
                long base = first + (i - i0) * rowBytes + ch;
                for (int j = j0; j < j1; j++) best = best.lanewise(VectorOperators.UMAX, ByteVector.fromMemorySegment(B256, x, base + (long) (j - j0) * c, LE));
            }
            best.intoMemorySegment(y, out + ch, LE);
        }
        return ch;
    }

    /** {@link #channelsWide} with 16-byte vectors. */
    private static int channels16(Pool2dShape s, MemorySegment x, long first, MemorySegment y, long out, int ch, int c, int i0, int i1, int j0, int j1) {
        long rowBytes = (long) s.w() * c;
        for (; ch + 16 <= c; ch += 16) {
            ByteVector best = ByteVector.zero(B128);
            for (int i = i0; i < i1; i++) {
                long base = first + (i - i0) * rowBytes + ch;
                for (int j = j0; j < j1; j++) best = best.lanewise(VectorOperators.UMAX, ByteVector.fromMemorySegment(B128, x, base + (long) (j - j0) * c, LE));
            }
            best.intoMemorySegment(y, out + ch, LE);
        }
        return ch;
    }

    /** {@link #channelsWide} with 8-byte vectors. */
    private static int channels8(Pool2dShape s, MemorySegment x, long first, MemorySegment y, long out, int ch, int c, int i0, int i1, int j0, int j1) {
        long rowBytes = (long) s.w() * c;
        for (; ch + 8 <= c; ch += 8) {
            ByteVector best = ByteVector.zero(B64);
            for (int i = i0; i < i1; i++) {
                long base = first + (i - i0) * rowBytes + ch;
                for (int j = j0; j < j1; j++) best = best.lanewise(VectorOperators.UMAX, ByteVector.fromMemorySegment(B64, x, base + (long) (j - j0) * c, LE));
            }
            best.intoMemorySegment(y, out + ch, LE);
        }
        return ch;
    }
}
