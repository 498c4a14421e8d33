package org.tessera;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.tessera.kernels.DType;
import org.tessera.kernels.HostStorage;
import org.tessera.testing.SeededRandom;
import org.tessera.testing.TestData;

@ExtendWith(SeededRandom.class)
class TensorTest {
    @Test
    void allocationIsZeroedAlignedAndRowMajor() {
        try (Tensor t = Tensor.allocate(DType.F32, 3, 5, 7)) {
            assertArrayEquals(new long[] {3, 5, 7}, t.shape());
            assertArrayEquals(new long[] {35, 7, 1}, t.strides());
            assertEquals(105, t.numel());
            assertTrue(t.isContiguous());
            assertEquals(0, t.segment().address() % HostStorage.ALIGNMENT);
            for (float v : t.toFloatArray()) assertEquals(0f, v);
        }
    }

    @Test
    void copyRoundTripsForEveryDtype(SplittableRandom rnd) {
        float[] f = TestData.floats(rnd, 24);
        try (Tensor t = Tensor.of(f, 2, 3, 4)) {
            assertArrayEquals(f, t.toFloatArray());
            assertEquals(f[1 * 12 + 2 * 4 + 3], t.getFloat(1, 2, 3));
        }
        byte[] b = {-128, -1, 0, 1, 127, (byte) 200};
        try (Tensor s8 = Tensor.of(DType.S8, b, 2, 3); Tensor u8 = Tensor.of(DType.U8, b, 6)) {
            assertArrayEquals(b, s8.toByteArray());
            assertEquals(-128, s8.getInt(0, 0));
            assertEquals(200, u8.getInt(5), "U8 reads unsigned");
            assertEquals(255, u8.getInt(1));
        }
        int[] ints = {Integer.MIN_VALUE, -1, 0, Integer.MAX_VALUE};
        try (Tensor s32 = Tensor.of(ints, 2, 2)) {
            assertArrayEquals(ints, s32.toIntArray());
        }
    }

    @Test
    void intWritesAreRangeCheckedNeverTruncated() {
        try (Tensor u8 = Tensor.allocate(DType.U8, 2); Tensor s8 = Tensor.allocate(DType.S8, 2)) {
            u8.setInt(255, 0);
            assertEquals(255, u8.getInt(0));
            assertThrows(IllegalArgumentException.class, () -> u8.setInt(256, 1));
            assertThrows(IllegalArgumentException.class, () -> u8.setInt(-1, 1));
            assertThrows(IllegalArgumentException.class, () -> s8.setInt(128, 1));
            assertThrows(IllegalArgumentException.class, () -> s8.setInt(-129, 1));
            assertEquals(0, u8.getInt(1));
        }
    }

    @Test
    void viewsShareMemoryAndIndexCorrectly(SplittableRandom rnd) {
        float[] data = TestData.floats(rnd, 4 * 6);
        try (Tensor t = Tensor.of(data, 4, 6)) {
            Tensor s = t.slice(1, 2, 5); // columns 2..4
            assertArrayEquals(new long[] {4, 3}, s.shape());
            assertFalse(s.isContiguous());
            assertEquals(data[3 * 6 + 4], s.getFloat(3, 2));
            Tensor tr = t.t();
            assertArrayEquals(new long[] {6, 4}, tr.shape());
            assertEquals(data[1 * 6 + 5], tr.getFloat(5, 1));
            Tensor row = t.select(0, 2);
            assertArrayEquals(new long[] {6}, row.shape());
            assertEquals(data[2 * 6 + 3], row.getFloat(3));
            Tensor r = t.reshape(2, -1, 3);
            assertArrayEquals(new long[] {2, 4, 3}, r.shape());
            assertEquals(data[23], r.getFloat(1, 3, 2));
            s.setFloat(42f, 0, 0); // writes through to the owner
            assertEquals(42f, t.getFloat(0, 2));
            float[] sliced = s.toFloatArray();
            for (int i = 0; i < 4; i++) for (int j = 0; j < 3; j++) assertEquals(t.getFloat(i, 2 + j), sliced[i * 3 + j]);
            float[] transposed = tr.toFloatArray();
            for (int i = 0; i < 6; i++) for (int j = 0; j < 4; j++) assertEquals(t.getFloat(j, i), transposed[i * 4 + j]);
        }
    }

    @Test
    void stridedCopyInAndOut(SplittableRandom rnd) {
        try (Tensor t = Tensor.allocate(DType.F32, 5, 7)) {
            Tensor view = t.slice(0, 1, 4).slice(1, 2, 6).t(); // 4x3, strided both ways
            float[] src = TestData.floats(rnd, 12);
            view.copyFrom(src);
            assertArrayEquals(src, view.toFloatArray());
            try (Tensor copy = view.copy()) {
                assertTrue(copy.isContiguous());
                assertArrayEquals(src, copy.toFloatArray());
            }
            assertEquals(0f, t.getFloat(0, 0), "outside the view untouched");
        }
    }

    /** Transposed copies across several 32x32 tiles with ragged edges, for 1- and 4-byte elements, into views too. */
    @Test
    void tiledTransposedCopies(SplittableRandom rnd) {
        for (DType type : new DType[] {DType.U8, DType.S8, DType.F32, DType.S32}) {
            int rows = 67, cols = 45;
            try (Tensor t = Tensor.allocate(type, rows, cols); Tensor out = Tensor.allocate(type, cols, rows); Tensor big = Tensor.allocate(type, cols + 3, rows + 5)) {
                for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) set(t, 1 + rnd.nextInt(100), r, c);
                out.copyFrom(t.t());
                Tensor view = big.slice(0, 2, cols + 2).slice(1, 1, rows + 1);
                view.copyFrom(t.t());
                for (int r = 0; r < rows; r++) {
                    for (int c = 0; c < cols; c++) {
                        assertEquals(get(t, r, c), get(out, c, r), type + " [" + c + ", " + r + "]");
                        assertEquals(get(t, r, c), get(view, c, r), type + " view [" + c + ", " + r + "]");
                    }
                }
                assertEquals(0, get(big, 0, 0), "outside the view untouched");
            }
        }
    }

    /**
     * Rank-4 copies through every axis permutation (merged dimensions, batched 2-D transposes), from a sliced view
     * whose axes do not merge and from one with a 1-sized axis, into a sliced view; every element checked by index.
     */
    @Test
    void permutedCopiesOfEveryAxisOrder(SplittableRandom rnd) {
        float[] data = TestData.floats(rnd, 3 * 8 * 3 * 10);
        int[][] orders = {{0, 1, 2, 3}, {0, 1, 3, 2}, {0, 2, 1, 3}, {0, 2, 3, 1}, {0, 3, 1, 2}, {0, 3, 2, 1}, {1, 0, 2, 3}, {1, 0, 3, 2},
                {1, 2, 0, 3}, {1, 2, 3, 0}, {1, 3, 0, 2}, {1, 3, 2, 0}, {2, 0, 1, 3}, {2, 0, 3, 1}, {2, 1, 0, 3}, {2, 1, 3, 0},
                {2, 3, 0, 1}, {2, 3, 1, 0}, {3, 0, 1, 2}, {3, 0, 2, 1}, {3, 1, 0, 2}, {3, 1, 2, 0}, {3, 2, 0, 1}, {3, 2, 1, 0}};
        try (Tensor base = Tensor.of(data, 3, 8, 3, 10)) {
            Tensor strided = base.slice(1, 1, 8).slice(2, 0, 2).slice(3, 0, 9); // (3, 7, 2, 9): no two axes merge
            for (Tensor src : List.of(strided, strided.slice(2, 1, 2))) for (int[] o : orders) {
                Tensor p = src;
                int[] at = {0, 1, 2, 3}; // at[d] = which source axis view axis d holds
                for (int d = 0; d < 4; d++) { // selection sort of axes into order o by transposes
                    int from = d;
                    while (at[from] != o[d]) from++;
                    if (from != d) {
                        p = p.transpose(d, from);
                        int t = at[d];
                        at[d] = at[from];
                        at[from] = t;
                    }
                }
                long[] shape = p.shape();
                try (Tensor out = Tensor.allocate(DType.F32, shape[0] + 1, shape[1], shape[2], shape[3] + 2)) {
                    Tensor view = out.slice(0, 1, shape[0] + 1).slice(3, 1, shape[3] + 1);
                    view.copyFrom(p);
                    long[] idx = new long[4], srcIdx = new long[4];
                    for (idx[0] = 0; idx[0] < shape[0]; idx[0]++) for (idx[1] = 0; idx[1] < shape[1]; idx[1]++)
                        for (idx[2] = 0; idx[2] < shape[2]; idx[2]++) for (idx[3] = 0; idx[3] < shape[3]; idx[3]++) {
                            for (int d = 0; d < 4; d++) srcIdx[o[d]] = idx[d];
                            assertEquals(src.getFloat(srcIdx), view.getFloat(idx), java.util.Arrays.toString(o) + " at " + java.util.Arrays.toString(idx));
                        }
                    assertEquals(0f, out.getFloat(0, 0, 0, 0), "outside the view untouched");
                }
            }
        }
    }

    private static void set(Tensor t, int v, long... index) {
        if (t.dtype() == DType.F32) t.setFloat(v, index);
        else t.setInt(v, index);
    }

    private static int get(Tensor t, long... index) {
        return t.dtype() == DType.F32 ? (int) t.getFloat(index) : t.getInt(index);
    }

    @Test
    void outOfBoundsViewsAndIndicesThrow() {
        try (Tensor t = Tensor.allocate(DType.F32, 3, 4)) {
            assertThrows(IndexOutOfBoundsException.class, () -> t.slice(0, 2, 4));
            assertThrows(IndexOutOfBoundsException.class, () -> t.slice(1, -1, 2));
            assertThrows(IndexOutOfBoundsException.class, () -> t.slice(2, 0, 1));
            assertThrows(IndexOutOfBoundsException.class, () -> t.select(0, 3));
            assertThrows(IndexOutOfBoundsException.class, () -> t.getFloat(3, 0));
            assertThrows(IllegalArgumentException.class, () -> t.getFloat(1));
            assertThrows(IllegalArgumentException.class, () -> t.reshape(5, 3));
            assertThrows(IllegalStateException.class, () -> t.t().reshape(12), "non-contiguous reshape");
            assertThrows(IllegalArgumentException.class, () -> t.copyFrom(new float[11]));
            assertThrows(IllegalArgumentException.class, () -> Tensor.allocate(DType.F32, 2, -1));
            assertThrows(IllegalArgumentException.class, () -> Tensor.allocate(DType.F32, Long.MAX_VALUE, 4));
        }
    }

    @Test
    void dtypeMismatchesThrow() {
        try (Tensor f = Tensor.allocate(DType.F32, 2); Tensor i = Tensor.allocate(DType.S32, 2)) {
            assertThrows(IllegalArgumentException.class, () -> f.copyFrom(new int[2]));
            assertThrows(IllegalArgumentException.class, () -> i.copyFrom(new float[2]));
            assertThrows(IllegalArgumentException.class, i::toFloatArray);
            assertThrows(IllegalStateException.class, () -> f.getInt(0));
            assertThrows(IllegalArgumentException.class, () -> i.getFloat(0));
            assertThrows(IllegalArgumentException.class, () -> f.copyFrom(i));
            assertThrows(IllegalArgumentException.class, () -> Tensor.of(DType.F32, new byte[2], 2));
        }
    }

    @Test
    void everyUseAfterCloseThrowsForOwnerAndViews() {
        Tensor t = Tensor.allocate(DType.F32, 4, 4);
        Tensor view = t.slice(0, 1, 3);
        t.close();
        assertTrue(t.isClosed());
        assertTrue(view.isClosed(), "views die with their owner");
        List<Consumer<Tensor>> uses = List.of(x -> x.getFloat(0, 0), x -> x.setFloat(1f, 0, 0), Tensor::toFloatArray,
                x -> x.copyFrom(new float[(int) x.numel()]), Tensor::copy, x -> x.slice(0, 0, 1), Tensor::t, x -> x.reshape(-1),
                x -> x.select(0, 0), Tensor::segment, x -> Ops.auto().relu(x), x -> Ops.auto().matmul(x, x));
        for (Tensor x : List.of(t, view)) {
            for (Consumer<Tensor> use : uses) {
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> use.accept(x));
                assertTrue(e.getMessage().contains("close"), e.getMessage());
            }
        }
        assertDoesNotThrow(t::close, "close is idempotent");
    }

    @Test
    void closingAViewKeepsTheOwnerAlive() {
        try (Tensor t = Tensor.allocate(DType.F32, 4)) {
            t.slice(0, 0, 2).close();
            assertFalse(t.isClosed());
            t.setFloat(1f, 3);
        }
    }

    @Test
    void arenaAndManagedLifetimes() {
        Arena arena = Arena.ofShared();
        Tensor t = Tensor.allocate(arena, DType.F32, 8);
        t.setFloat(2f, 7);
        arena.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.getFloat(7));
        assertTrue(e.getMessage().contains("Arena"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> Ops.auto().relu(t));
        Tensor m = Tensor.managed(DType.F32, 16);
        m.setFloat(3f, 15);
        assertEquals(3f, m.getFloat(15));
        m.close();
        assertThrows(IllegalStateException.class, () -> m.getFloat(0));
    }

    @Test
    void wrapChecksTheSegment() {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment seg = arena.allocate(40);
            Tensor t = Tensor.wrap(seg, DType.F32, 2, 5);
            t.setFloat(5f, 1, 4);
            assertEquals(5f, seg.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, 9));
            assertThrows(IllegalArgumentException.class, () -> Tensor.wrap(seg, DType.F32, 11));
            assertThrows(IllegalArgumentException.class, () -> Tensor.wrap(MemorySegment.ofArray(new float[4]), DType.F32, 4));
        }
    }

    @Test
    void emptyAndScalarTensors() {
        try (Tensor e = Tensor.allocate(DType.F32, 0, 5); Tensor s = Tensor.allocate(DType.F32)) {
            assertEquals(0, e.numel());
            assertEquals(0, e.toFloatArray().length);
            assertEquals(1, s.numel());
            s.setFloat(4f);
            assertEquals(4f, s.getFloat());
            try (Tensor r = Ops.auto().relu(e)) {
                assertEquals(0, r.numel());
            }
        }
    }

    @Test
    void toBackendCopiesIntoAnOwnedTensor(SplittableRandom rnd) {
        float[] data = TestData.floats(rnd, 6);
        try (Tensor t = Tensor.of(data, 2, 3); Tensor moved = t.t().to(Tessera.backend("java"))) {
            assertTrue(moved.isContiguous());
            assertTrue(moved.ownsMemory());
            assertEquals(t.getFloat(1, 2), moved.getFloat(2, 1));
        }
    }
}
