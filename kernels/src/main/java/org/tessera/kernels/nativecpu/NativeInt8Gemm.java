package org.tessera.kernels.nativecpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.tessera.kernels.DType;
import org.tessera.kernels.GemmGrid;
import org.tessera.kernels.HostStorage;
import org.tessera.kernels.MemoryKind;
import org.tessera.kernels.Storage;
import org.tessera.kernels.WorkerPool;
import org.tessera.kernels.spi.CheckedInt8Gemm;
import org.tessera.kernels.spi.Int8Input;
import org.tessera.kernels.spi.Int8Output;
import org.tessera.kernels.spi.PackedInt8;

/**
 * The native int8 GEMM. On AVX2 ({@code native/cpu/i8-gemm-6x16-avx2.c}): {@code i8_gemm_6x16_rr__avx2}
 * (vpmaddubsw) for weights that pass the pack-time pair check, {@code i8_gemm_6x16__avx2} (exact s16
 * widening) for all others. Where the CPU has VNNI ({@link Int8Variant}), every weight matrix takes the
 * reduced-range (k quad) layout and the vpdpbusd kernel, which is exact for all s8 weights;
 * {@link PackedInt8#reducedRange()} still says whether the AVX2 vpmaddubsw path would be exact, which the
 * AVX2 implicit convolution needs. C is split into a grid over the worker pool; each thread has its own
 * workspace (packed A), allocated once per thread and grown only when a larger k arrives.
 */
final class NativeInt8Gemm extends CheckedInt8Gemm {
    private static final int MR = 6, NR = 16;

    private static final ThreadLocal<MemorySegment[]> WORKSPACE = ThreadLocal.withInitial(() -> new MemorySegment[1]);

    private final Int8Variant variant;

    NativeInt8Gemm(Int8Variant variant) {
        super(MemoryKind.HOST);
        this.variant = variant;
    }

    Int8Variant variant() {
        return variant;
    }

    @Override
    public String kernelId() {
        return variant.kernelId;
    }

    @Override
    public String kernelId(PackedInt8 weights) {
        return !variant.vnni() && weights.reducedRange() ? "i8_gemm_6x16_rr__avx2" : kernelId();
    }

    /** Whether {@code weights} are in the k quad layout (the reduced-range one), whatever their values. */
    boolean quadLayout(PackedInt8 weights) {
        return variant.vnni() || weights.reducedRange();
    }

    @Override
    protected PackedInt8 runPack(boolean transW, int k, int n, Storage w, long wOffset, long ldw, HostStorage colsums,
                                 HostStorage scales) {
        long src = address(w, wOffset), sums = colsums.segment().address();
        HostStorage rr = HostStorage.allocate(NativeCpu.tsr_i8_gemm_packed_b_bytes_rr_6x16__avx2(k, n));
        boolean fits = NativeCpu.tsr_i8_gemm_pack_b_rr_6x16__avx2(transW ? 1 : 0, k, n, src, ldw, rr.segment().address(), sums) != 0;
        if (fits || variant.vnni()) return new PackedInt8(this, k, n, fits, rr, colsums, scales);
        rr.close(); // some weight pair could leave s16 in vpmaddubsw: the exact widening layout instead
        HostStorage wide = HostStorage.allocate(NativeCpu.tsr_i8_gemm_packed_b_bytes_6x16__avx2(k, n));
        NativeCpu.tsr_i8_gemm_pack_b_6x16__avx2(transW ? 1 : 0, k, n, src, ldw, wide.segment().address(), sums);
        return new PackedInt8(this, k, n, false, wide, colsums, scales);
    }

    @Override
    protected void run(int m, Int8Input aq, Storage a, long aOffset, long lda, PackedInt8 w, Int8Output out,
                       Storage c, long cOffset, long ldc, Storage bias, long biasOffset) {
        int n = w.n(), k = w.k(), rr = w.reducedRange() ? 1 : 0, signed = aq.type() == DType.S8 ? 1 : 0;
        int kind = outKind(out.type()), relu = out.relu() ? 1 : 0;
        long outBytes = out.type().byteSize();
        long ap = address(a, aOffset), cp = ((HostStorage) c).segment().address() + outBytes * cOffset;
        long packed = address(w.data(), 0), sums = address(w.colsums(), 0), scales = address(w.scales(), 0);
        long biasp = bias == null ? 0 : ((HostStorage) bias).segment().address() + 4 * biasOffset;
        GemmGrid grid = GemmGrid.plan(m, n, k, WorkerPool.shared().threads(), MR, NR);
        WorkerPool.shared().parallelFor(grid.tasks(), t -> {
            int i0 = grid.rowStart(t), i1 = grid.rowEnd(t), j0 = grid.colStart(t), j1 = grid.colEnd(t);
            if (i0 >= i1 || j0 >= j1) return;
            // C, bias, column sums and scales are passed whole: the kernel indexes columns from j0 itself.
            long ai = ap + (long) i0 * lda, ci = cp + outBytes * i0 * ldc;
            switch (variant) {
                case AVX512_VNNI -> NativeCpu.tsr_i8_gemm_packed_6x32__avx512vnni(i1 - i0, k, j0, j1 - j0, signed, ai, lda,
                        aq.zeroPoint(), aq.scale(), packed, sums, scales, biasp, kind, out.scale(), out.zeroPoint(), relu,
                        ci, ldc, workspace(k));
                case AVX_VNNI -> NativeCpu.tsr_i8_gemm_packed_6x16__avxvnni(i1 - i0, k, j0, j1 - j0, signed, ai, lda,
                        aq.zeroPoint(), aq.scale(), packed, sums, scales, biasp, kind, out.scale(), out.zeroPoint(), relu,
                        ci, ldc, workspace(k));
                case AVX2 -> NativeCpu.tsr_i8_gemm_packed_6x16__avx2(rr, i1 - i0, k, j0, j1 - j0, signed, ai, lda,
                        aq.zeroPoint(), aq.scale(), packed, sums, scales, biasp, kind, out.scale(), out.zeroPoint(), relu,
                        ci, ldc, workspace(k));
            }
        });
    }

    /** This thread's workspace address, grown to fit k. */
    private static long workspace(int k) {
        MemorySegment[] holder = WORKSPACE.get();
        long need = NativeCpu.tsr_i8_gemm_workspace_bytes__avx2(k);
        if (holder[0] == null || holder[0].byteSize() < need) holder[0] = Arena.ofAuto().allocate(need, HostStorage.ALIGNMENT);
        return holder[0].address();
    }

    /** Mirrors TSR_I8_OUT_* in tessera_cpu.h. */
    static int outKind(DType type) {
        return switch (type) {
            case S32 -> 0;
            case F32 -> 1;
            case U8 -> 2;
            case S8 -> 3;
        };
    }

    private static long address(Storage s, long byteOffset) {
        return ((HostStorage) s).segment().address() + byteOffset;
    }
}
