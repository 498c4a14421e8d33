package org.tessera.kernels.spi;

/**
 * Whether a backend can run on this machine, and why (or why not), in one line a user can act on:
 * {@code "not available: CPU lacks AVX2+FMA (detected: sse4.2 avx)"}.
 *
 * @param available true if the backend can run kernels here
 * @param detail    what was found (when available) or the reason and fix (when not)
 */
public record Availability(boolean available, String detail) {
    /** The backend runs here; {@code detail} says what was found (ISA, device, library). */
    public static Availability available(String detail) {
        return new Availability(true, detail);
    }

    /** The backend cannot run here; {@code reason} says why and how to fix it. */
    public static Availability unavailable(String reason) {
        return new Availability(false, reason);
    }

    @Override
    public String toString() {
        return (available ? "available: " : "not available: ") + detail;
    }
}
