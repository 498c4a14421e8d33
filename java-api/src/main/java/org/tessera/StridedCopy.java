package org.tessera;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Element copies between host layouts of the same shape: a strided tensor view and a contiguous row-major
 * buffer, or two views. Runs of the innermost dimension that are contiguous on both sides move as one bulk
 * copy; other elements one at a time.
 */
final class StridedCopy {
    private StridedCopy() {}

    /** dst (any layout) = src (row-major, dst.numel() elements). */
    static void fromContiguous(MemorySegment src, Tensor dst) {
        long[] shape = dst.shape();
        run(src, 0, Tensor.contiguousStrides(shape), dst.hostSegment(), dst.offset(), dst.strides(), shape, dst.dtype().byteSize());
    }

    /** dst (row-major) = src (any layout). */
    static void toContiguous(Tensor src, MemorySegment dst) {
        long[] shape = src.shape();
        run(src.hostSegment(), src.offset(), src.strides(), dst, 0, Tensor.contiguousStrides(shape), shape, src.dtype().byteSize());
    }

    /** dst = src, both host tensors of the same shape and dtype, any layouts. */
    static void copy(Tensor src, Tensor dst) {
        run(src.hostSegment(), src.offset(), src.strides(), dst.hostSegment(), dst.offset(), dst.strides(), src.shape(),
                src.dtype().byteSize());
    }

    /**
     * Offsets and strides in elements of {@code elementBytes} bytes. Dimensions that continue each other on both
     * sides merge and 1-sized ones drop first, so a permuting copy becomes a loop of 2-D tiled transposes: the
     * training flatten's (n, h, w, c) to (n, c, h, w) is n transposes of (h w, c).
     */
    private static void run(MemorySegment src, long srcOffset, long[] srcStrides, MemorySegment dst, long dstOffset,
                            long[] dstStrides, long[] shape, int elementBytes) {
        for (long d : shape) if (d == 0) return;
        int merged = 0;
        long[] sh = new long[shape.length], ss = new long[shape.length], ds = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] == 1) continue;
            if (merged > 0 && ss[merged - 1] == shape[i] * srcStrides[i] && ds[merged - 1] == shape[i] * dstStrides[i]) {
                sh[merged - 1] *= shape[i];
                ss[merged - 1] = srcStrides[i];
                ds[merged - 1] = dstStrides[i];
            } else {
                sh[merged] = shape[i];
                ss[merged] = srcStrides[i];
                ds[merged] = dstStrides[i];
                merged++;
            }
        }
        shape = java.util.Arrays.copyOf(sh, merged);
        srcStrides = java.util.Arrays.copyOf(ss, merged);
        dstStrides = java.util.Arrays.copyOf(ds, merged);
        int rank = merged;
        if (rank == 0) {
            MemorySegment.copy(src, srcOffset * elementBytes, dst, dstOffset * elementBytes, elementBytes);
            return;
        }
        long inner = shape[rank - 1];
        long srcInner = srcStrides[rank - 1], dstInner = dstStrides[rank - 1];
        boolean bulk = (srcInner == 1 || inner == 1) && (dstInner == 1 || inner == 1);
        if (!bulk && rank >= 2) {
            long[] inner2 = {shape[rank - 2], shape[rank - 1]};
            long[] srcInner2 = {srcStrides[rank - 2], srcInner}, dstInner2 = {dstStrides[rank - 2], dstInner};
            long[] at = new long[rank - 2];
            while (true) {
                long s = srcOffset, d = dstOffset;
                for (int i = 0; i < rank - 2; i++) {
                    s += at[i] * srcStrides[i];
                    d += at[i] * dstStrides[i];
                }
                transposed(src, s, srcInner2, dst, d, dstInner2, inner2, elementBytes);
                int i = rank - 3;
                while (i >= 0 && ++at[i] == shape[i]) at[i--] = 0;
                if (i < 0) return;
            }
        }
        long[] index = new long[rank - 1];
        while (true) {
            long s = srcOffset, d = dstOffset;
            for (int i = 0; i < rank - 1; i++) {
                s += index[i] * srcStrides[i];
                d += index[i] * dstStrides[i];
            }
            if (bulk) {
                MemorySegment.copy(src, s * elementBytes, dst, d * elementBytes, inner * elementBytes);
            } else {
                for (long j = 0; j < inner; j++) element(src, s + j * srcInner, dst, d + j * dstInner, elementBytes);
            }
            int i = rank - 2;
            while (i >= 0 && ++index[i] == shape[i]) index[i--] = 0;
            if (i < 0) return;
        }
    }

    /**
     * A 2-D copy whose inner dimension is strided on one side (a transpose, e.g. a batch turned to (features, n)
     * for the sparse kernels): TILE x TILE tiles, so both sides stay in cache while the strided side is walked.
     */
    private static void transposed(MemorySegment src, long srcOffset, long[] srcStrides, MemorySegment dst, long dstOffset, long[] dstStrides,
                                   long[] shape, int elementBytes) {
        if (elementBytes == 4) {
            transposed4(src, srcOffset, srcStrides, dst, dstOffset, dstStrides, shape);
            return;
        }
        if (elementBytes == 1) {
            transposed1(src, srcOffset, srcStrides, dst, dstOffset, dstStrides, shape);
            return;
        }
        for (long r0 = 0; r0 < shape[0]; r0 += TILE) {
            long r1 = Math.min(shape[0], r0 + TILE);
            for (long c0 = 0; c0 < shape[1]; c0 += TILE) {
                long c1 = Math.min(shape[1], c0 + TILE);
                for (long r = r0; r < r1; r++) {
                    long s = srcOffset + r * srcStrides[0], d = dstOffset + r * dstStrides[0];
                    for (long c = c0; c < c1; c++) element(src, s + c * srcStrides[1], dst, d + c * dstStrides[1], elementBytes);
                }
            }
        }
    }

    // The tiled loop once per element size with the typed access inline: through the per-element switch, the
    // u8 transpose of a sparse int8 layer's input (256 x 1568) took 2 ms (profiled: the switch's bulk-copy branch).
    private static void transposed4(MemorySegment src, long srcOffset, long[] srcStrides, MemorySegment dst, long dstOffset, long[] dstStrides,
                                    long[] shape) {
        long ss0 = srcStrides[0], ss1 = srcStrides[1], ds0 = dstStrides[0], ds1 = dstStrides[1];
        for (long r0 = 0; r0 < shape[0]; r0 += TILE) {
            long r1 = Math.min(shape[0], r0 + TILE);
            for (long c0 = 0; c0 < shape[1]; c0 += TILE) {
                long c1 = Math.min(shape[1], c0 + TILE);
                for (long r = r0; r < r1; r++) {
                    long s = srcOffset + r * ss0, d = dstOffset + r * ds0;
                    for (long c = c0; c < c1; c++) dst.set(I32, 4 * (d + c * ds1), src.get(I32, 4 * (s + c * ss1)));
                }
            }
        }
    }

    private static void transposed1(MemorySegment src, long srcOffset, long[] srcStrides, MemorySegment dst, long dstOffset, long[] dstStrides,
                                    long[] shape) {
        long ss0 = srcStrides[0], ss1 = srcStrides[1], ds0 = dstStrides[0], ds1 = dstStrides[1];
        for (long r0 = 0; r0 < shape[0]; r0 += TILE) {
            long r1 = Math.min(shape[0], r0 + TILE);
            for (long c0 = 0; c0 < shape[1]; c0 += TILE) {
                long c1 = Math.min(shape[1], c0 + TILE);
                for (long r = r0; r < r1; r++) {
                    long s = srcOffset + r * ss0, d = dstOffset + r * ds0;
                    for (long c = c0; c < c1; c++) dst.set(ValueLayout.JAVA_BYTE, d + c * ds1, src.get(ValueLayout.JAVA_BYTE, s + c * ss1));
                }
            }
        }
    }

    private static final int TILE = 32;
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED;

    /** One element (typed access: a bulk copy call per element costs several times more). Indices in elements. */
    private static void element(MemorySegment src, long s, MemorySegment dst, long d, int bytes) {
        switch (bytes) {
            case 4 -> dst.set(I32, 4 * d, src.get(I32, 4 * s));
            case 1 -> dst.set(ValueLayout.JAVA_BYTE, d, src.get(ValueLayout.JAVA_BYTE, s));
            default -> MemorySegment.copy(src, s * bytes, dst, d * bytes, bytes);
        }
    }
}
