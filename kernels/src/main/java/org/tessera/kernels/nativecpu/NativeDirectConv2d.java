package org.tessera.kernels.nativecpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.tessera.kernels.HostStorage;
import org.tessera.kernels.conv.DirectConv2d;
import org.tessera.kernels.spi.Conv2dShape;

/** The AVX2 short-patch direct convolution ({@code native/cpu/f32-conv2d-direct-6x16-avx2.c}); arguments validated by the caller. */
final class NativeDirectConv2d implements DirectConv2d {
    @Override
    public String kernelId() {
        return "f32_conv2d_direct_6x16__avx2";
    }

    /** Per-thread zero-padded bands of input rows and unpooled output rows (fused pooling), grown on demand; freed with the thread. */
    private static final ThreadLocal<MemorySegment[]> WORKSPACE = ThreadLocal.withInitial(() -> new MemorySegment[1]);

    @Override
    public void rows(Conv2dShape s, int pool, MemorySegment x, long xOff, MemorySegment wt, MemorySegment bias, long biasOff,
                     MemorySegment y, long yOff, boolean relu, int row0, int row1) {
        NativeCpu.tsr_f32_conv2d_direct_6x16__avx2(s.h(), s.w(), s.c(), s.r(), s.s(), s.strideH(), s.strideW(), s.padTop(),
                s.padLeft(), s.dilationH(), s.dilationW(), s.outH(), s.outW(), s.k(), pool, row0, row1, x.address() + 4 * xOff,
                wt.address(), bias == null ? 0 : bias.address() + 4 * biasOff, relu ? 1 : 0, y.address() + 4 * yOff,
                workspace(s, pool));
    }

    private static long workspace(Conv2dShape s, int pool) {
        long need = NativeCpu.tsr_f32_conv2d_direct_workspace_bytes__avx2(s.w(), s.c(), s.r(), s.s(), s.strideH(), s.strideW(),
                s.padLeft(), s.dilationH(), s.dilationW(), s.outW(), s.k(), pool);
        MemorySegment[] held = WORKSPACE.get();
        if (held[0] == null || held[0].byteSize() < need) held[0] = Arena.ofAuto().allocate(need, HostStorage.ALIGNMENT);
        return held[0].address();
    }
}
