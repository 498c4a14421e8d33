package org.tessera;

/**
 * Window, stride and padding of a 2-D pooling ({@link Ops#maxPool2d}, {@link Ops#avgPool2d}). Padding is at
 * most half the window (as in PyTorch) and is never read: max ignores it, and average divides by the whole
 * window ({@code countPadding}, PyTorch's default) or by its in-bounds elements.
 *
 * <pre>{@code
 * Pool2dParams p = Pool2dParams.of(2, 2, 0);              // 2x2 window, stride 2
 * Pool2dParams q = new Pool2dParams(3, 3, 2, 2, 1, 1, 1, 1, false);
 * }</pre>
 *
 * @param kh           window height, >= 1
 * @param kw           window width, >= 1
 * @param strideH      vertical stride, >= 1
 * @param strideW      horizontal stride, >= 1
 * @param padTop       rows above, 0..kh/2
 * @param padBottom    rows below, 0..kh/2
 * @param padLeft      columns left, 0..kw/2
 * @param padRight     columns right, 0..kw/2
 * @param countPadding average pooling: divide by kh * kw (true) or by the in-bounds count (false)
 */
public record Pool2dParams(int kh, int kw, int strideH, int strideW, int padTop, int padBottom, int padLeft, int padRight,
                           boolean countPadding) {
    /** @throws IllegalArgumentException for a window or stride below 1, or padding outside [0, window / 2], naming it */
    public Pool2dParams {
        atLeast("kh (window height)", kh, 1);
        atLeast("kw (window width)", kw, 1);
        atLeast("strideH", strideH, 1);
        atLeast("strideW", strideW, 1);
        if (Math.min(Math.min(padTop, padBottom), Math.min(padLeft, padRight)) < 0
                || Math.max(padTop, padBottom) > kh / 2 || Math.max(padLeft, padRight) > kw / 2) {
            throw new IllegalArgumentException("padding must be within [0, window / 2] (window " + kh + "x" + kw + "), got top " + padTop
                    + " bottom " + padBottom + " left " + padLeft + " right " + padRight);
        }
    }

    /** A square window with the same stride and padding on every side, padding counted in averages. */
    public static Pool2dParams of(int window, int stride, int pad) {
        return new Pool2dParams(window, window, stride, stride, pad, pad, pad, pad, true);
    }

    private static void atLeast(String name, int value, int min) {
        if (value < min) throw new IllegalArgumentException(name + " must be >= " + min + ", got " + value);
    }
}
