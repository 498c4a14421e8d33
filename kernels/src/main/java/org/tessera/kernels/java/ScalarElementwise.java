package org.tessera.kernels.java;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.tessera.kernels.HostStorage;
import org.tessera.kernels.MemoryKind;
import org.tessera.kernels.ParallelBlocks;
import org.tessera.kernels.Storage;
import org.tessera.kernels.WorkerPool;
import org.tessera.kernels.spi.BinaryOp;
import org.tessera.kernels.spi.CheckedElementwise;
import org.tessera.kernels.spi.UnaryOp;

/** Scalar Java elementwise kernels ({@code f32_*__scalar}): the fallback when the Vector API is absent. */
final class ScalarElementwise extends CheckedElementwise {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final long MIN_PER_CHUNK = 1 << 16;

    ScalarElementwise() {
        super(MemoryKind.HOST);
    }

    @Override
    public String kernelId(UnaryOp op) {
        return "f32_" + op.kernelName() + "__scalar";
    }

    @Override
    public String kernelId(BinaryOp op) {
        return "f32_" + op.kernelName() + "__scalar";
    }

    @Override
    protected void runUnary(UnaryOp op, float alpha, long rows, long cols,
                            Storage x, long xOffset, long ldx, Storage y, long yOffset, long ldy) {
        MemorySegment xs = ((HostStorage) x).segment(), ys = ((HostStorage) y).segment();
        ParallelBlocks.run(WorkerPool.shared(), rows, cols, MIN_PER_CHUNK, (r0, r1, c0, c1) -> {
            for (long r = r0; r < r1; r++) {
                for (long c = c0; c < c1; c++) {
                    float v = xs.getAtIndex(F32, xOffset + r * ldx + c);
                    ys.setAtIndex(F32, yOffset + r * ldy + c, op == UnaryOp.RELU ? Math.max(v, 0f) : alpha * v);
                }
            }
        });
    }

    @Override
    protected void runBinary(BinaryOp op, long rows, long cols, Storage a, long aOffset, long lda,
                             Storage b, long bOffset, long ldb, Storage y, long yOffset, long ldy) {
        MemorySegment as = ((HostStorage) a).segment(), bs = ((HostStorage) b).segment();
        MemorySegment ys = ((HostStorage) y).segment();
        ParallelBlocks.run(WorkerPool.shared(), rows, cols, MIN_PER_CHUNK, (r0, r1, c0, c1) -> {
            for (long r = r0; r < r1; r++) {
                for (long c = c0; c < c1; c++) {
                    float p = as.getAtIndex(F32, aOffset + r * lda + c), q = bs.getAtIndex(F32, bOffset + r * ldb + c);
                    ys.setAtIndex(F32, yOffset + r * ldy + c, switch (op) {
                        case ADD -> p + q;
                        case MUL -> p * q;
                        case RELU_GRAD -> p > 0 ? q : 0f;
                    });
                }
            }
        });
    }
}
