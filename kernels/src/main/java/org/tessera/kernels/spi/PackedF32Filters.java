package org.tessera.kernels.spi;

import org.tessera.kernels.Storage;

/**
 * f32 convolution filters prepared once by {@link ConvKernels#packF32Filters} for one filter geometry, then
 * reused for every batch, as inference does: the filters are not re-packed per call. Holds a copy of the
 * filters (k, r, s, c / groups) for the algorithms that read them as they are, and, on backends with an implicit
 * GEMM, every group's filters in that kernel's packed layout (group after group). Depthwise filters are also held
 * transposed to (r, s, c), the layout the depthwise kernels read, so no call transposes them again. Only the
 * kernels that packed them can use them; closing frees both, and closed filters are refused before any kernel runs.
 *
 * @param owner  the kernels that packed them
 * @param k      output channels
 * @param r      filter height
 * @param s      filter width
 * @param c      input channels
 * @param groups groups
 * @param plain  the filters (k, r, s, c / groups), copied
 * @param packed the implicit GEMM's packed filters or the transposed depthwise filters; null where neither applies
 */
public record PackedF32Filters(ConvKernels owner, int k, int r, int s, int c, int groups, Storage plain, Storage packed)
        implements AutoCloseable {

    /** Whether the memory is still there. */
    public boolean isAlive() {
        return plain.isAlive() && (packed == null || packed.isAlive());
    }

    /** Whether these filters fit {@code shape}'s k, r, s, c and groups. */
    public boolean fits(Conv2dShape shape) {
        return shape.k() == k && shape.r() == r && shape.s() == s && shape.c() == c && shape.groups() == groups;
    }

    @Override
    public void close() {
        plain.close();
        if (packed != null) packed.close();
    }
}
