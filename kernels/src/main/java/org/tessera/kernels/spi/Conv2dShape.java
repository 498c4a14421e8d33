package org.tessera.kernels.spi;

/**
 * Geometry of a 2-D convolution over NHWC input (n, h, w, c) with k filters of (r, s) taps, validated on
 * construction so bad geometry never reaches a kernel.
 *
 * @param groups 1 for a dense convolution, c for depthwise; c and k must both be multiples of it
 */
public record Conv2dShape(int n, int h, int w, int c, int k, int r, int s,
                          int strideH, int strideW, int padTop, int padBottom, int padLeft, int padRight,
                          int dilationH, int dilationW, int groups) {
    public Conv2dShape {
        positive("n", n);
        positive("h", h);
        positive("w", w);
        positive("c", c);
        positive("k", k);
        positive("r (kernel height)", r);
        positive("s (kernel width)", s);
        positive("strideH", strideH);
        positive("strideW", strideW);
        positive("dilationH", dilationH);
        positive("dilationW", dilationW);
        positive("groups", groups);
        if (padTop < 0 || padBottom < 0 || padLeft < 0 || padRight < 0) {
            throw new IllegalArgumentException("padding must be >= 0, got top " + padTop + " bottom " + padBottom
                    + " left " + padLeft + " right " + padRight);
        }
        if (c % groups != 0) throw new IllegalArgumentException("c (" + c + ") is not a multiple of groups (" + groups + ")");
        if (k % groups != 0) throw new IllegalArgumentException("k (" + k + ") is not a multiple of groups (" + groups + ")");
        long extentH = (long) dilationH * (r - 1) + 1, extentW = (long) dilationW * (s - 1) + 1;
        if (extentH > (long) h + padTop + padBottom) {
            throw new IllegalArgumentException("kernel height " + r + " (dilated extent " + extentH
                    + ") exceeds the padded input height " + ((long) h + padTop + padBottom));
        }
        if (extentW > (long) w + padLeft + padRight) {
            throw new IllegalArgumentException("kernel width " + s + " (dilated extent " + extentW
                    + ") exceeds the padded input width " + ((long) w + padLeft + padRight));
        }
    }

    /** Square kernel, equal stride and symmetric padding in both directions, no dilation, one group. */
    public static Conv2dShape of(int n, int h, int w, int c, int k, int kernel, int stride, int pad) {
        return new Conv2dShape(n, h, w, c, k, kernel, kernel, stride, stride, pad, pad, pad, pad, 1, 1, 1);
    }

    /** Output height. */
    public int outH() {
        return (h + padTop + padBottom - dilationH * (r - 1) - 1) / strideH + 1;
    }

    /** Output width. */
    public int outW() {
        return (w + padLeft + padRight - dilationW * (s - 1) - 1) / strideW + 1;
    }

    /** Multiply-adds x 2 of the direct algorithm. */
    public long flops() {
        return 2L * n * outH() * outW() * k * r * s * (c / groups);
    }

    private static void positive(String name, int value) {
        if (value <= 0) throw new IllegalArgumentException(name + " must be > 0, got " + value);
    }
}
