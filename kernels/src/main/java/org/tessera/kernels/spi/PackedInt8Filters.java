package org.tessera.kernels.spi;

import java.util.List;
import org.tessera.kernels.Storage;

/**
 * int8 convolution filters packed once by {@link ConvKernels#packInt8Filters} for one filter geometry, then
 * reused for every batch: one packed GEMM operand per group ((r s c/groups) x (k/groups), with its column sums
 * and scales), or, for a depthwise convolution (groups = c = k), the taps rearranged channel-fastest for the
 * direct kernel. Only the kernels that packed them can use them; closing frees everything and a closed one
 * is refused before any kernel runs.
 *
 * @param owner    the kernels that packed them
 * @param k        output channels
 * @param r        filter height
 * @param s        filter width
 * @param c        input channels
 * @param groups   groups
 * @param perGroup the GEMM operands, group by group; empty for depthwise
 * @param taps     depthwise: s8 (r, s, c), channel fastest; null otherwise
 * @param scales   depthwise: f32 (c) weight scales (a per-tensor scale repeated); null otherwise
 */
public record PackedInt8Filters(ConvKernels owner, int k, int r, int s, int c, int groups, List<PackedInt8> perGroup,
                                Storage taps, Storage scales) implements AutoCloseable {
    public PackedInt8Filters {
        perGroup = List.copyOf(perGroup);
    }

    /** Whether this is the depthwise form. */
    public boolean depthwise() {
        return taps != null;
    }

    /** Whether the memory is still there. */
    public boolean isAlive() {
        if (depthwise()) return taps.isAlive() && scales.isAlive();
        for (PackedInt8 p : perGroup) if (!p.isAlive()) return false;
        return true;
    }

    /** Whether these filters fit {@code shape}'s k, r, s, c and groups. */
    public boolean fits(Conv2dShape shape) {
        return shape.k() == k && shape.r() == r && shape.s() == s && shape.c() == c && shape.groups() == groups;
    }

    @Override
    public void close() {
        if (depthwise()) {
            taps.close();
            scales.close();
        }
        for (PackedInt8 p : perGroup) p.close();
    }
}
