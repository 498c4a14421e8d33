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
        forward(shape, 0, x, xOffset, w, wOffset, bias, biasOffset, y, yOffset, relu);
    }

    @Override
    public final PackedF32Filters packF32Filters(Conv2dShape shape, Storage w, long wOffset) {
        if (shape == null) throw new NullPointerException("shape is null");
        long wLen = filterElements(shape);
        Checks.block("w", w, memory, Float.BYTES, wOffset, 1, wLen, wLen);
        Storage.acquireAll(w);
        try {
            return pack(shape, w, wOffset);
        } finally {
            Storage.releaseAll(w);
        }
    }

    @Override
    public final void conv2dF32(Conv2dShape shape, Storage x, long xOffset, PackedF32Filters filters, Storage bias, long biasOffset,
                                Storage y, long yOffset, boolean relu) {
        if (shape == null) throw new NullPointerException("shape is null");
        if (filters == null) throw new NullPointerException("filters is null");
        if (filters.owner() != this) throw new IllegalArgumentException("filters were packed by other conv kernels; pack them with these");
        if (!filters.fits(shape)) {
            throw new IllegalArgumentException("filters were packed for k=" + filters.k() + " r=" + filters.r() + " s=" + filters.s() + " c="
                    + filters.c() + " groups=" + filters.groups() + ", but the shape is " + shape);
        }
        long xLen = inputElements(shape), yLen = outputElements(shape);
        Checks.block("x", x, memory, Float.BYTES, xOffset, 1, xLen, xLen);
        if (bias != null) Checks.block("bias", bias, memory, Float.BYTES, biasOffset, 1, shape.k(), shape.k());
        Checks.block("y", y, memory, Float.BYTES, yOffset, 1, yLen, yLen);
        noOverlap("y", "x", x, xOffset, xLen, y, yOffset, yLen);
        if (bias != null) noOverlap("y", "bias", bias, biasOffset, shape.k(), y, yOffset, yLen);
        Storage.acquireAll(x, filters.plain(), filters.packed(), bias, y); // closed filters throw here
        try {
            runPacked(shape, x, xOffset, filters, bias, biasOffset, y, yOffset, relu);
        } finally {
            Storage.releaseAll(x, filters.plain(), filters.packed(), bias, y);
        }
    }

    /** Copies (and, where the backend packs filters, packs) validated, live filters: see {@link #packF32Filters}. */
    protected abstract PackedF32Filters pack(Conv2dShape shape, Storage w, long wOffset);

    /** The convolution with this backend's packed filters, on validated, live, non-overlapping operands. */
    protected abstract void runPacked(Conv2dShape shape, Storage x, long xOffset, PackedF32Filters filters, Storage bias, long biasOffset,
                                      Storage y, long yOffset, boolean relu);

    @Override
    public final void conv2dMaxPoolF32(Conv2dShape shape, int pool, Storage x, long xOffset, Storage w, long wOffset,
                                       Storage bias, long biasOffset, Storage y, long yOffset, boolean relu) {
        if (shape == null) throw new NullPointerException("shape is null");
        if (pool < 1) throw new IllegalArgumentException("pool must be >= 1, got " + pool);
        if (shape.outH() < pool || shape.outW() < pool) {
            throw new IllegalArgumentException("a " + pool + "x" + pool + " pool needs a convolution output of at least that size, got "
                    + shape.outH() + "x" + shape.outW());
        }
        if (conv2dMaxPoolKernelId(shape, pool) == null) {
            throw new IllegalArgumentException("no fused convolution + max pooling kernel for " + shape + " with pool " + pool
                    + " on this backend (conv2dMaxPoolKernelId is null); run conv2dF32, then max pooling");
        }
        forward(shape, pool, x, xOffset, w, wOffset, bias, biasOffset, y, yOffset, relu);
    }

    /** Checks and holds the operands of a forward convolution, fused with pool x pool max pooling when pool > 0, then runs it. */
    private void forward(Conv2dShape shape, int pool, Storage x, long xOffset, Storage w, long wOffset, Storage bias, long biasOffset,
                         Storage y, long yOffset, boolean relu) {
        int div = Math.max(pool, 1);
        long xLen = elements("x", shape.n(), shape.h(), shape.w(), shape.c());
        long wLen = elements("w", shape.k(), shape.r(), shape.s(), shape.c() / shape.groups());
        long yLen = elements("y", shape.n(), shape.outH() / div, shape.outW() / div, shape.k());
        Checks.block("x", x, memory, Float.BYTES, xOffset, 1, xLen, xLen);
        Checks.block("w", w, memory, Float.BYTES, wOffset, 1, wLen, wLen);
        if (bias != null) Checks.block("bias", bias, memory, Float.BYTES, biasOffset, 1, shape.k(), shape.k());
        Checks.block("y", y, memory, Float.BYTES, yOffset, 1, yLen, yLen);
        noOverlap("y", "x", x, xOffset, xLen, y, yOffset, yLen);
        noOverlap("y", "w", w, wOffset, wLen, y, yOffset, yLen);
        if (bias != null) noOverlap("y", "bias", bias, biasOffset, shape.k(), y, yOffset, yLen);
        Storage.acquireAll(x, w, bias, y);
        try {
            if (pool > 0) runMaxPool(shape, pool, x, xOffset, w, wOffset, bias, biasOffset, y, yOffset, relu);
            else run(shape, x, xOffset, w, wOffset, bias, biasOffset, y, yOffset, relu);
        } finally {
            Storage.releaseAll(x, w, bias, y);
        }
    }

    /** The fused convolution + max pooling, on validated, live, non-overlapping operands; only called when
     * {@link #conv2dMaxPoolKernelId} names a kernel. */
    protected void runMaxPool(Conv2dShape shape, int pool, Storage x, long xOffset, Storage w, long wOffset,
                              Storage bias, long biasOffset, Storage y, long yOffset, boolean relu) {
        throw new IllegalStateException("conv2dMaxPoolKernelId names a kernel but runMaxPool is not implemented");
    }

    @Override
    public final void conv2dBackwardDataF32(Conv2dShape shape, Storage dy, long dyOffset, Storage w, long wOffset, Storage dx,
                                            long dxOffset) {
        if (shape == null) throw new NullPointerException("shape is null");
        long dyLen = outputElements(shape), wLen = filterElements(shape), dxLen = inputElements(shape);
        Checks.block("dy", dy, memory, Float.BYTES, dyOffset, 1, dyLen, dyLen);
        Checks.block("w", w, memory, Float.BYTES, wOffset, 1, wLen, wLen);
        Checks.block("dx", dx, memory, Float.BYTES, dxOffset, 1, dxLen, dxLen);
        noOverlap("dx", "dy", dy, dyOffset, dyLen, dx, dxOffset, dxLen);
        noOverlap("dx", "w", w, wOffset, wLen, dx, dxOffset, dxLen);
        Storage.acquireAll(dy, w, dx);
        try {
            runBackwardData(shape, dy, dyOffset, w, wOffset, dx, dxOffset);
        } finally {
            Storage.releaseAll(dy, w, dx);
        }
    }

    @Override
    public final void conv2dBackwardWeightsF32(Conv2dShape shape, Storage x, long xOffset, Storage dy, long dyOffset, Storage dw,
                                               long dwOffset, Storage db, long dbOffset) {
        if (shape == null) throw new NullPointerException("shape is null");
        long xLen = inputElements(shape), dyLen = outputElements(shape), dwLen = filterElements(shape);
        Checks.block("x", x, memory, Float.BYTES, xOffset, 1, xLen, xLen);
        Checks.block("dy", dy, memory, Float.BYTES, dyOffset, 1, dyLen, dyLen);
        Checks.block("dw", dw, memory, Float.BYTES, dwOffset, 1, dwLen, dwLen);
        if (db != null) Checks.block("db", db, memory, Float.BYTES, dbOffset, 1, shape.k(), shape.k());
        noOverlap("dw", "x", x, xOffset, xLen, dw, dwOffset, dwLen);
        noOverlap("dw", "dy", dy, dyOffset, dyLen, dw, dwOffset, dwLen);
        if (db != null) {
            noOverlap("db", "x", x, xOffset, xLen, db, dbOffset, shape.k());
            noOverlap("db", "dy", dy, dyOffset, dyLen, db, dbOffset, shape.k());
            noOverlap("db", "dw", dw, dwOffset, dwLen, db, dbOffset, shape.k());
        }
        Storage.acquireAll(x, dy, dw, db);
        try {
            runBackwardWeights(shape, x, xOffset, dy, dyOffset, dw, dwOffset, db, dbOffset);
        } finally {
            Storage.releaseAll(x, dy, dw, db);
        }
    }

    /** The input gradient, on validated, live, non-overlapping operands. */
    protected abstract void runBackwardData(Conv2dShape shape, Storage dy, long dyOffset, Storage w, long wOffset, Storage dx,
                                            long dxOffset);

    /** The filter and bias gradients, on validated, live, non-overlapping operands. */
    protected abstract void runBackwardWeights(Conv2dShape shape, Storage x, long xOffset, Storage dy, long dyOffset, Storage dw,
                                               long dwOffset, Storage db, long dbOffset);

    private static long inputElements(Conv2dShape s) {
        return elements("x", s.n(), s.h(), s.w(), s.c());
    }

    private static long filterElements(Conv2dShape s) {
        return elements("w", s.k(), s.r(), s.s(), s.c() / s.groups());
    }

    private static long outputElements(Conv2dShape s) {
        return elements("y", s.n(), s.outH(), s.outW(), s.k());
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

    /** An output must not share memory with an input: the kernels read inputs after writing outputs. */
    private static void noOverlap(String outName, String name, Storage in, long inOffset, long inLen, Storage out, long outOffset,
                                  long outLen) {
        if (in == out && inOffset < outOffset + outLen && outOffset < inOffset + inLen) {
            throw new IllegalArgumentException(outName + " overlaps " + name + ": a convolution cannot run in place; write "
                    + outName + " to its own buffer");
        }
    }
}
