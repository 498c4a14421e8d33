package org.tessera.kernels.conv;

import java.lang.foreign.MemorySegment;
import org.tessera.kernels.spi.Conv2dShape;

/**
 * A convolution kernel that runs the GEMM on patches gathered straight from the input while packing, instead
 * of on an im2col copy. Single-threaded pieces; {@link GemmConv2d} runs them over the pool, packing each
 * group's filters once into a buffer all threads share. Arguments are validated by the caller.
 */
public interface ImplicitGemmConv2d {
    /** The kernel's id, e.g. {@code f32_conv2d_igemm_6x16__avx2}. */
    String kernelId();

    /** Column tile: filter ranges handed to {@link #packFilters} and {@link #rows} start on multiples of it. */
    int nr();

    /** Row tile: pixel ranges handed to {@link #rows} start on multiples of it. */
    int mr();

    /** Floats of the packed filters of one group. */
    long packedFloats(Conv2dShape shape);

    /** Packs filters [j0, j1) (within the group, j0 a multiple of {@link #nr}) of group g into packed. */
    void packFilters(Conv2dShape shape, MemorySegment w, long wOffset, int g, int j0, int j1, MemorySegment packed);

    /**
     * Output pixels [p0, p1) of group g, the group's output channels [j0, j1) (j0 a multiple of {@link #nr}, their
     * filters packed): y = act(patches * filters^T + bias). p0 and p1 count positions in the kernel's own pixel
     * order, which may differ from the output's (the native kernels take whole-window pixels before the edges):
     * callers cover all pixels with disjoint ranges.
     */
    void rows(Conv2dShape shape, MemorySegment x, long xOffset, int g, MemorySegment packed, MemorySegment bias, long biasOffset,
              MemorySegment y, long yOffset, boolean relu, int j0, int j1, long p0, long p1);

    /** Whether {@link #packFlippedFilters} is available (else the caller writes the flipped filters out first). */
    default boolean packsFlippedFilters() {
        return false;
    }

    /**
     * For dx of {@code forward} (stride 1, dilation 1, one group): its filters w (k, r, s, c) flipped in space and
     * transposed to (c, r, s, k), packed as {@link #packFilters} packs filters [j0, j1) of that flipped copy for
     * the transposed convolution, but read from w in place (j0 a multiple of {@link #nr}).
     */
    default void packFlippedFilters(Conv2dShape forward, MemorySegment w, long wOffset, int j0, int j1, MemorySegment packed) {
        throw new UnsupportedOperationException(kernelId() + " does not pack flipped filters");
    }

    /** Filters per tile of {@link #weightGradient} for this shape: ranges handed to it start on multiples of it. */
    default int weightGradientRows(Conv2dShape shape) {
        return 1;
    }

    /** Whether {@link #weightGradient} takes this shape (else the caller runs im2col and a GEMM). */
    default boolean hasWeightGradient(Conv2dShape shape) {
        return false;
    }

    /**
     * Filters [f0, f1) of the weight gradient dw (k, r, s, c) = sum over output pixels of dy times the input each
     * tap reads, overwriting them, without an im2col matrix. Only for shapes {@link #hasWeightGradient} accepts.
     */
    default void weightGradient(Conv2dShape shape, MemorySegment x, long xOffset, MemorySegment dy, long dyOffset, MemorySegment dw,
                                long dwOffset, int f0, int f1) {
        throw new UnsupportedOperationException(kernelId() + " has no weight-gradient kernel");
    }
}
