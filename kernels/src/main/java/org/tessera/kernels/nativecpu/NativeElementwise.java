package org.tessera.kernels.nativecpu;

import org.tessera.kernels.HostStorage;
import org.tessera.kernels.MemoryKind;
import org.tessera.kernels.ParallelBlocks;
import org.tessera.kernels.Storage;
import org.tessera.kernels.WorkerPool;
import org.tessera.kernels.cpu.Isa;
import org.tessera.kernels.spi.BinaryOp;
import org.tessera.kernels.spi.CheckedElementwise;
import org.tessera.kernels.spi.UnaryOp;

/**
 * AVX2 elementwise kernels ({@code f32_v*__avx2}); the worker pool splits large blocks and each thread
 * calls the C kernel on its sub-block. Arguments were validated by {@link CheckedElementwise}.
 */
final class NativeElementwise extends CheckedElementwise {
    private static final long MIN_PER_CHUNK = 1 << 16;
    private final String isa;

    NativeElementwise(Isa isa) {
        super(MemoryKind.HOST);
        if (isa.compareTo(Isa.AVX2) < 0) throw new IllegalArgumentException("native elementwise kernels need AVX2, got " + isa);
        this.isa = "avx2"; // the AVX2 kernels also serve AVX-512 CPUs until AVX-512 variants exist
    }

    @Override
    public String kernelId(UnaryOp op) {
        return "f32_" + op.kernelName() + "__" + isa;
    }

    @Override
    public String kernelId(BinaryOp op) {
        return "f32_" + op.kernelName() + "__" + isa;
    }

    @Override
    protected void runUnary(UnaryOp op, float alpha, long rows, long cols,
                            Storage x, long xOffset, long ldx, Storage y, long yOffset, long ldy) {
        long xp = address(x, xOffset), yp = address(y, yOffset);
        ParallelBlocks.run(WorkerPool.shared(), rows, cols, MIN_PER_CHUNK, (r0, r1, c0, c1) -> {
            long xs = xp + 4 * (r0 * ldx + c0), ys = yp + 4 * (r0 * ldy + c0);
            if (op == UnaryOp.RELU) NativeCpu.tsr_f32_vrelu__avx2(r1 - r0, c1 - c0, xs, ldx, ys, ldy);
            else NativeCpu.tsr_f32_vscale__avx2(r1 - r0, c1 - c0, alpha, xs, ldx, ys, ldy);
        });
    }

    @Override
    protected void runBinary(BinaryOp op, long rows, long cols, Storage a, long aOffset, long lda,
                             Storage b, long bOffset, long ldb, Storage y, long yOffset, long ldy) {
        long ap = address(a, aOffset), bp = address(b, bOffset), yp = address(y, yOffset);
        ParallelBlocks.run(WorkerPool.shared(), rows, cols, MIN_PER_CHUNK, (r0, r1, c0, c1) -> {
            long as = ap + 4 * (r0 * lda + c0), bs = bp + 4 * (r0 * ldb + c0), ys = yp + 4 * (r0 * ldy + c0);
            switch (op) {
                case ADD -> NativeCpu.tsr_f32_vadd__avx2(r1 - r0, c1 - c0, as, lda, bs, ldb, ys, ldy);
                case MUL -> NativeCpu.tsr_f32_vmul__avx2(r1 - r0, c1 - c0, as, lda, bs, ldb, ys, ldy);
                case RELU_GRAD -> NativeCpu.tsr_f32_vrelu_grad__avx2(r1 - r0, c1 - c0, as, lda, bs, ldb, ys, ldy);
            }
        });
    }

    private static long address(Storage s, long elementOffset) {
        return ((HostStorage) s).segment().address() + 4 * elementOffset;
    }
}
