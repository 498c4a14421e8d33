package org.tessera.kernels.sparse;

import java.lang.foreign.MemorySegment;
import org.tessera.kernels.spi.Int8Input;
import org.tessera.kernels.spi.Int8Output;
import org.tessera.kernels.spi.PackedSparse;

/**
 * The body of a sparse product: output block rows {@code [blockRow0, blockRow1)} of
 * {@code Y = act(W . X + bias)} for packed W (see {@link PackedSparse} for the layout). Arguments were
 * validated by {@link SparseSpmm}; offsets and strides are in elements, m > 0. One implementation per ISA.
 */
public interface SpmmRows {
    /** What follows {@code __} in the kernel ids, e.g. {@code avx2}, {@code panama256}, {@code scalar}. */
    String isa();

    /** f32 weights. */
    void f32(PackedSparse w, int blockRow0, int blockRow1, int m, MemorySegment x, long xOff, long ldx, MemorySegment bias,
             long biasOff, boolean relu, MemorySegment y, long yOff, long ldy);

    /** s8 weights, u8/s8 activations, exact s32 accumulation, then the {@link Int8Output} epilogue. */
    void int8(PackedSparse w, int blockRow0, int blockRow1, int m, Int8Input xq, MemorySegment x, long xOff, long ldx,
              Int8Output out, MemorySegment bias, long biasOff, MemorySegment y, long yOff, long ldy);
}
