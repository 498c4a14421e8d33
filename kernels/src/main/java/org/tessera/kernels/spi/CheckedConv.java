package org.tessera.kernels.spi;

import org.tessera.kernels.Checks;
import org.tessera.kernels.MemoryKind;
import org.tessera.kernels.Storage;

/**
 * Base of every {@link ConvKernels}: checks that each operand holds the elements the shape needs, lives in
 * the backend's memory and is open, that y overlaps no input, and holds the storages for the call; then runs
 * the kernel on arguments it may trust.
 */
public abstract class CheckedConv implements ConvKernels {
    private final MemoryKind memory;

    protected CheckedConv(MemoryKind memory) {
        this.memory = memory;
    }

    @Override
    public final void conv2dF32(Conv2dShape shape, Storage x, long xOffset, Storage w, long wOffset,
                                Storage bias, long biasOffset, Storage y, long yOffset, boolean relu) {
        if (shape == null) throw new NullPointerException("shape is null");
        long xLen = elements("x", shape.n(), shape.h(), shape.w(), shape.c());
        long wLen = elements("w", shape.k(), shape.r(), shape.s(), shape.c() / shape.groups());
        long yLen = elements("y", shape.n(), shape.outH(), shape.outW(), shape.k());
        Checks.block("x", x, memory, Float.BYTES, xOffset, 1, xLen, xLen);
        Checks.block("w", w, memory, Float.BYTES, wOffset, 1, wLen, wLen);
        if (bias != null) Checks.block("bias", bias, memory, Float.BYTES, biasOffset, 1, shape.k(), shape.k());
        Checks.block("y", y, memory, Float.BYTES, yOffset, 1, yLen, yLen);
        noOverlap("x", x, xOffset, xLen, y, yOffset, yLen);
        noOverlap("w", w, wOffset, wLen, y, yOffset, yLen);
        if (bias != null) noOverlap("bias", bias, biasOffset, shape.k(), y, yOffset, yLen);
        Storage.acquireAll(x, w, bias, y);
        try {
            run(shape, x, xOffset, w, wOffset, bias, biasOffset, y, yOffset, relu);
        } finally {
            Storage.releaseAll(x, w, bias, y);
        }
    }

    /** The kernel, on validated, live, non-overlapping operands. */
    protected abstract void run(Conv2dShape shape, Storage x, long xOffset, Storage w, long wOffset,
                                Storage bias, long biasOffset, Storage y, long yOffset, boolean relu);

    private static long elements(String name, long a, long b, long c, long d) {
        try {
            return Math.multiplyExact(Math.multiplyExact(a, b), Math.multiplyExact(c, d));
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(name + " would hold more than 2^63 elements (" + a + "x" + b + "x" + c + "x" + d + ")");
        }
    }

    private static void noOverlap(String name, Storage in, long inOffset, long inLen, Storage y, long yOffset, long yLen) {
        if (in == y && inOffset < yOffset + yLen && yOffset < inOffset + inLen) {
            throw new IllegalArgumentException("y overlaps " + name + ": a convolution cannot run in place; write y to its own buffer");
        }
    }
}
