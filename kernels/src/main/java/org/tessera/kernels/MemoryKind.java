package org.tessera.kernels;

/** Where a {@link Storage}'s bytes live; a backend runs kernels only on its own kind of memory. */
public enum MemoryKind {
    /** Off-heap host memory (an FFM {@link java.lang.foreign.MemorySegment}). */
    HOST,
    /** Global memory of a CUDA device. */
    CUDA
}
