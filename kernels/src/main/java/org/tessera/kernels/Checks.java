package org.tessera.kernels;

/**
 * Argument checks that every kernel entry runs in Java before touching memory, so bad input is an
 * exception naming the argument and the fix, never a JVM crash in native code.
 */
public final class Checks {
    private Checks() {}

    /** @throws IllegalArgumentException if {@code value < 0} */
    public static void nonNegative(String name, long value) {
        if (value < 0) throw new IllegalArgumentException(name + " must be >= 0, got " + value);
    }

    /**
     * Validates a row-major (rows, cols) block at element {@code offset} with row stride {@code ld} in a
     * storage of {@code kind} memory holding elements of {@code elementBytes} bytes.
     *
     * @throws IllegalArgumentException for negative sizes or offset, {@code ld < cols}, a block that
     *                                  reaches past the end of the storage, or memory of the wrong kind
     * @throws IllegalStateException    if the storage is closed
     */
    public static void block(String name, Storage storage, MemoryKind kind, int elementBytes,
                             long offset, long rows, long cols, long ld) {
        if (storage == null) throw new NullPointerException(name + " is null");
        if (storage.kind() != kind) {
            throw new IllegalArgumentException(name + " lives in " + storage.kind() + " memory but this backend runs on "
                    + kind + " memory: move it with tensor.to(backend) first");
        }
        if (!storage.isAlive()) throw new IllegalStateException(name + ": " + storage.closedMessage());
        nonNegative(name + " rows", rows);
        nonNegative(name + " cols", cols);
        nonNegative(name + " offset", offset);
        if (rows > 1 && ld < cols) {
            throw new IllegalArgumentException("ld" + name + " (" + ld + ") must be >= the row length (" + cols + ")");
        }
        if (rows == 0 || cols == 0) return;
        nonNegative("ld" + name, ld);
        long endBytes;
        try {
            long lastElement = Math.addExact(offset, Math.addExact(Math.multiplyExact(rows - 1, ld), cols));
            endBytes = Math.multiplyExact(lastElement, (long) elementBytes);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(name + " block overflows 64-bit addressing (offset " + offset
                    + ", " + rows + "x" + cols + ", ld " + ld + ")");
        }
        if (endBytes > storage.byteSize()) {
            throw new IllegalArgumentException(name + " block (offset " + offset + ", " + rows + "x" + cols + ", ld " + ld
                    + ") needs " + endBytes + " bytes but its memory holds " + storage.byteSize());
        }
    }

    /**
     * A NaN or infinite bias has no requantized value: says so instead of inventing one.
     *
     * @throws IllegalArgumentException naming the first bias element that is not finite
     */
    public static void finiteBias(java.lang.foreign.MemorySegment bias, long offset, int n) {
        for (int j = 0; j < n; j++) {
            float v = bias.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, offset + j);
            if (!Float.isFinite(v)) throw new IllegalArgumentException("bias[" + j + "] = " + v + ": a requantized output needs a finite bias");
        }
    }
}
