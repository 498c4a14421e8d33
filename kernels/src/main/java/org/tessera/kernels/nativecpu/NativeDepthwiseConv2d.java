package org.tessera.kernels.nativecpu;

import java.lang.foreign.MemorySegment;
import org.tessera.kernels.conv.DepthwiseConv2d;
import org.tessera.kernels.spi.Conv2dShape;

/**
 * The native depthwise kernels: forward {@code native/cpu/f32-dwconv2d-avx2.c}, or {@code f32-dwconv2d-8x16-avx512.c}
 * on AVX-512 CPUs; the 3x3 weight gradient {@code f32-dwconv2d-wgrad-3x3-c16-avx2.c} or {@code -avx512.c}. Arguments
 * validated by the caller.
 */
final class NativeDepthwiseConv2d implements DepthwiseConv2d {
    private final boolean avx512;

    /** @param avx512 run the AVX-512 kernel (the caller checked CPU, OS and {@code tessera.maxIsa}) */
    NativeDepthwiseConv2d(boolean avx512) {
        this.avx512 = avx512;
    }

    @Override
    public String kernelId() {
        return avx512 ? "f32_dwconv2d_8x16__avx512" : "f32_dwconv2d__avx2";
    }

    /**
     * The AVX-512 kernel's taps one 64-byte line apart more than c when c is a multiple of 128: a 2-row tile holds
     * nine weight vectors, 40 input and 16 output lines, and at c = 256 (a 1 KiB pixel) taps c apart put all of them
     * in 4 of L1's 64 sets (C harness, 28x28x256, 1 thread, best of 2,000 calls in 4 alternating runs: 72-78 -> 78-82
     * GFLOP/s).
     */
    @Override
    public long tapStride(Conv2dShape s) {
        return avx512 && s.c() % 128 == 0 ? s.c() + 16 : s.c();
    }

    @Override
    public void rows(Conv2dShape s, MemorySegment x, long xOff, MemorySegment wt, MemorySegment bias, long biasOff,
                     MemorySegment y, long yOff, boolean relu, int row0, int row1) {
        long xp = x.address() + 4 * xOff, bp = bias == null ? 0 : bias.address() + 4 * biasOff, yp = y.address() + 4 * yOff;
        if (avx512) {
            NativeCpu.tsr_f32_dwconv2d_8x16__avx512(s.h(), s.w(), s.c(), s.r(), s.s(), s.strideH(), s.strideW(), s.padTop(),
                    s.padLeft(), s.dilationH(), s.dilationW(), s.outH(), s.outW(), row0, row1, xp, wt.address(), tapStride(s), bp,
                    relu ? 1 : 0, yp);
        } else {
            NativeCpu.tsr_f32_dwconv2d__avx2(s.h(), s.w(), s.c(), s.r(), s.s(), s.strideH(), s.strideW(), s.padTop(),
                    s.padLeft(), s.dilationH(), s.dilationW(), s.outH(), s.outW(), row0, row1, xp, wt.address(), bp,
                    relu ? 1 : 0, yp);
        }
    }

    /** 3x3 filters: 16-channel blocks ({@code f32-dwconv2d-wgrad-3x3-c16-avx2.c} or {@code -avx512.c}). */
    @Override
    public int weightGradientChannels(Conv2dShape s) {
        return s.r() == 3 && s.s() == 3 ? 16 : 0;
    }

    @Override
    public void weightGradient(Conv2dShape s, MemorySegment x, long xOff, MemorySegment dy, long dyOff, MemorySegment sums,
                               MemorySegment dw, long dwOff, MemorySegment db, long dbOff, int ch0, int ch1) {
        long xp = x.address() + 4 * xOff, dyp = dy.address() + 4 * dyOff, dwp = dw.address() + 4 * dwOff;
        long dbp = db == null ? 0 : db.address() + 4 * dbOff;
        if (avx512) {
            NativeCpu.tsr_f32_dwconv2d_wgrad_3x3_c16__avx512(s.n(), s.h(), s.w(), s.c(), s.strideH(), s.strideW(), s.padTop(),
                    s.padLeft(), s.dilationH(), s.dilationW(), s.outH(), s.outW(), ch0, ch1, xp, dyp, sums.address(), dwp, dbp);
        } else {
            NativeCpu.tsr_f32_dwconv2d_wgrad_3x3_c16__avx2(s.n(), s.h(), s.w(), s.c(), s.strideH(), s.strideW(), s.padTop(),
                    s.padLeft(), s.dilationH(), s.dilationW(), s.outH(), s.outW(), ch0, ch1, xp, dyp, sums.address(), dwp, dbp);
        }
    }
}
