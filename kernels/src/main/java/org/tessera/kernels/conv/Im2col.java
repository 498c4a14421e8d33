package org.tessera.kernels.conv;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.tessera.kernels.spi.Conv2dShape;

/**
 * Rows of the im2col matrix of one group of an NHWC convolution: row (n, oh, ow) holds the input patch that
 * output pixel reads, as (r, s, c) with c fastest (the filter layout), zeros where the patch falls in the
 * padding. Runs of c (and of s, when taps are adjacent) are contiguous in NHWC, so rows are built from bulk
 * copies, not element by element.
 */
final class Im2col {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private Im2col() {}

    /** Columns of the matrix: r * s * c / groups. */
    static long columns(Conv2dShape s) {
        return (long) s.r() * s.s() * (s.c() / s.groups());
    }

    /**
     * Writes rows [row0, row0 + rows) of group g's matrix of f32 x to dst at element dstOff, row stride
     * {@link #columns}. Rows count output pixels in (n, oh, ow) order; padding reads 0.
     */
    static void rows(Conv2dShape s, MemorySegment x, long xOff, int g, long row0, int rows, MemorySegment dst, long dstOff) {
        copyRows(s, x, xOff, g, row0, rows, dst, dstOff, Float.BYTES, (byte) 0); // 0f is four zero bytes
    }

    /**
     * {@link #rows} for 1-byte elements (int8 activations): padding is filled with {@code pad}, the activations'
     * zero point, so it contributes (zp - zp) * w = 0 to the integer sums, as zeros do in f32.
     */
    static void rowsBytes(Conv2dShape s, MemorySegment x, long xOff, int g, long row0, int rows, MemorySegment dst, long dstOff, byte pad) {
        copyRows(s, x, xOff, g, row0, rows, dst, dstOff, 1, pad);
    }

    /** The im2col copy for elements of {@code bytes} bytes; offsets in elements; padding filled with the byte {@code pad}. */
    private static void copyRows(Conv2dShape s, MemorySegment x, long xOff, int g, long row0, int rows, MemorySegment dst, long dstOff,
                                 int bytes, byte pad) {
        int cg = s.c() / s.groups(), outH = s.outH(), outW = s.outW();
        long cols = columns(s), c0 = (long) g * cg;
        // s taps of a filter row read adjacent pixels, one copy for all of them, when nothing separates them.
        boolean rowRuns = s.dilationW() == 1 && s.groups() == 1;
        long pixel = row0;
        for (int i = 0; i < rows; i++, pixel++) {
            long n = pixel / ((long) outH * outW);
            int rest = (int) (pixel % ((long) outH * outW)), oh = rest / outW, ow = rest % outW;
            long out = dstOff + i * cols;
            int iw0 = ow * s.strideW() - s.padLeft();
            boolean widthInside = iw0 >= 0 && iw0 + (s.s() - 1) * s.dilationW() < s.w();
            for (int r = 0; r < s.r(); r++, out += (long) s.s() * cg) {
                int ih = oh * s.strideH() - s.padTop() + r * s.dilationH();
                if (ih < 0 || ih >= s.h()) {
                    dst.asSlice(bytes * out, (long) bytes * s.s() * cg).fill(pad);
                    continue;
                }
                long rowBase = (n * s.h() + ih) * s.w();
                if (rowRuns && widthInside) {
                    MemorySegment.copy(x, bytes * (xOff + (rowBase + iw0) * s.c()), dst, bytes * out, (long) bytes * s.s() * cg);
                    continue;
                }
                for (int t = 0; t < s.s(); t++) {
                    int iw = iw0 + t * s.dilationW();
                    long o = out + (long) t * cg;
                    if (iw < 0 || iw >= s.w()) dst.asSlice(bytes * o, (long) bytes * cg).fill(pad);
                    else MemorySegment.copy(x, bytes * (xOff + (rowBase + iw) * s.c() + c0), dst, bytes * o, (long) bytes * cg);
                }
            }
        }
    }

    /**
     * The adjoint of {@link #rows}: adds rows [row0, row0 + rows) of group g's matrix, at src element srcOff,
     * into the input-shaped dx at element dxOff (entries that fall in the padding are dropped).
     */
    static void addRows(Conv2dShape s, MemorySegment src, long srcOff, int g, long row0, int rows, MemorySegment dx, long dxOff) {
        int cg = s.c() / s.groups(), outH = s.outH(), outW = s.outW();
        long cols = columns(s), c0 = (long) g * cg;
        long pixel = row0;
        for (int i = 0; i < rows; i++, pixel++) {
            long n = pixel / ((long) outH * outW);
            int rest = (int) (pixel % ((long) outH * outW)), oh = rest / outW, ow = rest % outW;
            long in = srcOff + i * cols;
            for (int r = 0; r < s.r(); r++) {
                int ih = oh * s.strideH() - s.padTop() + r * s.dilationH();
                for (int t = 0; t < s.s(); t++, in += cg) {
                    int iw = ow * s.strideW() - s.padLeft() + t * s.dilationW();
                    if (ih < 0 || ih >= s.h() || iw < 0 || iw >= s.w()) continue;
                    long out = dxOff + ((n * s.h() + ih) * s.w() + iw) * s.c() + c0;
                    for (int c = 0; c < cg; c++) dx.setAtIndex(F32, out + c, dx.getAtIndex(F32, out + c) + src.getAtIndex(F32, in + c));
                }
            }
        }
    }

    /** Sets count floats at element off to 0. */
    static void zero(MemorySegment dst, long off, long count) {
        dst.asSlice(4 * off, 4 * count).fill((byte) 0);
    }
}
