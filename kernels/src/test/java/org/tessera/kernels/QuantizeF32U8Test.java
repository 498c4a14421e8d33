package org.tessera.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.tessera.kernels.quant.QuantizeF32U8Panama;
import org.tessera.testing.SeededRandom;

/**
 * The vectorized f32 -> u8 quantizer against its scalar rule, code for code: ties at exactly k + 0.5 (half to
 * even), values far outside the range, -0.0, zero points 0 and 255 and outside the codes, lengths that leave a
 * tail, and arrays long enough to split over the worker pool; the first non-finite input's index is reported.
 */
@ExtendWith(SeededRandom.class)
class QuantizeF32U8Test {
    @Test
    void vectorCodesEqualTheScalarRule(SplittableRandom rnd) {
        int[] lengths = {1, 7, 8, 9, 63, 1000, 300_007, 100, 100};
        for (int t = 0; t < lengths.length; t++) {
            int n = lengths[t];
            float scale = (float) (0.001 + rnd.nextDouble() * 0.1);
            // the vector loop clamps to [-zp, 255 - zp] before rounding: zero points 0 and 255 are its edge cases;
            // zero points outside the codes take the scalar rule
            int zp = switch (t) {
                case 1 -> 0;
                case 2 -> 255;
                case 7 -> 300;
                case 8 -> -20;
                default -> rnd.nextInt(256);
            };
            try (Arena arena = Arena.ofShared()) {
                MemorySegment x = arena.allocate(4L * n), y = arena.allocate(n);
                float[] v = new float[n];
                for (int i = 0; i < n; i++) {
                    v[i] = switch (rnd.nextInt(5)) {
                        case 0 -> (rnd.nextInt(600) - 300 + 0.5f) * scale; // a tie after the division (or within an ulp of one)
                        case 1 -> (float) ((rnd.nextDouble() * 2 - 1) * 1e30); // far outside: clamps
                        case 2 -> rnd.nextBoolean() ? -0f : 0f;
                        default -> (float) ((rnd.nextDouble() * 2 - 1) * 300 * scale);
                    };
                    x.setAtIndex(ValueLayout.JAVA_FLOAT, i, v[i]);
                }
                y.fill((byte) 0x5A);
                assertEquals(-1, QuantizeF32U8Panama.run(x, y, n, scale, zp));
                for (int i = 0; i < n; i++) {
                    int expected = QuantizeF32U8Panama.quantize(v[i], scale, zp);
                    if ((y.get(ValueLayout.JAVA_BYTE, i) & 0xFF) != expected) {
                        throw new AssertionError("n " + n + " scale " + scale + " zp " + zp + ": x[" + i + "] = " + v[i] + " -> "
                                + (y.get(ValueLayout.JAVA_BYTE, i) & 0xFF) + ", expected " + expected);
                    }
                }
            }
        }
    }

    @Test
    void halfwayValuesRoundToEven() {
        try (Arena arena = Arena.ofShared()) {
            float[] v = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 254.5f, 300f, -300f, 3.4e38f};
            int[] expected = {10, 12, 12, 10, 8, 255, 255, 0, 255}; // zero point 10, scale 1
            MemorySegment x = arena.allocate(4L * v.length), y = arena.allocate(v.length);
            MemorySegment.copy(v, 0, x, ValueLayout.JAVA_FLOAT, 0, v.length);
            QuantizeF32U8Panama.run(x, y, v.length, 1f, 10);
            for (int i = 0; i < v.length; i++) assertEquals(expected[i], y.get(ValueLayout.JAVA_BYTE, i) & 0xFF, "x = " + v[i]);
        }
    }

    @Test
    void theFirstNonFiniteInputIsReported() {
        int n = 400_000;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment x = arena.allocate(4L * n), y = arena.allocate(n);
            x.setAtIndex(ValueLayout.JAVA_FLOAT, 333_333, Float.POSITIVE_INFINITY);
            x.setAtIndex(ValueLayout.JAVA_FLOAT, 250_001, Float.NaN);
            assertEquals(250_001, QuantizeF32U8Panama.run(x, y, n, 0.1f, 0));
            assertEquals(5, QuantizeF32U8Panama.run(x.asSlice(4L * 249_996), y, 10, 0.1f, 0));
        }
    }
}
