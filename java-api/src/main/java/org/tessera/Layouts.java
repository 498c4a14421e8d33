package org.tessera;

import java.util.Arrays;

/**
 * Conversions between the layouts other frameworks use and Tessera's: activations NCHW (PyTorch, ONNX) and
 * NHWC (ours, channels last), filters (k, c / groups, r, s) (PyTorch's OIHW) and (k, r, s, c / groups) (ours).
 * Each returns a new contiguous tensor in the same memory, owned by the caller; any dtype, any input layout.
 */
public final class Layouts {
    private Layouts() {}

    /** (n, c, h, w) to a new (n, h, w, c). */
    public static Tensor nchwToNhwc(Tensor x) {
        return permuted(x, "nchwToNhwc", "(n, c, h, w)", 1, 2, 2, 3);
    }

    /** (n, h, w, c) to a new (n, c, h, w). */
    public static Tensor nhwcToNchw(Tensor x) {
        return permuted(x, "nhwcToNchw", "(n, h, w, c)", 2, 3, 1, 2);
    }

    /** PyTorch filters (k, c / groups, r, s) to a new (k, r, s, c / groups), the layout {@link Ops#conv2d} reads. */
    public static Tensor filtersFromKcrs(Tensor w) {
        return permuted(w, "filtersFromKcrs", "(k, c, r, s)", 1, 2, 2, 3);
    }

    /** Our filters (k, r, s, c / groups) to a new PyTorch-layout (k, c / groups, r, s). */
    public static Tensor filtersToKcrs(Tensor w) {
        return permuted(w, "filtersToKcrs", "(k, r, s, c)", 2, 3, 1, 2);
    }

    /** Two transposes (a view), then a contiguous copy. */
    private static Tensor permuted(Tensor t, String op, String expected, int a0, int a1, int b0, int b1) {
        if (t == null) throw new NullPointerException(op + ": tensor is null");
        t.requireOpen();
        if (t.rank() != 4) throw new IllegalArgumentException(op + ": expected a 4-D " + expected + " tensor, got shape " + Arrays.toString(t.shape()));
        return t.transpose(a0, a1).transpose(b0, b1).copy();
    }
}
