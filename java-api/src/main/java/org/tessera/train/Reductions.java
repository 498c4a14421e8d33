package org.tessera.train;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Sums over the leading dimension of channels-last data, accumulated in double. */
final class Reductions {
    private Reductions() {}

    /** out[c] = sum over the rows of x (rows, c). */
    static void sumRows(MemorySegment x, long rows, int c, MemorySegment out) {
        double[] acc = new double[c];
        for (long r = 0; r < rows; r++) {
            long base = r * c;
            for (int j = 0; j < c; j++) acc[j] += x.getAtIndex(ValueLayout.JAVA_FLOAT, base + j);
        }
        for (int j = 0; j < c; j++) out.setAtIndex(ValueLayout.JAVA_FLOAT, j, (float) acc[j]);
    }
}
