package org.tessera.kernels.conv;

import java.lang.foreign.MemorySegment;
import org.tessera.kernels.spi.Conv2dShape;
import org.tessera.kernels.spi.Int8Input;
import org.tessera.kernels.spi.Int8Output;
import org.tessera.kernels.spi.PackedInt8;

/**
 * The int8 counterpart of {@link ImplicitGemmConv2d}: the int8 GEMM on patches gathered straight from the
 * u8/s8 input while packing, instead of on an im2col copy of the bytes. It reads each group's filters as the
 * backend's int8 GEMM packed them, and its results are that GEMM's on the im2col matrix, to the bit.
 * Single-threaded pieces; {@link QuantizedConv2d} runs pixel ranges over the pool. Arguments are validated
 * by the caller.
 */
public interface ImplicitInt8Conv2d {
    /** The kernel's id, e.g. {@code i8_conv2d_igemm_6x16__avx2}. */
    String kernelId();

    /** Row tile: pixel ranges handed to {@link #rows} should start on multiples of it. */
    int mr();

    /** Whether {@code w} is in a layout this kernel reads (packed by the matching int8 GEMM). */
    boolean accepts(PackedInt8 w);

    /**
     * Output pixels [p0, p1) of group g: y's group columns (y offset in elements of the output type, row
     * stride k) = the epilogue of (patches - zero point) * filters^T, bias (the whole layer's, offset to
     * element 0) or null.
     */
    void rows(Conv2dShape shape, Int8Input xq, MemorySegment x, long xOffset, int g, PackedInt8 w, Int8Output out,
              MemorySegment bias, long biasOffset, MemorySegment y, long yOffset, long p0, long p1);
}
