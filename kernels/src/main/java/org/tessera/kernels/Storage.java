package org.tessera.kernels;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A block of memory that kernels read and write: host memory or device memory. Tensors and their views
 * share one storage.
 *
 * <p>Lifetime: every kernel call {@linkplain #acquire() acquires} its operands' storages and releases
 * them when it returns, so closing a storage while a kernel runs on it throws instead of freeing memory
 * under the kernel, and any use after {@link #close()} throws {@link IllegalStateException} before a
 * native call is made.
 */
public abstract class Storage implements AutoCloseable {
    private static final int CLOSED = -1;
    /** Number of kernel calls in flight on this storage, or {@link #CLOSED}. */
    private final AtomicInteger users = new AtomicInteger();
    private final long byteSize;

    protected Storage(long byteSize) {
        if (byteSize < 0) throw new IllegalArgumentException("byteSize must be >= 0, got " + byteSize);
        this.byteSize = byteSize;
    }

    /** Size in bytes. */
    public final long byteSize() {
        return byteSize;
    }

    /** Where the bytes live. */
    public abstract MemoryKind kind();

    /** True until {@link #close()} (or, for host memory, until its arena is closed). */
    public boolean isAlive() {
        return users.get() != CLOSED;
    }

    /**
     * Marks one kernel call in flight; pair with {@link #release()} in a finally block.
     *
     * @throws IllegalStateException if the storage is closed
     */
    public final void acquire() {
        while (true) {
            int n = users.get();
            if (n == CLOSED || !isAlive()) throw new IllegalStateException(closedMessage());
            if (users.compareAndSet(n, n + 1)) return;
        }
    }

    /** Ends a call started with {@link #acquire()}. */
    public final void release() {
        users.decrementAndGet();
    }

    /**
     * Acquires every non-null storage (the same one may appear twice, e.g. in place); on failure
     * releases what it took and rethrows. Pair with {@link #releaseAll}.
     */
    public static void acquireAll(Storage... storages) {
        for (int i = 0; i < storages.length; i++) {
            if (storages[i] == null) continue;
            try {
                storages[i].acquire();
            } catch (RuntimeException e) {
                for (int j = i - 1; j >= 0; j--) if (storages[j] != null) storages[j].release();
                throw e;
            }
        }
    }

    /** Releases every non-null storage taken by {@link #acquireAll}. */
    public static void releaseAll(Storage... storages) {
        for (Storage s : storages) if (s != null) s.release();
    }

    /**
     * Frees the memory (if this storage owns it). Idempotent.
     *
     * @throws IllegalStateException if a kernel is still running on it
     */
    @Override
    public final void close() {
        while (true) {
            int n = users.get();
            if (n == CLOSED) return;
            if (n > 0) throw new IllegalStateException("cannot close: " + n + " kernel call(s) still use this memory");
            if (users.compareAndSet(0, CLOSED)) break;
        }
        free();
    }

    /** Releases the memory; called once, by {@link #close()}. */
    protected abstract void free();

    /** The message for use after close; subclasses may say more (e.g. that the owning arena closed). */
    public String closedMessage() {
        return "tensor memory is closed (used after close())";
    }
}
