package org.tessera;

import java.lang.foreign.MemorySegment;

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

    /** Offsets and strides in elements of {@code elementBytes} bytes. */
    private static void run(MemorySegment src, long srcOffset, long[] srcStrides, MemorySegment dst, long dstOffset,
                            long[] dstStrides, long[] shape, int elementBytes) {
        for (long d : shape) if (d == 0) return;
        int rank = shape.length;
        if (rank == 0) {
            MemorySegment.copy(src, srcOffset * elementBytes, dst, dstOffset * elementBytes, elementBytes);
            return;
        }
        long inner = shape[rank - 1];
        long srcInner = srcStrides[rank - 1], dstInner = dstStrides[rank - 1];
        boolean bulk = (srcInner == 1 || inner == 1) && (dstInner == 1 || inner == 1);
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
                for (long j = 0; j < inner; j++) {
                    MemorySegment.copy(src, (s + j * srcInner) * elementBytes, dst, (d + j * dstInner) * elementBytes, elementBytes);
                }
            }
            int i = rank - 2;
            while (i >= 0 && ++index[i] == shape[i]) index[i--] = 0;
            if (i < 0) return;
        }
    }
}
