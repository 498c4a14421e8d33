package org.tessera.kernels.pool;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.tessera.kernels.Checks;
import org.tessera.kernels.HostStorage;
import org.tessera.kernels.MemoryKind;
import org.tessera.kernels.Storage;
import org.tessera.kernels.spi.Pool2dShape;
import org.tessera.kernels.spi.PoolKernels;

/**
 * Pooling for the host backends, in Java: loops with channels innermost (NHWC keeps them contiguous, so each
 * window tap is one sequential run); max pooling (the inference hot path) runs the Vector API kernels
 * {@link MaxPool2dF32Panama} and {@link MaxPool2dU8Panama} over the worker pool, and its backward
 * {@link MaxPool2dBackwardF32Panama} where windows do not overlap. Pooling moves far more bytes
 * than it computes, so Java is as good as C here; both {@code native} and {@code java} serve it
 * ({@code f32_pool2d__java}).
 * Validates every operand in Java first and holds the storages for the call.
 */
public final class HostPool2d implements PoolKernels {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED;

    @Override
    public String kernelId() {
        return "f32_pool2d__java";
    }

    @Override
    public void maxPool2dF32(Pool2dShape s, Storage x, long xOff, Storage y, long yOff, Storage argmax, long aOff) {
        long xLen = input(s), yLen = output(s);
        check("x", x, xOff, xLen);
        check("y", y, yOff, yLen);
        if (argmax != null) check("argmax", argmax, aOff, yLen);
        distinct("y", y, yOff, yLen, "x", x, xOff, xLen);
        if (argmax != null) distinct("argmax", argmax, aOff, yLen, "x", x, xOff, xLen);
        if (argmax != null) distinct("argmax", argmax, aOff, yLen, "y", y, yOff, yLen);
        Storage.acquireAll(x, y, argmax);
        try {
            MaxPool2dF32Panama.run(s, seg(x), xOff, seg(y), yOff, argmax == null ? null : seg(argmax), aOff);
        } finally {
            Storage.releaseAll(x, y, argmax);
        }
    }

    @Override
    public void maxPool2dU8(Pool2dShape s, Storage x, long xOff, Storage y, long yOff) {
        long xLen = input(s), yLen = output(s);
        Checks.block("x", x, MemoryKind.HOST, 1, xOff, 1, xLen, xLen);
        Checks.block("y", y, MemoryKind.HOST, 1, yOff, 1, yLen, yLen);
        distinct("y", y, yOff, yLen, "x", x, xOff, xLen);
        Storage.acquireAll(x, y);
        try {
            MaxPool2dU8Panama.run(s, seg(x), xOff, seg(y), yOff);
        } finally {
            Storage.releaseAll(x, y);
        }
    }

    @Override
    public void maxPool2dBackwardF32(Pool2dShape s, Storage dy, long dyOff, Storage argmax, long aOff, Storage dx, long dxOff) {
        long xLen = input(s), yLen = output(s);
        check("dy", dy, dyOff, yLen);
        check("argmax", argmax, aOff, yLen);
        check("dx", dx, dxOff, xLen);
        distinct("dx", dx, dxOff, xLen, "dy", dy, dyOff, yLen);
        distinct("dx", dx, dxOff, xLen, "argmax", argmax, aOff, yLen);
        Storage.acquireAll(dy, argmax, dx);
        try {
            MemorySegment dys = seg(dy), as = seg(argmax), dxs = seg(dx);
            if (MaxPool2dBackwardF32Panama.applies(s) && MaxPool2dBackwardF32Panama.run(s, dys, dyOff, as, aOff, dxs, dxOff)) return;
            zero(dxs, dxOff, xLen);
            int c = s.c(), plane = s.h() * s.w();
            long pixels = (long) s.outH() * s.outW();
            for (int n = 0; n < s.n(); n++) {
                for (long p = 0; p < pixels; p++) {
                    long out = ((long) n * pixels + p) * c;
                    for (int ch = 0; ch < c; ch++) {
                        int at = as.getAtIndex(I32, aOff + out + ch);
                        if (at < 0 || at >= plane) {
                            throw new IllegalArgumentException("argmax[" + (out + ch) + "] = " + at + " is outside the " + s.h() + "x" + s.w()
                                    + " input plane: pass the indices maxPool2dF32 wrote for this shape");
                        }
                        long xi = dxOff + ((long) n * plane + at) * c + ch;
                        dxs.setAtIndex(F32, xi, dxs.getAtIndex(F32, xi) + dys.getAtIndex(F32, dyOff + out + ch));
                    }
                }
            }
        } finally {
            Storage.releaseAll(dy, argmax, dx);
        }
    }

    @Override
    public void avgPool2dF32(Pool2dShape s, boolean countPadding, Storage x, long xOff, Storage y, long yOff) {
        long xLen = input(s), yLen = output(s);
        check("x", x, xOff, xLen);
        check("y", y, yOff, yLen);
        distinct("y", y, yOff, yLen, "x", x, xOff, xLen);
        Storage.acquireAll(x, y);
        try {
            MemorySegment xs = seg(x), ys = seg(y);
            int c = s.c();
            float[] acc = new float[c];
            for (int n = 0; n < s.n(); n++) {
                for (int oh = 0; oh < s.outH(); oh++) {
                    for (int ow = 0; ow < s.outW(); ow++) {
                        java.util.Arrays.fill(acc, 0f);
                        int count = 0;
                        for (int i = 0; i < s.kh(); i++) {
                            int ih = oh * s.strideH() - s.padTop() + i;
                            if (ih < 0 || ih >= s.h()) continue;
                            for (int j = 0; j < s.kw(); j++) {
                                int iw = ow * s.strideW() - s.padLeft() + j;
                                if (iw < 0 || iw >= s.w()) continue;
                                long in = xOff + (((long) n * s.h() + ih) * s.w() + iw) * c;
                                for (int ch = 0; ch < c; ch++) acc[ch] += xs.getAtIndex(F32, in + ch);
                                count++;
                            }
                        }
                        float div = countPadding ? s.kh() * s.kw() : count;
                        long out = yOff + (((long) n * s.outH() + oh) * s.outW() + ow) * c;
                        for (int ch = 0; ch < c; ch++) ys.setAtIndex(F32, out + ch, acc[ch] / div);
                    }
                }
            }
        } finally {
            Storage.releaseAll(x, y);
        }
    }

    @Override
    public void avgPool2dBackwardF32(Pool2dShape s, boolean countPadding, Storage dy, long dyOff, Storage dx, long dxOff) {
        long xLen = input(s), yLen = output(s);
        check("dy", dy, dyOff, yLen);
        check("dx", dx, dxOff, xLen);
        distinct("dx", dx, dxOff, xLen, "dy", dy, dyOff, yLen);
        Storage.acquireAll(dy, dx);
        try {
            MemorySegment dys = seg(dy), dxs = seg(dx);
            zero(dxs, dxOff, xLen);
            int c = s.c();
            for (int n = 0; n < s.n(); n++) {
                for (int oh = 0; oh < s.outH(); oh++) {
                    for (int ow = 0; ow < s.outW(); ow++) {
                        int i0 = Math.max(0, s.padTop() - oh * s.strideH()), i1 = Math.min(s.kh(), s.h() + s.padTop() - oh * s.strideH());
                        int j0 = Math.max(0, s.padLeft() - ow * s.strideW()), j1 = Math.min(s.kw(), s.w() + s.padLeft() - ow * s.strideW());
                        float div = countPadding ? s.kh() * s.kw() : (i1 - i0) * (j1 - j0);
                        long out = dyOff + (((long) n * s.outH() + oh) * s.outW() + ow) * c;
                        for (int i = i0; i < i1; i++) {
                            int ih = oh * s.strideH() - s.padTop() + i;
                            for (int j = j0; j < j1; j++) {
                                int iw = ow * s.strideW() - s.padLeft() + j;
                                long in = dxOff + (((long) n * s.h() + ih) * s.w() + iw) * c;
                                for (int ch = 0; ch < c; ch++) {
                                    dxs.setAtIndex(F32, in + ch, dxs.getAtIndex(F32, in + ch) + dys.getAtIndex(F32, out + ch) / div);
                                }
                            }
                        }
                    }
                }
            }
        } finally {
            Storage.releaseAll(dy, dx);
        }
    }

    @Override
    public void globalAvgPoolF32(int n, int h, int w, int c, Storage x, long xOff, Storage y, long yOff) {
        long xLen = global(n, h, w, c), yLen = (long) n * c;
        check("x", x, xOff, xLen);
        check("y", y, yOff, yLen);
        distinct("y", y, yOff, yLen, "x", x, xOff, xLen);
        Storage.acquireAll(x, y);
        try {
            MemorySegment xs = seg(x), ys = seg(y);
            double[] acc = new double[c];
            long plane = (long) h * w;
            for (int b = 0; b < n; b++) {
                java.util.Arrays.fill(acc, 0);
                for (long p = 0; p < plane; p++) {
                    long in = xOff + ((long) b * plane + p) * c;
                    for (int ch = 0; ch < c; ch++) acc[ch] += xs.getAtIndex(F32, in + ch);
                }
                for (int ch = 0; ch < c; ch++) ys.setAtIndex(F32, yOff + (long) b * c + ch, (float) (acc[ch] / plane));
            }
        } finally {
            Storage.releaseAll(x, y);
        }
    }

    @Override
    public void globalAvgPoolBackwardF32(int n, int h, int w, int c, Storage dy, long dyOff, Storage dx, long dxOff) {
        long xLen = global(n, h, w, c), yLen = (long) n * c;
        check("dy", dy, dyOff, yLen);
        check("dx", dx, dxOff, xLen);
        distinct("dx", dx, dxOff, xLen, "dy", dy, dyOff, yLen);
        Storage.acquireAll(dy, dx);
        try {
            MemorySegment dys = seg(dy), dxs = seg(dx);
            long plane = (long) h * w;
            for (int b = 0; b < n; b++) {
                for (long p = 0; p < plane; p++) {
                    long out = dxOff + ((long) b * plane + p) * c;
                    for (int ch = 0; ch < c; ch++) dxs.setAtIndex(F32, out + ch, (float) (dys.getAtIndex(F32, dyOff + (long) b * c + ch) / (double) plane));
                }
            }
        } finally {
            Storage.releaseAll(dy, dx);
        }
    }

    private static long input(Pool2dShape s) {
        return (long) s.n() * s.h() * s.w() * s.c();
    }

    private static long output(Pool2dShape s) {
        return (long) s.n() * s.outH() * s.outW() * s.c();
    }

    private static long global(int n, int h, int w, int c) {
        Checks.nonNegative("n", n);
        Checks.nonNegative("h", h);
        Checks.nonNegative("w", w);
        Checks.nonNegative("c", c);
        if (h == 0 || w == 0) throw new IllegalArgumentException("global pooling needs h, w >= 1, got " + h + "x" + w);
        return Math.multiplyExact(Math.multiplyExact((long) n, (long) h * w), c);
    }

    private static void check(String name, Storage s, long offset, long length) {
        Checks.block(name, s, MemoryKind.HOST, 4, offset, 1, length, length);
    }

    private static void distinct(String out, Storage o, long oOff, long oLen, String in, Storage i, long iOff, long iLen) {
        if (o == i && oOff < iOff + iLen && iOff < oOff + oLen) {
            throw new IllegalArgumentException(out + " overlaps " + in + ": pooling cannot run in place; give " + out + " its own buffer");
        }
    }

    private static void zero(MemorySegment s, long off, long count) {
        s.asSlice(4 * off, 4 * count).fill((byte) 0); // 0f is four zero bytes
    }

    private static MemorySegment seg(Storage s) {
        return ((HostStorage) s).segment();
    }
}
