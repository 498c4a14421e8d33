package org.tessera.kernels.sparse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.tessera.testing.SeededRandom;
import org.tessera.testing.SparseData;
import org.tessera.testing.SparseData.Format;

/** The sparse formats: dense round trips, counts, value mapping, and every malformed input rejected by name. */
@ExtendWith(SeededRandom.class)
class SparseFormatsTest {
    @Test
    void everyFormatRoundTripsThroughDense(SplittableRandom rnd) {
        for (Format f : Format.values()) {
            for (double sparsity : new double[] {0, 0.5, 0.9, 1}) {
                int n = 1 + rnd.nextInt(40), k = f.cols(1 + rnd.nextInt(40));
                float[] w = SparseData.pattern(f, n, k, sparsity, rnd, () -> rnd.nextDouble() * 2 - 1);
                SparseMatrix s = f.of(w, n, k);
                assertArrayEquals(w, s.toDense(), f + " " + n + "x" + k);
                long nz = 0;
                for (float v : w) if (v != 0f) nz++;
                assertEquals(nz, s.nonZeros(), f + " non-zeros");
                assertEquals(1.0 - (double) nz / (n * k), s.sparsity(), 1e-12);
                assertTrue(s.storedValues() >= nz);
                assertTrue(s.report().startsWith(s.format() + " " + n + "x" + k), s.report());
            }
        }
    }

    @Test
    void mapValuesKnowsTheRow() {
        float[] w = {1, 0, 2, 0, 3, 0, 0, 0, 4, 5, 0, 6};
        for (Format f : new Format[] {Format.CSR, Format.BSR3X2, Format.BSR4X4}) {
            SparseMatrix s = f.of(w, 3, 4).mapValues((row, v) -> v * 10 + row);
            float[] d = s.toDense();
            assertEquals(10, d[0]);
            assertEquals(31, d[4 + 0]);
            assertEquals(62, d[8 + 3]);
            assertEquals(0, d[1], f + ": zeros stay zero outside the stored values");
        }
    }

    @Test
    void nmPacksSpareSlotsAndRejectsOverfullGroups() {
        float[] w = {0, 0, 0, 7, 1, 2, 0, 0};
        NmSparseMatrix s = NmSparseMatrix.fromDense(w, 1, 8, 8, 2, 4);
        assertEquals(4, s.storedValues());
        assertEquals(3, s.nonZeros());
        assertArrayEquals(w, s.toDense());
        assertEquals("2:4", s.format());
        var e = assertThrows(IllegalArgumentException.class, () -> NmSparseMatrix.fromDense(new float[] {1, 1, 1, 0}, 1, 4, 4, 2, 4));
        assertTrue(e.getMessage().contains("more than 2 non-zeros"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> NmSparseMatrix.fromDense(new float[6], 1, 6, 6, 2, 4), "cols not a multiple of M");
    }

    @Test
    void malformedCsrIsRejectedWithTheReason() {
        float[] v2 = {1, 2};
        assertMessage("strictly increase", () -> new CsrMatrix(1, 4, new int[] {0, 2}, new int[] {2, 1}, v2));
        assertMessage("duplicate", () -> new CsrMatrix(1, 4, new int[] {0, 2}, new int[] {1, 1}, v2));
        assertMessage("outside [0, 4)", () -> new CsrMatrix(1, 4, new int[] {0, 2}, new int[] {1, 4}, v2));
        assertMessage("outside [0, 4)", () -> new CsrMatrix(1, 4, new int[] {0, 2}, new int[] {-1, 2}, v2));
        assertMessage("same length", () -> new CsrMatrix(1, 4, new int[] {0, 2}, new int[] {1}, v2));
        assertMessage("rows + 1", () -> new CsrMatrix(2, 4, new int[] {0, 2}, new int[] {0, 1}, v2));
        assertMessage("rowPtr[0]", () -> new CsrMatrix(1, 4, new int[] {1, 2}, new int[] {0, 1}, v2));
        assertMessage("decreases", () -> new CsrMatrix(2, 4, new int[] {0, 3, 2}, new int[] {0, 1}, v2));
        assertMessage("rowPtr[rows]", () -> new CsrMatrix(1, 4, new int[] {0, 1}, new int[] {0, 1}, v2));
        assertThrows(NullPointerException.class, () -> new CsrMatrix(1, 4, null, new int[0], new float[0]));
    }

    @Test
    void malformedBsrAndNmAreRejectedWithTheReason() {
        assertMessage("at least 1x1", () -> new BsrMatrix(4, 4, 0, 1, new int[] {0}, new int[0], new float[0]));
        assertMessage("br*bc", () -> new BsrMatrix(4, 4, 4, 1, new int[] {0, 1}, new int[] {0}, new float[3]));
        assertMessage("strictly increase", () -> new BsrMatrix(4, 4, 4, 1, new int[] {0, 2}, new int[] {1, 1}, new float[8]));
        assertMessage("outside [0, 4)", () -> new BsrMatrix(4, 4, 4, 1, new int[] {0, 1}, new int[] {4}, new float[4]));
        // a 3x3 matrix in 2x2 blocks: the overhanging row and column must hold zeros
        assertMessage("outside the 3x3", () -> new BsrMatrix(3, 3, 2, 2, new int[] {0, 0, 1}, new int[] {1}, new float[] {1, 0, 0, 1}));
        assertMessage("1 <= N <= M", () -> new NmSparseMatrix(1, 4, 3, 2, new float[3], new byte[3]));
        assertMessage("slots", () -> new NmSparseMatrix(1, 4, 2, 4, new float[3], new byte[3]));
        assertMessage("strictly increase", () -> new NmSparseMatrix(1, 4, 2, 4, new float[2], new byte[] {2, 2}));
        assertMessage("outside [0, 4)", () -> new NmSparseMatrix(1, 4, 2, 4, new float[2], new byte[] {1, 4}));
        assertMessage("needs", () -> CsrMatrix.fromDense(new float[5], 2, 3));
    }

    @Test
    void arraysAreCopiedSoTheMatrixCannotChange() {
        int[] ptr = {0, 1};
        int[] col = {2};
        float[] val = {5};
        CsrMatrix m = new CsrMatrix(1, 4, ptr, col, val);
        col[0] = 99;
        val[0] = 1;
        m.colIdx()[0] = 77;
        assertArrayEquals(new float[] {0, 0, 5, 0}, m.toDense());
    }

    private static void assertMessage(String fragment, org.junit.jupiter.api.function.Executable e) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
        assertTrue(ex.getMessage().contains(fragment), "expected '" + fragment + "' in: " + ex.getMessage());
    }
}
