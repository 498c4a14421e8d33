package org.tessera.kernels.java;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.tessera.kernels.HostStorage;
import org.tessera.kernels.MemoryKind;
import org.tessera.kernels.ParallelBlocks;
import org.tessera.kernels.Storage;
import org.tessera.kernels.WorkerPool;
import org.tessera.kernels.spi.BinaryOp;
import org.tessera.kernels.spi.CheckedElementwise;
import org.tessera.kernels.spi.UnaryOp;

/**
 * Vector API elementwise kernels ({@code f32_*__panama<bits>}) on the preferred species (128, 256 or 512
 * bits). Loaded reflectively by {@link VectorSupport}: this is the only class family that names
 * {@code jdk.incubator.vector}, so a JVM without the module still loads the backend.
 */
final class PanamaElementwise extends CheckedElementwise {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final long MIN_PER_CHUNK = 1 << 16;

    PanamaElementwise() {
        super(MemoryKind.HOST);
    }

    /** The species width in bits, as used in kernel ids. */
    static int bits() {
        return SPECIES.vectorBitSize();
    }

    @Override
    public String kernelId(UnaryOp op) {
        return "f32_" + op.kernelName() + "__panama" + bits();
    }

    @Override
    public String kernelId(BinaryOp op) {
        return "f32_" + op.kernelName() + "__panama" + bits();
    }

    @Override
    protected void runUnary(UnaryOp op, float alpha, long rows, long cols,
                            Storage x, long xOffset, long ldx, Storage y, long yOffset, long ldy) {
        MemorySegment xs = ((HostStorage) x).segment(), ys = ((HostStorage) y).segment();
        ParallelBlocks.run(WorkerPool.shared(), rows, cols, MIN_PER_CHUNK, (r0, r1, c0, c1) -> {
            for (long r = r0; r < r1; r++) {
                long xi = xOffset + r * ldx, yi = yOffset + r * ldy;
                if (op == UnaryOp.RELU) relu(xs, xi, ys, yi, c0, c1);
                else scale(alpha, xs, xi, ys, yi, c0, c1);
            }
        });
    }

    private static void relu(MemorySegment xs, long xi, MemorySegment ys, long yi, long c0, long c1) {
        long c = c0;
        for (; c + LANES <= c1; c += LANES) {
            FloatVector.fromMemorySegment(SPECIES, xs, (xi + c) * 4, ORDER)
                    .max(0f).intoMemorySegment(ys, (yi + c) * 4, ORDER);
        }
        for (; c < c1; c++) ys.setAtIndex(F32, yi + c, Math.max(xs.getAtIndex(F32, xi + c), 0f));
    }

    private static void scale(float alpha, MemorySegment xs, long xi, MemorySegment ys, long yi, long c0, long c1) {
        long c = c0;
        for (; c + LANES <= c1; c += LANES) {
            FloatVector.fromMemorySegment(SPECIES, xs, (xi + c) * 4, ORDER).mul(alpha)
                    .intoMemorySegment(ys, (yi + c) * 4, ORDER);
        }
        for (; c < c1; c++) ys.setAtIndex(F32, yi + c, alpha * xs.getAtIndex(F32, xi + c));
    }

    @Override
    protected void runBinary(BinaryOp op, long rows, long cols, Storage a, long aOffset, long lda,
                             Storage b, long bOffset, long ldb, Storage y, long yOffset, long ldy) {
        MemorySegment as = ((HostStorage) a).segment(), bs = ((HostStorage) b).segment();
        MemorySegment ys = ((HostStorage) y).segment();
        ParallelBlocks.run(WorkerPool.shared(), rows, cols, MIN_PER_CHUNK, (r0, r1, c0, c1) -> {
            for (long r = r0; r < r1; r++) {
                long ai = aOffset + r * lda, bi = bOffset + r * ldb, yi = yOffset + r * ldy;
                // Separate loops per op: the Vector API intrinsifies only operations known at JIT time.
                switch (op) {
                    case ADD -> add(as, ai, bs, bi, ys, yi, c0, c1);
                    case MUL -> mul(as, ai, bs, bi, ys, yi, c0, c1);
                    case RELU_GRAD -> reluGrad(as, ai, bs, bi, ys, yi, c0, c1);
                }
            }
        });
    }

    private static void add(MemorySegment as, long ai, MemorySegment bs, long bi, MemorySegment ys, long yi,
                            long c0, long c1) {
        long c = c0;
        for (; c + LANES <= c1; c += LANES) {
            FloatVector va = FloatVector.fromMemorySegment(SPECIES, as, (ai + c) * 4, ORDER);
            va.add(FloatVector.fromMemorySegment(SPECIES, bs, (bi + c) * 4, ORDER)).intoMemorySegment(ys, (yi + c) * 4, ORDER);
        }
        for (; c < c1; c++) ys.setAtIndex(F32, yi + c, as.getAtIndex(F32, ai + c) + bs.getAtIndex(F32, bi + c));
    }

    private static void mul(MemorySegment as, long ai, MemorySegment bs, long bi, MemorySegment ys, long yi,
                            long c0, long c1) {
        long c = c0;
        for (; c + LANES <= c1; c += LANES) {
            FloatVector va = FloatVector.fromMemorySegment(SPECIES, as, (ai + c) * 4, ORDER);
            va.mul(FloatVector.fromMemorySegment(SPECIES, bs, (bi + c) * 4, ORDER)).intoMemorySegment(ys, (yi + c) * 4, ORDER);
        }
        for (; c < c1; c++) ys.setAtIndex(F32, yi + c, as.getAtIndex(F32, ai + c) * bs.getAtIndex(F32, bi + c));
    }

    private static void reluGrad(MemorySegment as, long ai, MemorySegment bs, long bi, MemorySegment ys, long yi,
                                 long c0, long c1) {
        long c = c0;
        FloatVector zero = FloatVector.zero(SPECIES);
        for (; c + LANES <= c1; c += LANES) {
            VectorMask<Float> positive = FloatVector.fromMemorySegment(SPECIES, as, (ai + c) * 4, ORDER).compare(VectorOperators.GT, 0f);
            zero.blend(FloatVector.fromMemorySegment(SPECIES, bs, (bi + c) * 4, ORDER), positive).intoMemorySegment(ys, (yi + c) * 4, ORDER);
        }
        for (; c < c1; c++) ys.setAtIndex(F32, yi + c, as.getAtIndex(F32, ai + c) > 0 ? bs.getAtIndex(F32, bi + c) : 0f);
    }
}
