package org.tessera.kernels.conv;

/** The taps of a filter dimension that land inside the input (the rest read padding, i.e. zeros). */
public final class Taps {
    private Taps() {}

    /** First tap t with 0 <= base + t * dilation, for base = out * stride - padBefore. */
    public static int first(int base, int dilation) {
        return base >= 0 ? 0 : (-base + dilation - 1) / dilation;
    }

    /** One past the last tap t < taps with base + t * dilation < size. */
    public static int end(int base, int dilation, int size, int taps) {
        if (base >= size) return 0;
        return Math.min(taps, (size - 1 - base) / dilation + 1);
    }
}
