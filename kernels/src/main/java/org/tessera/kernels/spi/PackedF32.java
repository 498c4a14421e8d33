package org.tessera.kernels.spi;

import org.tessera.kernels.Storage;

/**
 * A (k, n) f32 matrix packed once by one {@link F32GemmKernels} into its own layout. Only the kernels that
 * packed it can use it. Closing frees the packed memory; a closed one is refused before any kernel runs.
 */
public final class PackedF32 implements AutoCloseable {
    private final F32GemmKernels owner;
    private final int k, n;
    private final Storage storage;

    public PackedF32(F32GemmKernels owner, int k, int n, Storage storage) {
        this.owner = owner;
        this.k = k;
        this.n = n;
        this.storage = storage;
    }

    /** Rows of B (the inner dimension of the product). */
    public int k() {
        return k;
    }

    /** Columns of B. */
    public int n() {
        return n;
    }

    /** The kernels whose layout this is. */
    public F32GemmKernels owner() {
        return owner;
    }

    /** The packed elements. */
    public Storage storage() {
        return storage;
    }

    @Override
    public void close() {
        storage.close();
    }
}
