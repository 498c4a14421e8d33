package org.tessera;

import org.tessera.kernels.Backends.Selection;
import org.tessera.kernels.spi.Backend;
import org.tessera.kernels.spi.ConvKernels;

/**
 * What {@link PackedConv} (f32) and {@link PackedInt8Conv} share: a convolution layer's filters (k, r, s, c / groups)
 * prepared once by one backend's kernels, the layer's {@link Conv2dParams}, and the rule that only those kernels
 * can use them.
 */
abstract class PackedConvFilters implements AutoCloseable {
    private final int k, r, s, c;
    private final Conv2dParams params;
    private final Backend backend;
    private final ConvKernels owner;
    private final Runnable free;

    PackedConvFilters(int k, int r, int s, int c, Conv2dParams params, Backend backend, ConvKernels owner, Runnable free) {
        this.k = k;
        this.r = r;
        this.s = s;
        this.c = c;
        this.params = params;
        this.backend = backend;
        this.owner = owner;
        this.free = free;
    }

    /** Output channels. */
    public int outChannels() {
        return k;
    }

    /** Input channels (all groups). */
    public int inChannels() {
        return c;
    }

    /** Filter height and width. */
    public int[] window() {
        return new int[] {r, s};
    }

    /** Stride, padding, dilation and groups of the layer. */
    public Conv2dParams params() {
        return params;
    }

    /** The backend whose kernels packed it; only they can use it. */
    public Backend backend() {
        return backend;
    }

    /** Throws, naming both backends, unless {@code sel} runs on the kernels that packed these filters. */
    void requirePackedFor(Selection<ConvKernels> sel) {
        if (owner != sel.kernels()) {
            throw new IllegalArgumentException("w was packed for the " + backend.name() + " backend but this op runs on "
                    + sel.backend().name() + ": pack it with the same Ops (or backend)");
        }
    }

    /** Frees the packed copy. Idempotent. */
    @Override
    public void close() {
        free.run();
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "(k=" + k + ", " + r + "x" + s + ", c=" + c + ", " + params + ", " + backend.name() + ")";
    }
}
