package org.tessera.nn;

import java.util.Arrays;

/** Shape helpers shared by the layers. */
final class Shapes {
    private Shapes() {}

    static long[] withBatch(long n, long[] example) {
        long[] s = new long[example.length + 1];
        s[0] = n;
        System.arraycopy(example, 0, s, 1, example.length);
        return s;
    }

    static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    static String str(long[] shape) {
        return Arrays.toString(shape);
    }

    /** An image example (h, w, c) or an error saying what the layer got. */
    static void requireImage(String what, long[] in) {
        if (in.length != 3) {
            throw new IllegalArgumentException(what + " expects an image (h, w, c) per example, got shape " + str(in)
                    + (in.length == 1 ? " (a vector: it cannot follow flatten() or linear())" : ""));
        }
    }

    static void requireVector(String what, long[] in) {
        if (in.length != 1) {
            throw new IllegalArgumentException(what + " expects a vector (features) per example, got shape " + str(in)
                    + (in.length == 3 ? "; add flatten() or globalAvgPool() before it" : ""));
        }
    }

    static long[] longs(Object json, String name) {
        if (!(json instanceof java.util.List<?> l)) throw new IllegalArgumentException("\"" + name + "\" must be a list of integers, got " + json);
        long[] r = new long[l.size()];
        for (int i = 0; i < r.length; i++) r[i] = integer(l.get(i), name);
        return r;
    }

    static int integer(Object json, String name) {
        if (!(json instanceof Long v) || v != v.intValue()) throw new IllegalArgumentException("\"" + name + "\" must be an integer, got " + json);
        return v.intValue();
    }
}
