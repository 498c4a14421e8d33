package org.tessera.kernels.nativecpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.tessera.kernels.HostStorage;
import org.tessera.kernels.conv.ImplicitGemmConv2d;
import org.tessera.kernels.spi.Conv2dShape;

/**
 * The implicit-GEMM convolution ({@code native/cpu/f32-conv2d-igemm-6x16-avx2.c}) on 6x16 AVX2 tiles, or on
 * 12x32 AVX-512 tiles ({@code f32-conv2d-igemm-12x32-avx512.c}: same driver, pixel order, packing and workspace;
 * the same bits for patches of up to 256 columns, rounded every 512 columns rather than every 256 beyond);
 * and the weight gradient without im2col ({@code f32-conv2d-wgrad-6x16-avx2.c}, {@code f32-conv2d-wgrad-16x6-avx2.c} below
 * 8 channels); arguments validated by the caller.
 */
final class NativeImplicitGemmConv2d implements ImplicitGemmConv2d {
    private static final int NR = 16;
    /** Per-thread A block and patch rows; freed with the thread. */
    private static final ThreadLocal<MemorySegment> WORKSPACE = ThreadLocal.withInitial(
            () -> Arena.ofAuto().allocate(NativeCpu.tsr_f32_conv2d_igemm_workspace_bytes__avx2(), HostStorage.ALIGNMENT));
    private final boolean avx512;

    /** With {@code avx512} the 12x32 tiles (the caller checked the CPU), else the 6x16 AVX2 ones. */
    NativeImplicitGemmConv2d(boolean avx512) {
        this.avx512 = avx512;
    }

    @Override
    public String kernelId() {
        return avx512 ? "f32_conv2d_igemm_12x32__avx512" : "f32_conv2d_igemm_6x16__avx2";
    }

    /** Filters per tile: the schedules split work in whole tiles (the packing stays in 16-column panels). */
    @Override
    public int nr() {
        return avx512 ? 2 * NR : NR;
    }

    @Override
    public int mr() {
        return avx512 ? 12 : 6;
    }

    @Override
    public long packedFloats(Conv2dShape s) {
        long kg = s.k() / s.groups();
        return (long) s.r() * s.s() * (s.c() / s.groups()) * ((kg + NR - 1) / NR * NR);
    }

    @Override
    public void packFilters(Conv2dShape s, MemorySegment w, long wOff, int g, int j0, int j1, MemorySegment packed) {
        long cols = (long) s.r() * s.s() * (s.c() / s.groups());
        int kg = s.k() / s.groups();
        NativeCpu.tsr_f32_gemm_pack_b_cols_6x16__avx2(1, cols, kg, j0, j1 - j0, w.address() + 4 * (wOff + ((long) g * kg + j0) * cols),
                cols, packed.address());
    }

    @Override
    public boolean packsFlippedFilters() {
        return true;
    }

    @Override
    public void packFlippedFilters(Conv2dShape s, MemorySegment w, long wOff, int j0, int j1, MemorySegment packed) {
        NativeCpu.tsr_f32_conv2d_pack_flipped_6x16__avx2(s.k(), s.r(), s.s(), s.c(), j0, j1 - j0, w.address() + 4 * wOff, packed.address());
    }

    @Override
    public void rows(Conv2dShape s, MemorySegment x, long xOff, int g, MemorySegment packed, MemorySegment bias, long biasOff,
                     MemorySegment y, long yOff, boolean relu, int j0, int j1, long p0, long p1) {
        int kg = s.k() / s.groups();
        long xp = x.address() + 4 * xOff, bp = bias == null ? 0 : bias.address() + 4 * (biasOff + (long) g * kg);
        long yp = y.address() + 4 * (yOff + (long) g * kg), ws = WORKSPACE.get().address();
        if (avx512) {
            NativeCpu.tsr_f32_conv2d_igemm_12x32__avx512(s.h(), s.w(), s.c(), s.r(), s.s(), s.strideH(), s.strideW(), s.padTop(), s.padLeft(),
                    s.dilationH(), s.dilationW(), s.outH(), s.outW(), s.groups(), g, kg, j0, j1, p0, p1, xp, packed.address(), bp, relu ? 1 : 0,
                    yp, s.k(), ws);
        } else {
            NativeCpu.tsr_f32_conv2d_igemm_6x16__avx2(s.h(), s.w(), s.c(), s.r(), s.s(), s.strideH(), s.strideW(), s.padTop(), s.padLeft(),
                    s.dilationH(), s.dilationW(), s.outH(), s.outW(), s.groups(), g, kg, j0, j1, p0, p1, xp, packed.address(), bp, relu ? 1 : 0,
                    yp, s.k(), ws);
        }
    }

    /** Weights per filter (r*s*c) the few-channel kernel takes: TSR_WGRAD_16X6_MAX_COLS of tessera_cpu.h. */
    static final int WGRAD_16X6_MAX_COLS = 384;

    /** Channels from which the 6x16 weight-gradient tiles run: with fewer, their 16-channel tiles would run mostly masked. */
    static final int WGRAD_6X16_MIN_CHANNELS = 8;

    /**
     * The 6-filter tiles of {@code f32-conv2d-wgrad-6x16-avx2.c}, or for fewer channels the 16-filter tiles of
     * {@code f32-conv2d-wgrad-16x6-avx2.c} (AVX2 both: on AVX-512 CPUs too).
     */
    @Override
    public int weightGradientRows(Conv2dShape s) {
        return s.c() >= WGRAD_6X16_MIN_CHANNELS ? 6 : 16;
    }

    /** One group; below 8 channels, filters of at most {@link #WGRAD_16X6_MAX_COLS} weights (its stack block). */
    @Override
    public boolean hasWeightGradient(Conv2dShape s) {
        return s.groups() == 1 && (s.c() >= WGRAD_6X16_MIN_CHANNELS || (long) s.r() * s.s() * s.c() <= WGRAD_16X6_MAX_COLS);
    }

    @Override
    public void weightGradient(Conv2dShape s, MemorySegment x, long xOff, MemorySegment dy, long dyOff, MemorySegment dw, long dwOff,
                               int f0, int f1) {
        long xp = x.address() + 4 * xOff, dyp = dy.address() + 4 * dyOff, dwp = dw.address() + 4 * dwOff;
        if (s.c() >= WGRAD_6X16_MIN_CHANNELS) {
            NativeCpu.tsr_f32_conv2d_wgrad_6x16__avx2(s.n(), s.h(), s.w(), s.c(), s.k(), s.r(), s.s(), s.strideH(), s.strideW(), s.padTop(),
                    s.padLeft(), s.dilationH(), s.dilationW(), s.outH(), s.outW(), f0, f1, xp, dyp, dwp);
        } else {
            NativeCpu.tsr_f32_conv2d_wgrad_16x6__avx2(s.n(), s.h(), s.w(), s.c(), s.k(), s.r(), s.s(), s.strideH(), s.strideW(), s.padTop(),
                    s.padLeft(), s.dilationH(), s.dilationW(), s.outH(), s.outW(), f0, f1, xp, dyp, dwp);
        }
    }
}
