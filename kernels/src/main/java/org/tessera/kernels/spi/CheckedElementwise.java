package org.tessera.kernels.spi;

import org.tessera.kernels.Checks;
import org.tessera.kernels.MemoryKind;
import org.tessera.kernels.Storage;

/**
 * Base of every {@link ElementwiseKernels}: validates arguments and holds the operands' storages for the
 * duration of the call, then runs the backend's kernel on arguments it may trust.
 */
public abstract class CheckedElementwise implements ElementwiseKernels {
    private final MemoryKind memory;

    protected CheckedElementwise(MemoryKind memory) {
        this.memory = memory;
    }

    @Override
    public final void unary(UnaryOp op, float alpha, long rows, long cols,
                            Storage x, long xOffset, long ldx, Storage y, long yOffset, long ldy) {
        Checks.block("x", x, memory, Float.BYTES, xOffset, rows, cols, ldx);
        Checks.block("y", y, memory, Float.BYTES, yOffset, rows, cols, ldy);
        if (rows == 0 || cols == 0) return;
        Storage.acquireAll(x, y);
        try {
            runUnary(op, alpha, rows, cols, x, xOffset, ldx, y, yOffset, ldy);
        } finally {
            Storage.releaseAll(x, y);
        }
    }

    @Override
    public final void binary(BinaryOp op, long rows, long cols, Storage a, long aOffset, long lda,
                             Storage b, long bOffset, long ldb, Storage y, long yOffset, long ldy) {
        Checks.block("a", a, memory, Float.BYTES, aOffset, rows, cols, lda);
        Checks.block("b", b, memory, Float.BYTES, bOffset, rows, cols, ldb);
        Checks.block("y", y, memory, Float.BYTES, yOffset, rows, cols, ldy);
        if (rows == 0 || cols == 0) return;
        Storage.acquireAll(a, b, y);
        try {
            runBinary(op, rows, cols, a, aOffset, lda, b, bOffset, ldb, y, yOffset, ldy);
        } finally {
            Storage.releaseAll(a, b, y);
        }
    }

    /** The kernel, on validated, live, non-empty operands. */
    protected abstract void runUnary(UnaryOp op, float alpha, long rows, long cols,
                                     Storage x, long xOffset, long ldx, Storage y, long yOffset, long ldy);

    /** The kernel, on validated, live, non-empty operands. */
    protected abstract void runBinary(BinaryOp op, long rows, long cols, Storage a, long aOffset, long lda,
                                      Storage b, long bOffset, long ldb, Storage y, long yOffset, long ldy);
}
