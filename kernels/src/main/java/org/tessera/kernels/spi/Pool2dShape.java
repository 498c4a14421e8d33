package org.tessera.kernels.spi;

/**
 * Geometry of a 2-D pooling window over NHWC input (n, h, w, c), validated on construction so bad geometry
 * never reaches a kernel. Padding is at most half the window (as in PyTorch), so every window holds at
 * least one input element.
 */
public record Pool2dShape(int n, int h, int w, int c, int kh, int kw, int strideH, int strideW, int padTop, int padBottom,
                          int padLeft, int padRight) {
    public Pool2dShape {
        positive("n", n);
        positive("h", h);
        positive("w", w);
        positive("c", c);
        positive("kh (window height)", kh);
        positive("kw (window width)", kw);
        positive("strideH", strideH);
        positive("strideW", strideW);
        if (padTop < 0 || padBottom < 0 || padLeft < 0 || padRight < 0) {
            throw new IllegalArgumentException("padding must be >= 0, got top " + padTop + " bottom " + padBottom + " left " + padLeft
                    + " right " + padRight);
        }
        if (Math.max(padTop, padBottom) > kh / 2 || Math.max(padLeft, padRight) > kw / 2) {
            throw new IllegalArgumentException("padding must be at most half the window (" + kh + "x" + kw + "), got top " + padTop
                    + " bottom " + padBottom + " left " + padLeft + " right " + padRight);
        }
        if (kh > (long) h + padTop + padBottom) {
            throw new IllegalArgumentException("window height " + kh + " exceeds the padded input height " + ((long) h + padTop + padBottom));
        }
        if (kw > (long) w + padLeft + padRight) {
            throw new IllegalArgumentException("window width " + kw + " exceeds the padded input width " + ((long) w + padLeft + padRight));
        }
    }

    /** Square window, stride and symmetric padding. */
    public static Pool2dShape of(int n, int h, int w, int c, int window, int stride, int pad) {
        return new Pool2dShape(n, h, w, c, window, window, stride, stride, pad, pad, pad, pad);
    }

    /** Output height. */
    public int outH() {
        return (h + padTop + padBottom - kh) / strideH + 1;
    }

    /** Output width. */
    public int outW() {
        return (w + padLeft + padRight - kw) / strideW + 1;
    }

    private static void positive(String name, int value) {
        if (value <= 0) throw new IllegalArgumentException(name + " must be > 0, got " + value);
    }
}
