package org.tessera;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;
import org.tessera.kernels.Backends;
import org.tessera.kernels.HostStorage;
import org.tessera.kernels.MemoryKind;
import org.tessera.kernels.Storage;
import org.tessera.kernels.spi.F32GemmKernels;
import org.tessera.kernels.spi.OpFamily;

/**
 * BLAS-style GEMM with the argument order and semantics of {@code cblas_sgemm}, so code written against
 * netlib-java or OpenBLAS switches in one line. Runs on the best available host backend (or the one forced
 * by {@code tessera.backend} / {@link Tessera#useBackend}).
 *
 * <p>{@code C = alpha * op(A) * op(B) + beta * C}; op(A) is (m, k), op(B) is (k, n), C is (m, n). Leading
 * dimensions are in elements, in the given layout. Edge semantics as in reference BLAS: {@code beta == 0}
 * ignores what C held (NaN included); {@code alpha == 0} or {@code k == 0} only scales C; {@code m == 0} or
 * {@code n == 0} does nothing. NaN and Inf in A or B propagate.
 *
 * <p>The {@code float[]} forms copy their operands to off-heap buffers kept per thread (no allocation after
 * the first call of a size); the {@code MemorySegment} forms are zero-copy on native segments. For hot
 * loops prefer tensors and {@link Ops#matmul}.
 */
public final class Blas {
    /** Storage order of all three matrices, as {@code CBLAS_LAYOUT}. */
    public enum Layout { ROW_MAJOR, COL_MAJOR }

    /** Whether a matrix is used as stored or transposed, as {@code CBLAS_TRANSPOSE} (real: ConjTrans = Trans). */
    public enum Transpose { NO_TRANS, TRANS }

    private Blas() {}

    /**
     * {@code cblas_sgemm} on arrays, with an offset into each (netlib-java style).
     *
     * @throws IllegalArgumentException naming the argument: negative size, leading dimension below its
     *                                  minimum, or an array too short for its matrix
     */
    public static void sgemm(Layout layout, Transpose transA, Transpose transB, int m, int n, int k, float alpha,
                             float[] a, int aOffset, int lda, float[] b, int bOffset, int ldb,
                             float beta, float[] c, int cOffset, int ldc) {
        Shape s = Shape.check(layout, transA, transB, m, n, k, lda, ldb, ldc);
        Objects.requireNonNull(a, "a");
        Objects.requireNonNull(b, "b");
        Objects.requireNonNull(c, "c");
        long aLen = s.extent(s.aRows, s.aCols, lda), bLen = s.extent(s.bRows, s.bCols, ldb), cLen = s.extent(s.cRows, s.cCols, ldc);
        checkArray("a", a.length, aOffset, aLen);
        checkArray("b", b.length, bOffset, bLen);
        checkArray("c", c.length, cOffset, cLen);
        if (m == 0 || n == 0) return;
        Staging st = Staging.get(aLen, bLen, cLen);
        MemorySegment.copy(a, aOffset, st.a.segment(), ValueLayout.JAVA_FLOAT_UNALIGNED, 0, (int) aLen);
        MemorySegment.copy(b, bOffset, st.b.segment(), ValueLayout.JAVA_FLOAT_UNALIGNED, 0, (int) bLen);
        // Always copied in, even with beta == 0: the copy back covers the gaps between rows (ldc > n), which must keep their values.
        MemorySegment.copy(c, cOffset, st.c.segment(), ValueLayout.JAVA_FLOAT_UNALIGNED, 0, (int) cLen);
        run(s, alpha, st.a, lda, st.b, ldb, beta, st.c, ldc);
        MemorySegment.copy(st.c.segment(), ValueLayout.JAVA_FLOAT_UNALIGNED, 0, c, cOffset, (int) cLen);
    }

    /**
     * {@code cblas_sgemm} on native memory segments, each starting at element (0, 0) of its matrix.
     *
     * @throws IllegalArgumentException naming the argument: negative size, leading dimension below its
     *                                  minimum, a heap segment, or a segment too small for its matrix
     * @throws IllegalStateException    if a segment's arena is closed
     */
    public static void sgemm(Layout layout, Transpose transA, Transpose transB, int m, int n, int k, float alpha,
                             MemorySegment a, int lda, MemorySegment b, int ldb, float beta, MemorySegment c, int ldc) {
        Shape s = Shape.check(layout, transA, transB, m, n, k, lda, ldb, ldc);
        checkSegment("a", a, s.extent(s.aRows, s.aCols, lda));
        checkSegment("b", b, s.extent(s.bRows, s.bCols, ldb));
        checkSegment("c", c, s.extent(s.cRows, s.cCols, ldc));
        if (m == 0 || n == 0) return;
        run(s, alpha, HostStorage.wrap(a), lda, HostStorage.wrap(b), ldb, beta, HostStorage.wrap(c), ldc);
    }

    /** Column-major C = op(A) op(B) is row-major C^T = op(B)^T op(A)^T: swap the operands and m, n. */
    private static void run(Shape s, float alpha, Storage a, int lda, Storage b, int ldb, float beta, Storage c, int ldc) {
        F32GemmKernels gemm = Backends.get().select(OpFamily.F32_GEMM, MemoryKind.HOST).kernels();
        if (s.layout == Layout.ROW_MAJOR) {
            gemm.sgemm(s.transA, s.transB, s.m, s.n, s.k, alpha, a, 0, lda, b, 0, ldb, beta, c, 0, ldc);
        } else {
            gemm.sgemm(s.transB, s.transA, s.n, s.m, s.k, alpha, b, 0, ldb, a, 0, lda, beta, c, 0, ldc);
        }
    }

    /** The validated problem: sizes, and each matrix's stored (rows, cols) in its layout's row-major view. */
    private record Shape(Layout layout, boolean transA, boolean transB, int m, int n, int k,
                         long aRows, long aCols, long bRows, long bCols, long cRows, long cCols) {
        static Shape check(Layout layout, Transpose ta, Transpose tb, int m, int n, int k, int lda, int ldb, int ldc) {
            Objects.requireNonNull(layout, "layout");
            Objects.requireNonNull(ta, "transA");
            Objects.requireNonNull(tb, "transB");
            if (m < 0) throw new IllegalArgumentException("m must be >= 0, got " + m);
            if (n < 0) throw new IllegalArgumentException("n must be >= 0, got " + n);
            if (k < 0) throw new IllegalArgumentException("k must be >= 0, got " + k);
            boolean transA = ta == Transpose.TRANS, transB = tb == Transpose.TRANS;
            // Stored shapes (rows x cols) of A, B, C; in column-major the "rows" of the row-major view are columns.
            long ar = transA ? k : m, ac = transA ? m : k, br = transB ? n : k, bc = transB ? k : n;
            Shape s = layout == Layout.ROW_MAJOR ? new Shape(layout, transA, transB, m, n, k, ar, ac, br, bc, m, n)
                    : new Shape(layout, transA, transB, m, n, k, ac, ar, bc, br, n, m);
            minLd("lda", lda, s.aCols);
            minLd("ldb", ldb, s.bCols);
            minLd("ldc", ldc, s.cCols);
            return s;
        }

        /** Elements spanned by a (rows x cols) matrix with leading dimension ld. */
        long extent(long rows, long cols, long ld) {
            return rows == 0 || cols == 0 ? 0 : (rows - 1) * ld + cols;
        }

        private static void minLd(String name, int ld, long min) {
            if (ld < Math.max(1, min)) {
                throw new IllegalArgumentException(name + " must be >= max(1, " + min + ") for this layout, shape and transpose, got " + ld);
            }
        }
    }

    private static void checkArray(String name, int length, int offset, long needed) {
        if (offset < 0) throw new IllegalArgumentException(name + " offset must be >= 0, got " + offset);
        if (offset + needed > length) {
            throw new IllegalArgumentException(name + " needs " + needed + " elements from offset " + offset + " but has " + length);
        }
    }

    private static void checkSegment(String name, MemorySegment s, long needed) {
        Objects.requireNonNull(s, name);
        if (!s.isNative()) throw new IllegalArgumentException(name + " must be a native segment (Arena-allocated), not a heap segment");
        if (!s.scope().isAlive()) throw new IllegalStateException(name + ": the segment's arena is closed");
        if (s.byteSize() < 4 * needed) {
            throw new IllegalArgumentException(name + " needs " + needed + " floats but the segment holds " + s.byteSize() / 4);
        }
    }

    /** Per-thread off-heap copies of array operands, grown to the largest size seen. */
    private static final class Staging {
        private static final ThreadLocal<Staging> LOCAL = ThreadLocal.withInitial(Staging::new);
        HostStorage a = grow(null, 0), b = grow(null, 0), c = grow(null, 0);

        static Staging get(long aLen, long bLen, long cLen) {
            Staging s = LOCAL.get();
            s.a = grow(s.a, aLen);
            s.b = grow(s.b, bLen);
            s.c = grow(s.c, cLen);
            return s;
        }

        private static HostStorage grow(HostStorage current, long floats) {
            if (current != null && current.byteSize() >= 4 * floats) return current;
            return HostStorage.wrap(Arena.ofAuto().allocate(Math.max(64, 4 * floats), HostStorage.ALIGNMENT));
        }
    }
}
