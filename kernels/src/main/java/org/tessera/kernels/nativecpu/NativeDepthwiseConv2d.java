package org.tessera.kernels.nativecpu;

import java.lang.foreign.MemorySegment;
import org.tessera.kernels.conv.DepthwiseConv2d;
import org.tessera.kernels.spi.Conv2dShape;

/** The AVX2 depthwise kernel ({@code native/cpu/f32-dwconv2d-avx2.c}); arguments validated by the caller. */
final class NativeDepthwiseConv2d implements DepthwiseConv2d {
    @Override
    public String kernelId() {
        return "f32_dwconv2d__avx2";
    }

    @Override
    public void rows(Conv2dShape s, MemorySegment x, long xOff, MemorySegment wt, MemorySegment bias, long biasOff,
                     MemorySegment y, long yOff, boolean relu, int row0, int row1) {
        NativeCpu.tsr_f32_dwconv2d__avx2(s.h(), s.w(), s.c(), s.r(), s.s(), s.strideH(), s.strideW(), s.padTop(), s.padLeft(),
                s.dilationH(), s.dilationW(), s.outH(), s.outW(), row0, row1, x.address() + 4 * xOff, wt.address(),
                bias == null ? 0 : bias.address() + 4 * biasOff, relu ? 1 : 0, y.address() + 4 * yOff);
    }
}
