package org.tessera.kernels.nativecpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.tessera.kernels.DType;
import org.tessera.kernels.HostStorage;
import org.tessera.kernels.conv.ImplicitInt8Conv2d;
import org.tessera.kernels.spi.Conv2dShape;
import org.tessera.kernels.spi.Int8Input;
import org.tessera.kernels.spi.Int8Output;
import org.tessera.kernels.spi.PackedInt8;

/**
 * The implicit-GEMM int8 convolution matching the backend's int8 GEMM: {@code native/cpu/i8-conv2d-igemm-6x16-avx2.c},
 * or {@code i8-conv2d-igemm-6x32-avx512vnni.c} for weights packed by the AVX-512 VNNI GEMM. Arguments validated
 * by the caller.
 */
final class NativeImplicitInt8Conv2d implements ImplicitInt8Conv2d {
    private static final int MR = 6;
    /** Per-thread packed A block and patch rows, grown when a longer patch arrives; freed with the thread. */
    private static final ThreadLocal<MemorySegment[]> WORKSPACE = ThreadLocal.withInitial(() -> new MemorySegment[1]);

    /** The int8 GEMM whose packed weights this convolution reads. */
    private final Int8Variant gemm;

    NativeImplicitInt8Conv2d(Int8Variant gemm) {
        this.gemm = gemm;
    }

    @Override
    public String kernelId() {
        return gemm == Int8Variant.AVX512_VNNI ? "i8_conv2d_igemm_6x32__avx512vnni" : "i8_conv2d_igemm_6x16__avx2";
    }

    @Override
    public int mr() {
        return MR;
    }

    @Override
    public boolean accepts(PackedInt8 w) {
        if (!(w.owner() instanceof NativeInt8Gemm g)) return false;
        if (g.variant() == Int8Variant.AVX512_VNNI) return true; // quads, any s8 values: vpdpbusd is exact
        // The AVX2 kernel reads the quad layout only with vpmaddubsw, exact only for weights that passed the
        // pair check; quad-packed weights that did not (packed for an AVX-VNNI GEMM) go to im2col + that GEMM.
        return w.reducedRange() || !g.quadLayout(w);
    }

    @Override
    public void rows(Conv2dShape s, Int8Input xq, MemorySegment x, long xOff, int g, PackedInt8 w, Int8Output out,
                     MemorySegment bias, long biasOff, MemorySegment y, long yOff, long p0, long p1) {
        int kg = s.k() / s.groups();
        long outBytes = out.type().byteSize(), cols = (long) s.r() * s.s() * (s.c() / s.groups());
        if (((NativeInt8Gemm) w.owner()).variant() == Int8Variant.AVX512_VNNI) {
            NativeCpu.tsr_i8_conv2d_igemm_6x32__avx512vnni(s.h(), s.w(), s.c(), s.r(), s.s(), s.strideH(), s.strideW(),
                    s.padTop(), s.padLeft(), s.dilationH(), s.dilationW(), s.outH(), s.outW(), s.groups(), g, kg, p0, p1,
                    xq.type() == DType.S8 ? 1 : 0, x.address() + xOff, xq.zeroPoint(), xq.scale(),
                    address(w.data()), address(w.colsums()), address(w.scales()),
                    bias == null ? 0 : bias.address() + 4 * (biasOff + (long) g * kg), NativeInt8Gemm.outKind(out.type()),
                    out.scale(), out.zeroPoint(), out.relu() ? 1 : 0, y.address() + outBytes * (yOff + (long) g * kg), s.k(),
                    workspace(cols));
            return;
        }
        NativeCpu.tsr_i8_conv2d_igemm_6x16__avx2(s.h(), s.w(), s.c(), s.r(), s.s(), s.strideH(), s.strideW(), s.padTop(),
                s.padLeft(), s.dilationH(), s.dilationW(), s.outH(), s.outW(), s.groups(), g, kg, p0, p1,
                w.reducedRange() ? 1 : 0, xq.type() == DType.S8 ? 1 : 0, x.address() + xOff, xq.zeroPoint(), xq.scale(),
                address(w.data()), address(w.colsums()), address(w.scales()),
                bias == null ? 0 : bias.address() + 4 * (biasOff + (long) g * kg), NativeInt8Gemm.outKind(out.type()),
                out.scale(), out.zeroPoint(), out.relu() ? 1 : 0, y.address() + outBytes * (yOff + (long) g * kg), s.k(),
                workspace(cols));
    }

    private static long address(org.tessera.kernels.Storage s) {
        return ((HostStorage) s).segment().address();
    }

    private static long workspace(long k) {
        MemorySegment[] held = WORKSPACE.get();
        long need = NativeCpu.tsr_i8_conv2d_igemm_workspace_bytes__avx2(k);
        if (held[0] == null || held[0].byteSize() < need) held[0] = Arena.ofAuto().allocate(need, HostStorage.ALIGNMENT);
        return held[0].address();
    }
}
