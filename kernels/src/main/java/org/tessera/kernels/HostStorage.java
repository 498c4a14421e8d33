package org.tessera.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Off-heap host memory: an FFM {@link MemorySegment}, 64-byte aligned when allocated here.
 * Either owns its arena (closing the storage closes the arena) or borrows memory whose lifetime the
 * caller manages (a caller's arena, or a GC-managed {@link Arena#ofAuto()} arena).
 */
public final class HostStorage extends Storage {
    /** Alignment of every allocation: a cache line and one AVX-512 vector. */
    public static final long ALIGNMENT = 64;

    private final MemorySegment segment;
    private final Arena ownedArena;

    static {
        Preload.begin(); // the first host allocation is the earliest sign an app will run kernels
    }

    private HostStorage(MemorySegment segment, Arena ownedArena) {
        super(segment.byteSize());
        this.segment = segment;
        this.ownedArena = ownedArena;
    }

    /** Allocates zeroed memory in a new shared arena that {@link #close()} frees. */
    public static HostStorage allocate(long byteSize) {
        Arena arena = Arena.ofShared();
        try {
            return new HostStorage(arena.allocate(Math.max(byteSize, 1), ALIGNMENT).asSlice(0, byteSize), arena);
        } catch (RuntimeException | OutOfMemoryError e) {
            arena.close();
            throw e;
        }
    }

    /**
     * Allocates zeroed memory in the caller's arena, which decides when it is freed. The arena must be
     * shared (or global/auto) if kernels run on the library's worker threads.
     */
    public static HostStorage allocate(Arena arena, long byteSize) {
        return new HostStorage(arena.allocate(Math.max(byteSize, 1), ALIGNMENT).asSlice(0, byteSize), null);
    }

    /** Wraps memory the caller manages; closing the storage then only invalidates it. */
    public static HostStorage wrap(MemorySegment segment) {
        if (!segment.isNative()) throw new IllegalArgumentException("kernels need off-heap (native) memory; got a heap segment");
        return new HostStorage(segment, null);
    }

    /** The memory; access throws once the storage or its arena is closed. */
    public MemorySegment segment() {
        return segment;
    }

    @Override
    public MemoryKind kind() {
        return MemoryKind.HOST;
    }

    @Override
    public boolean isAlive() {
        return super.isAlive() && segment.scope().isAlive();
    }

    @Override
    protected void free() {
        if (ownedArena != null) ownedArena.close();
    }

    @Override
    public String closedMessage() {
        return super.isAlive() ? "tensor memory is gone: the Arena it was allocated in has been closed"
                : super.closedMessage();
    }
}
