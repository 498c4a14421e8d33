package org.tessera.kernels.conv;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;
import org.tessera.kernels.Checks;
import org.tessera.kernels.DType;
import org.tessera.kernels.HostStorage;
import org.tessera.kernels.Int8Epilogue;
import org.tessera.kernels.MemoryKind;
import org.tessera.kernels.Storage;
import org.tessera.kernels.WorkerPool;
import org.tessera.kernels.spi.ConvKernels;
import org.tessera.kernels.spi.Conv2dShape;
import org.tessera.kernels.spi.Int8Input;
import org.tessera.kernels.spi.Int8Output;
import org.tessera.kernels.spi.PackedInt8Filters;

/**
 * Direct int8 depthwise convolution (groups = c = k): per output pixel, exact s32 sums over the in-bounds taps
 * of {@code (x - zx) * w} for all channels (padding is real zero, so it is skipped), then the {@link Int8Output}
 * epilogue in the int8 GEMM's float operations. A GEMM per channel would be r*s long; this reads each input
 * once per tap instead. Packing, checks and the split of output rows over the pool; the rows run on an
 * {@link Int8DepthwiseConv2d}.
 */
final class QuantizedDepthwiseConv2d {

    private QuantizedDepthwiseConv2d() {}

    /** The filters (c, r, s, 1) rearranged to (r, s, c), channel fastest, with c scales. */
    static PackedInt8Filters pack(ConvKernels owner, Conv2dShape s, Storage w, long wOff, float[] scales) {
        int c = s.c(), taps = s.r() * s.s();
        long wLen = (long) c * taps;
        Checks.block("w", w, MemoryKind.HOST, 1, wOff, 1, wLen, wLen);
        for (float v : scales) Int8Output.checkScale("weight scale", v);
        HostStorage packed = HostStorage.allocate(Math.max(wLen, 1)), sc = HostStorage.allocate(4L * Math.max(c, 1));
        Storage.acquireAll(w);
        try {
            MemorySegment src = ((HostStorage) w).segment(), dst = packed.segment();
            for (int ch = 0; ch < c; ch++) {
                for (int t = 0; t < taps; t++) {
                    dst.set(ValueLayout.JAVA_BYTE, (long) t * c + ch, src.get(ValueLayout.JAVA_BYTE, wOff + (long) ch * taps + t));
                }
                sc.segment().setAtIndex(ValueLayout.JAVA_FLOAT, ch, scales.length == 1 ? scales[0] : scales[ch]);
            }
        } finally {
            Storage.releaseAll(w);
        }
        return new PackedInt8Filters(owner, s.k(), s.r(), s.s(), c, s.groups(), List.of(), packed, sc);
    }

    /** On checked operands: output rows (n, oh) split over the pool. */
    static void forward(Int8DepthwiseConv2d kernel, Conv2dShape s, Int8Input xq, Storage x, long xOff, PackedInt8Filters f, Int8Output out, Storage bias, long biasOff,
                        Storage y, long yOff) {
        Storage.acquireAll(x, f.taps(), f.scales(), bias, y);
        try {
            if (bias != null && out.type() != DType.F32) Checks.finiteBias(((HostStorage) bias).segment(), biasOff, s.k());
            MemorySegment xs = ((HostStorage) x).segment(), wt = ((HostStorage) f.taps()).segment(), sc = ((HostStorage) f.scales()).segment();
            MemorySegment bs = bias == null ? null : ((HostStorage) bias).segment(), ys = ((HostStorage) y).segment();
            int rows = s.n() * s.outH();
            WorkerPool pool = WorkerPool.shared();
            int parts = pool.chunks((long) rows * s.outW() * s.c() * s.r() * s.s(), 1 << 15);
            pool.parallelFor(parts, t -> kernel.rows(s, xq, xs, xOff, wt, sc, out, bs, biasOff, ys, yOff,
                    (int) ((long) rows * t / parts), (int) ((long) rows * (t + 1) / parts)));
        } finally {
            Storage.releaseAll(x, f.taps(), f.scales(), bias, y);
        }
    }


}
