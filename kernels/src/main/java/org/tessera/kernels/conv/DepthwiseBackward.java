package org.tessera.kernels.conv;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;
import org.tessera.kernels.WorkerPool;
import org.tessera.kernels.spi.Conv2dShape;

/**
 * Gradients of the depthwise convolution (groups = c = k), NHWC, any stride, dilation and padding, on the Vector
 * API with channels in the lanes (a pixel's channels are adjacent in NHWC, as are a tap's in the transposed
 * filters). The java backend uses all of it; {@link GemmConv2d} sends stride-1 dx through the forward kernel instead,
 * and 3x3 dw to the backend's {@link DepthwiseConv2d#weightGradient} where it has one (native: 28x28x256, 1 thread,
 * dw + db 113 -> 65 us).
 * <ul>
 *   <li>dx, gathered per input pixel (no scatter, so rows split over the pool without conflicts): dx[ih][iw][c] =
 *       sum over the taps (i, j) whose output pixel oh = (ih + padTop - i dilH) / strideH (likewise ow) exists of
 *       dy[oh][ow][c] wt[i][j][c]; four channel vectors per pass (four FMA chains).</li>
 *   <li>dw, split over channel vectors (each task owns its channels: no reduction, same result for any thread
 *       count), into a (taps, c) scratch block of running sums, transposed to (c, r, s) at the end. 3x3 rows with
 *       whole windows: per block of pixels and channel vector, the nine sums in registers (where stride equals
 *       dilation along the row, x vectors slide through the window: 4 loads per 9 FMAs). Other pixels (edges, other
 *       filters): per pixel, vector and tap, the sum read, updated and written back.</li>
 * </ul>
 * The scalar loop nest this replaces ran at 2 GFLOP/s (dw 3x3 at 28x28x256, 1 thread); now dx 28-35 (48-63 on the
 * native forward kernel) and dw 30 GFLOP/s, where oneDNN's dw reaches 45-54.
 */
final class DepthwiseBackward {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    /**
     * Pixels per 3x3 weight-gradient block. Small blocks keep a block's lines of every channel vector in L1, but
     * each block pays the nine sums' loads and stores per vector: at c=256 28x28 (1 thread) blocks of 4, 8 and 32
     * pixels took 200, 125 and 113 us.
     */
    private static final int TILE_PIXELS = 32;

    private DepthwiseBackward() {}

    /** dx (n, h, w, c), overwritten, from dy and the filters transposed to (r, s, c); input rows split over the pool. */
    static void data(Conv2dShape s, MemorySegment dy, long dyOff, MemorySegment wt, MemorySegment dx, long dxOff) {
        long inRows = (long) s.n() * s.h();
        if (inRows > Integer.MAX_VALUE) throw new IllegalArgumentException("depthwise conv2d backward supports up to 2^31-1 input rows (n * h), got " + inRows);
        int rows = (int) inRows;
        WorkerPool pool = WorkerPool.shared();
        int parts = pool.chunks((long) rows * s.w() * s.c() * s.r() * s.s(), 1 << 15);
        pool.parallelFor(parts, t -> dataRows(s, dy, dyOff, wt, dx, dxOff, (int) ((long) rows * t / parts), (int) ((long) rows * (t + 1) / parts)));
    }

    /** Input rows [row0, row1) of the flattened (n, ih) range. */
    private static void dataRows(Conv2dShape s, MemorySegment dy, long dyOff, MemorySegment wt, MemorySegment dx, long dxOff, int row0, int row1) {
        int c = s.c(), sc = s.s();
        int[] ohs = new int[s.r()], ows = new int[sc], is = new int[s.r()], js = new int[sc]; // per call, not per pixel
        VectorMask<Float> tail = S.indexInRange(c / L * L, c);
        for (int row = row0; row < row1; row++) {
            int n = row / s.h(), ih = row % s.h();
            int ni = sources(ih, s.padTop(), s.dilationH(), s.strideH(), s.r(), s.outH(), is, ohs);
            for (int iw = 0; iw < s.w(); iw++) {
                int nj = sources(iw, s.padLeft(), s.dilationW(), s.strideW(), sc, s.outW(), js, ows);
                long out = 4 * (dxOff + ((long) row * s.w() + iw) * c);
                long dyImage = 4 * (dyOff + (long) n * s.outH() * s.outW() * c);
                int ch = 0;
                for (; ch + 4 * L <= c; ch += 4 * L) {
                    FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
                    for (int a = 0; a < ni; a++) {
                        for (int b = 0; b < nj; b++) {
                            long g = dyImage + 4L * (((long) ohs[a] * s.outW() + ows[b]) * c + ch), f = 4L * ((long) (is[a] * sc + js[b]) * c + ch);
                            a0 = FloatVector.fromMemorySegment(S, dy, g, ORDER).fma(FloatVector.fromMemorySegment(S, wt, f, ORDER), a0);
                            a1 = FloatVector.fromMemorySegment(S, dy, g + 4L * L, ORDER).fma(FloatVector.fromMemorySegment(S, wt, f + 4L * L, ORDER), a1);
                            a2 = FloatVector.fromMemorySegment(S, dy, g + 8L * L, ORDER).fma(FloatVector.fromMemorySegment(S, wt, f + 8L * L, ORDER), a2);
                            a3 = FloatVector.fromMemorySegment(S, dy, g + 12L * L, ORDER).fma(FloatVector.fromMemorySegment(S, wt, f + 12L * L, ORDER), a3);
                        }
                    }
                    a0.intoMemorySegment(dx, out + 4L * ch, ORDER);
                    a1.intoMemorySegment(dx, out + 4L * (ch + L), ORDER);
                    a2.intoMemorySegment(dx, out + 4L * (ch + 2 * L), ORDER);
                    a3.intoMemorySegment(dx, out + 4L * (ch + 3 * L), ORDER);
                }
                for (; ch < c; ch += L) { // one vector at a time, the last one masked
                    VectorMask<Float> m = ch + L <= c ? S.maskAll(true) : tail;
                    FloatVector a0 = FloatVector.zero(S);
                    for (int a = 0; a < ni; a++) {
                        for (int b = 0; b < nj; b++) {
                            long g = dyImage + 4L * (((long) ohs[a] * s.outW() + ows[b]) * c + ch), f = 4L * ((long) (is[a] * sc + js[b]) * c + ch);
                            a0 = FloatVector.fromMemorySegment(S, dy, g, ORDER, m).fma(FloatVector.fromMemorySegment(S, wt, f, ORDER, m), a0);
                        }
                    }
                    a0.intoMemorySegment(dx, out + 4L * ch, ORDER, m);
                }
            }
        }
    }

    /**
     * The taps t of one filter dimension that read input coordinate {@code in}, and the output coordinate o each
     * belongs to (o stride = in + pad - t dilation, 0 <= o < outSize), into taps[] and outs[]; returns how many.
     */
    private static int sources(int in, int pad, int dilation, int stride, int filter, int outSize, int[] taps, int[] outs) {
        int count = 0;
        for (int t = 0; t < filter; t++) {
            int num = in + pad - t * dilation;
            if (num < 0) break; // larger t only lowers num
            if (num % stride != 0) continue;
            int o = num / stride;
            if (o >= outSize) continue;
            taps[count] = t;
            outs[count++] = o;
        }
        return count;
    }

    /**
     * dw (c, r, s, 1), overwritten, from x and dy; channel vectors split over the pool. sums: scratch of at least
     * r * s * c floats.
     */
    static void weights(Conv2dShape s, MemorySegment x, long xOff, MemorySegment dy, long dyOff, MemorySegment dw, long dwOff, MemorySegment sums) {
        int c = s.c(), taps = s.r() * s.s(), vectors = (c + L - 1) / L;
        sums.asSlice(0, 4L * taps * c).fill((byte) 0);
        WorkerPool pool = WorkerPool.shared();
        int parts = Math.min(vectors, pool.chunks((long) s.n() * s.outH() * s.outW() * c * taps, 1 << 15));
        pool.parallelFor(parts, t -> weightVectors(s, x, xOff, dy, dyOff, sums, vectors * t / parts, vectors * (t + 1) / parts));
        for (int ch = 0; ch < c; ch++) {
            for (int t = 0; t < taps; t++) dw.setAtIndex(F32, dwOff + (long) ch * taps + t, sums.getAtIndex(F32, (long) t * c + ch));
        }
    }

    /** Channel vectors [v0, v1) of every tap's sum. */
    private static void weightVectors(Conv2dShape s, MemorySegment x, long xOff, MemorySegment dy, long dyOff, MemorySegment sums, int v0, int v1) {
        int c = s.c(), sc = s.s(), outW = s.outW();
        int[] lo = new int[sc], hi = new int[sc]; // per filter column: the output columns whose tap lands in the input
        for (int j = 0; j < sc; j++) {
            int shift = j * s.dilationW() - s.padLeft(); // iw = ow stride + shift
            lo[j] = shift >= 0 ? 0 : (-shift + s.strideW() - 1) / s.strideW();
            hi[j] = shift > s.w() - 1 ? 0 : Math.min(outW, (s.w() - 1 - shift) / s.strideW() + 1);
        }
        boolean threeByThree = s.r() == 3 && sc == 3;
        int from = 0, to = 0; // 3x3: the output columns whose whole window is inside the input's width
        if (threeByThree) {
            from = Math.max(lo[0], Math.max(lo[1], lo[2]));
            to = Math.max(from, Math.min(hi[0], Math.min(hi[1], hi[2])));
        }
        long xPix = 4L * s.strideW() * c, dyPix = 4L * c, xTap = 4L * s.dilationW() * c, xFilterRow = 4L * s.dilationH() * s.w() * c;
        int wholeVectors = c / L; // the tile takes whole vectors; a channel tail goes through the masked path
        VectorMask<Float> tail = S.indexInRange(wholeVectors * L, c);
        for (int n = 0; n < s.n(); n++) {
            for (int oh = 0; oh < s.outH(); oh++) {
                int hBase = oh * s.strideH() - s.padTop();
                int i0 = Taps.first(hBase, s.dilationH()), i1 = Taps.end(hBase, s.dilationH(), s.h(), s.r());
                long dyRow = 4 * (dyOff + (((long) n * s.outH() + oh) * outW) * c);
                long xRow0 = 4 * (xOff + ((long) n * s.h() + hBase) * s.w() * c); // filter row 0's input row (maybe outside: only i0..i1 are read)
                boolean whole = threeByThree && i0 == 0 && i1 == 3 && from < to;
                if (whole) { // blocks of pixels, every channel vector of a block before the next block (see tile3x3)
                    for (int p0 = from; p0 < to; p0 += TILE_PIXELS) {
                        int count = Math.min(TILE_PIXELS, to - p0);
                        long g = dyRow + p0 * dyPix, xi = xRow0 + 4L * ((long) p0 * s.strideW() - s.padLeft()) * c;
                        for (int v = v0; v < Math.min(v1, wholeVectors); v++) {
                            long gv = g + 4L * v * L, xv = xi + 4L * v * L, at = 4L * v * L;
                            if (xTap == xPix) tile3x3Sliding(dy, gv, dyPix, x, xv, xPix, xFilterRow, count, sums, at, 4L * c);
                            else tile3x3(dy, gv, dyPix, x, xv, xPix, xTap, xFilterRow, count, sums, at, 4L * c);
                        }
                    }
                }
                for (int ow = 0; ow < outW; ow++) { // what the tile left: the tail vector, and every vector elsewhere
                    boolean tiled = whole && ow >= from && ow < to;
                    int wBase = ow * s.strideW() - s.padLeft();
                    int j0 = Taps.first(wBase, s.dilationW()), j1 = Taps.end(wBase, s.dilationW(), s.w(), sc);
                    long g = dyRow + ow * dyPix, xi = xRow0 + 4L * wBase * c;
                    for (int v = tiled ? Math.max(v0, wholeVectors) : v0; v < v1; v++) {
                        if (v < wholeVectors) pixelTaps(s, dy, g, x, xi, sums, v * L, i0, i1, j0, j1);
                        else pixelTapsMasked(s, dy, g, x, xi, sums, v * L, i0, i1, j0, j1, tail);
                    }
                }
            }
        }
    }

    /**
     * One pixel, one channel vector from channel ch: adds dy * x to the sums of taps [i0, i1) x [j0, j1), each read
     * and written back in place (the taps vary from pixel to pixel here: edges, other filter sizes). Byte offsets:
     * g the pixel's dy, xi its window corner in filter row 0 (maybe outside the input: only the given taps are read).
     */
    private static void pixelTaps(Conv2dShape s, MemorySegment dy, long g, MemorySegment x, long xi, MemorySegment sums, int ch,
                                  int i0, int i1, int j0, int j1) {
        int c = s.c();
        long xTap = 4L * s.dilationW() * c, xFilterRow = 4L * s.dilationH() * s.w() * c;
        FloatVector d = FloatVector.fromMemorySegment(S, dy, g + 4L * ch, ORDER);
        for (int i = i0; i < i1; i++) {
            long xr = xi + i * xFilterRow + 4L * ch, at = 4L * ((long) i * s.s() * c + ch);
            for (int j = j0; j < j1; j++) {
                long t = at + 4L * j * c;
                d.fma(FloatVector.fromMemorySegment(S, x, xr + j * xTap, ORDER), FloatVector.fromMemorySegment(S, sums, t, ORDER)).intoMemorySegment(sums, t, ORDER);
            }
        }
    }

    /** {@link #pixelTaps} on the lanes of m only (the others neither read nor written): the channel tail. */
    private static void pixelTapsMasked(Conv2dShape s, MemorySegment dy, long g, MemorySegment x, long xi, MemorySegment sums, int ch,
                                        int i0, int i1, int j0, int j1, VectorMask<Float> m) {
        int c = s.c();
        long xTap = 4L * s.dilationW() * c, xFilterRow = 4L * s.dilationH() * s.w() * c;
        FloatVector d = FloatVector.fromMemorySegment(S, dy, g + 4L * ch, ORDER, m);
        for (int i = i0; i < i1; i++) {
            long xr = xi + i * xFilterRow + 4L * ch, at = 4L * ((long) i * s.s() * c + ch);
            for (int j = j0; j < j1; j++) {
                long t = at + 4L * j * c;
                d.fma(FloatVector.fromMemorySegment(S, x, xr + j * xTap, ORDER, m), FloatVector.fromMemorySegment(S, sums, t, ORDER, m))
                        .intoMemorySegment(sums, t, ORDER, m);
            }
        }
    }

    /**
     * {@link #tile3x3} where the next filter column is the next pixel's (stride = dilation along the row, e.g. both
     * 1): each x vector of a filter row feeds three taps of three pixels, loaded once as the window slides, so a
     * pixel costs 4 loads for 9 FMAs instead of 10.
     */
    private static void tile3x3Sliding(MemorySegment dy, long g, long gStep, MemorySegment x, long xi, long xStep, long xFilterRow,
                                       int count, MemorySegment sums, long at, long tapStep) {
        FloatVector s00 = FloatVector.fromMemorySegment(S, sums, at, ORDER), s01 = FloatVector.fromMemorySegment(S, sums, at + tapStep, ORDER),
                s02 = FloatVector.fromMemorySegment(S, sums, at + 2 * tapStep, ORDER), s10 = FloatVector.fromMemorySegment(S, sums, at + 3 * tapStep, ORDER),
                s11 = FloatVector.fromMemorySegment(S, sums, at + 4 * tapStep, ORDER), s12 = FloatVector.fromMemorySegment(S, sums, at + 5 * tapStep, ORDER),
                s20 = FloatVector.fromMemorySegment(S, sums, at + 6 * tapStep, ORDER), s21 = FloatVector.fromMemorySegment(S, sums, at + 7 * tapStep, ORDER),
                s22 = FloatVector.fromMemorySegment(S, sums, at + 8 * tapStep, ORDER);
        long x1 = xi + xFilterRow, x2 = x1 + xFilterRow;
        // a, b: the window's first two columns of filter rows 0, 1, 2; each pixel loads the third
        FloatVector a0 = FloatVector.fromMemorySegment(S, x, xi, ORDER), b0 = FloatVector.fromMemorySegment(S, x, xi + xStep, ORDER);
        FloatVector a1 = FloatVector.fromMemorySegment(S, x, x1, ORDER), b1 = FloatVector.fromMemorySegment(S, x, x1 + xStep, ORDER);
        FloatVector a2 = FloatVector.fromMemorySegment(S, x, x2, ORDER), b2 = FloatVector.fromMemorySegment(S, x, x2 + xStep, ORDER);
        for (int p = 0; p < count; p++, g += gStep) {
            long next = (p + 2) * xStep;
            FloatVector d = FloatVector.fromMemorySegment(S, dy, g, ORDER);
            FloatVector c0 = FloatVector.fromMemorySegment(S, x, xi + next, ORDER), c1 = FloatVector.fromMemorySegment(S, x, x1 + next, ORDER),
                    c2 = FloatVector.fromMemorySegment(S, x, x2 + next, ORDER);
            s00 = d.fma(a0, s00);
            s01 = d.fma(b0, s01);
            s02 = d.fma(c0, s02);
            s10 = d.fma(a1, s10);
            s11 = d.fma(b1, s11);
            s12 = d.fma(c1, s12);
            s20 = d.fma(a2, s20);
            s21 = d.fma(b2, s21);
            s22 = d.fma(c2, s22);
            a0 = b0;
            b0 = c0;
            a1 = b1;
            b1 = c1;
            a2 = b2;
            b2 = c2;
        }
        s00.intoMemorySegment(sums, at, ORDER);
        s01.intoMemorySegment(sums, at + tapStep, ORDER);
        s02.intoMemorySegment(sums, at + 2 * tapStep, ORDER);
        s10.intoMemorySegment(sums, at + 3 * tapStep, ORDER);
        s11.intoMemorySegment(sums, at + 4 * tapStep, ORDER);
        s12.intoMemorySegment(sums, at + 5 * tapStep, ORDER);
        s20.intoMemorySegment(sums, at + 6 * tapStep, ORDER);
        s21.intoMemorySegment(sums, at + 7 * tapStep, ORDER);
        s22.intoMemorySegment(sums, at + 8 * tapStep, ORDER);
    }

    /**
     * 3x3, whole windows: adds to the nine tap vectors of sums from byte {@code at} ({@code tapStep} bytes apart)
     * the sums over {@code count} pixels of dy * x at each tap; one channel vector, byte offsets and steps (x: the
     * first pixel's window corner, {@code xTap} to the next filter column, {@code xFilterRow} to the next filter
     * row). Nine chains in registers, one dy load per nine FMAs; the caller runs every channel vector of a block
     * of pixels before the next block.
     */
    private static void tile3x3(MemorySegment dy, long g, long gStep, MemorySegment x, long xi, long xStep, long xTap, long xFilterRow,
                                int count, MemorySegment sums, long at, long tapStep) {
        FloatVector s00 = FloatVector.fromMemorySegment(S, sums, at, ORDER), s01 = FloatVector.fromMemorySegment(S, sums, at + tapStep, ORDER),
                s02 = FloatVector.fromMemorySegment(S, sums, at + 2 * tapStep, ORDER), s10 = FloatVector.fromMemorySegment(S, sums, at + 3 * tapStep, ORDER),
                s11 = FloatVector.fromMemorySegment(S, sums, at + 4 * tapStep, ORDER), s12 = FloatVector.fromMemorySegment(S, sums, at + 5 * tapStep, ORDER),
                s20 = FloatVector.fromMemorySegment(S, sums, at + 6 * tapStep, ORDER), s21 = FloatVector.fromMemorySegment(S, sums, at + 7 * tapStep, ORDER),
                s22 = FloatVector.fromMemorySegment(S, sums, at + 8 * tapStep, ORDER);
        for (int p = 0; p < count; p++, g += gStep, xi += xStep) {
            FloatVector d = FloatVector.fromMemorySegment(S, dy, g, ORDER);
            long x1 = xi + xFilterRow, x2 = x1 + xFilterRow;
            s00 = d.fma(FloatVector.fromMemorySegment(S, x, xi, ORDER), s00);
            s01 = d.fma(FloatVector.fromMemorySegment(S, x, xi + xTap, ORDER), s01);
            s02 = d.fma(FloatVector.fromMemorySegment(S, x, xi + 2 * xTap, ORDER), s02);
            s10 = d.fma(FloatVector.fromMemorySegment(S, x, x1, ORDER), s10);
            s11 = d.fma(FloatVector.fromMemorySegment(S, x, x1 + xTap, ORDER), s11);
            s12 = d.fma(FloatVector.fromMemorySegment(S, x, x1 + 2 * xTap, ORDER), s12);
            s20 = d.fma(FloatVector.fromMemorySegment(S, x, x2, ORDER), s20);
            s21 = d.fma(FloatVector.fromMemorySegment(S, x, x2 + xTap, ORDER), s21);
            s22 = d.fma(FloatVector.fromMemorySegment(S, x, x2 + 2 * xTap, ORDER), s22);
        }
        s00.intoMemorySegment(sums, at, ORDER);
        s01.intoMemorySegment(sums, at + tapStep, ORDER);
        s02.intoMemorySegment(sums, at + 2 * tapStep, ORDER);
        s10.intoMemorySegment(sums, at + 3 * tapStep, ORDER);
        s11.intoMemorySegment(sums, at + 4 * tapStep, ORDER);
        s12.intoMemorySegment(sums, at + 5 * tapStep, ORDER);
        s20.intoMemorySegment(sums, at + 6 * tapStep, ORDER);
        s21.intoMemorySegment(sums, at + 7 * tapStep, ORDER);
        s22.intoMemorySegment(sums, at + 8 * tapStep, ORDER);
    }
}
