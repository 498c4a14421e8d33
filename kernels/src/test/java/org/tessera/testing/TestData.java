package org.tessera.testing;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.tessera.kernels.HostStorage;

/** Seeded random inputs, poisoned outputs and host buffers for kernel tests. */
public final class TestData {
    /** Sizes that hit every tail path: 1, around vector widths (4, 8, 16, 32, 64) and primes. */
    public static final int[] EDGE_SIZES = {1, 2, 3, 4, 5, 7, 8, 9, 13, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 257, 1000};

    private TestData() {}

    /** Uniform floats in [-1, 1). */
    public static float[] floats(SplittableRandom rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (rnd.nextDouble() * 2 - 1);
        return a;
    }

    /** Small integers in [-8, 8] as floats: sums and products of few of them are exact in f32. */
    public static float[] smallInts(SplittableRandom rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = rnd.nextInt(17) - 8;
        return a;
    }

    /** A host storage holding {@code data} (64-byte aligned). */
    public static HostStorage storage(float[] data) {
        HostStorage s = HostStorage.allocate(4L * data.length);
        MemorySegment.copy(data, 0, s.segment(), ValueLayout.JAVA_FLOAT_UNALIGNED, 0, data.length);
        return s;
    }

    /** A host storage of {@code n} floats, every one NaN: an element a kernel forgets to write stays NaN. */
    public static HostStorage poisoned(int n) {
        HostStorage s = HostStorage.allocate(4L * n);
        for (int i = 0; i < n; i++) s.segment().setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, Float.NaN);
        return s;
    }

    /** The floats of a host storage. */
    public static float[] floats(HostStorage s) {
        float[] a = new float[(int) (s.byteSize() / 4)];
        MemorySegment.copy(s.segment(), ValueLayout.JAVA_FLOAT_UNALIGNED, 0, a, 0, a.length);
        return a;
    }
}
