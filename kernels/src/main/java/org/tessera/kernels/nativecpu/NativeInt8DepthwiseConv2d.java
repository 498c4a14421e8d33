package org.tessera.kernels.nativecpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.tessera.kernels.DType;
import org.tessera.kernels.HostStorage;
import org.tessera.kernels.conv.Int8DepthwiseConv2d;
import org.tessera.kernels.spi.Conv2dShape;
import org.tessera.kernels.spi.Int8Input;
import org.tessera.kernels.spi.Int8Output;

/** The AVX2 int8 depthwise kernel ({@code native/cpu/i8-dwconv2d-avx2.c}); arguments validated by the caller. */
final class NativeInt8DepthwiseConv2d implements Int8DepthwiseConv2d {
    /** Per-thread packed weights, epilogue constants and tap pointers, grown when a larger layer arrives; freed with the thread. */
    private static final ThreadLocal<MemorySegment[]> WORKSPACE = ThreadLocal.withInitial(() -> new MemorySegment[1]);

    @Override
    public String kernelId() {
        return "i8_dwconv2d__avx2";
    }

    @Override
    public void rows(Conv2dShape s, Int8Input xq, MemorySegment x, long xOff, MemorySegment wt, MemorySegment scales, Int8Output out,
                     MemorySegment bias, long biasOff, MemorySegment y, long yOff, int row0, int row1) {
        long outBytes = out.type().byteSize();
        NativeCpu.tsr_i8_dwconv2d__avx2(s.h(), s.w(), s.c(), s.r(), s.s(), s.strideH(), s.strideW(), s.padTop(), s.padLeft(),
                s.dilationH(), s.dilationW(), s.outH(), s.outW(), row0, row1, xq.type() == DType.S8 ? 1 : 0, x.address() + xOff,
                xq.zeroPoint(), xq.scale(), wt.address(), scales.address(), bias == null ? 0 : bias.address() + 4 * biasOff,
                NativeInt8Gemm.outKind(out.type()), out.scale(), out.zeroPoint(), out.relu() ? 1 : 0, y.address() + outBytes * yOff,
                workspace(s));
    }

    private static long workspace(Conv2dShape s) {
        MemorySegment[] held = WORKSPACE.get();
        long need = NativeCpu.tsr_i8_dwconv2d_workspace_bytes__avx2(s.r(), s.s(), s.c());
        if (held[0] == null || held[0].byteSize() < need) held[0] = Arena.ofAuto().allocate(need, HostStorage.ALIGNMENT);
        return held[0].address();
    }
}
