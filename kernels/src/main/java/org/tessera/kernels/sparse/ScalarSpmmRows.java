package org.tessera.kernels.sparse;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.tessera.kernels.DType;
import org.tessera.kernels.Int8Epilogue;
import org.tessera.kernels.spi.Int8Input;
import org.tessera.kernels.spi.Int8Output;
import org.tessera.kernels.spi.PackedSparse;

/**
 * Plain Java sparse products ({@code *_spmm_*__scalar}), one output element at a time: the fallback when the
 * Vector API is absent, and the simplest statement of what the vector and native bodies compute.
 */
public final class ScalarSpmmRows implements SpmmRows {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfInt S32 = ValueLayout.JAVA_INT_UNALIGNED;

    @Override
    public String isa() {
        return "scalar";
    }

    @Override
    public void f32(PackedSparse w, int blockRow0, int blockRow1, int m, MemorySegment x, long xOff, long ldx, MemorySegment bias,
                    long biasOff, boolean relu, MemorySegment y, long yOff, long ldy) {
        MemorySegment ptr = seg(w.rowPtr()), col = seg(w.colIdx()), val = seg(w.values());
        int br = w.br(), bc = w.bc(), k = w.k();
        for (int b = blockRow0; b < blockRow1; b++) {
            int p0 = ptr.getAtIndex(S32, b), p1 = ptr.getAtIndex(S32, b + 1);
            for (int r = 0; r < br && b * br + r < w.n(); r++) {
                int i = b * br + r;
                float bi = bias == null ? 0f : bias.getAtIndex(F32, biasOff + i);
                for (int j = 0; j < m; j++) {
                    float acc = 0f;
                    for (int p = p0; p < p1; p++) {
                        int c0 = col.getAtIndex(S32, p);
                        for (int s = 0; s < bc && c0 + s < k; s++) {
                            acc += val.getAtIndex(F32, (long) p * br * bc + s * br + r) * x.getAtIndex(F32, xOff + (c0 + s) * ldx + j);
                        }
                    }
                    acc += bi;
                    if (relu && acc < 0f) acc = 0f;
                    y.setAtIndex(F32, yOff + i * ldy + j, acc);
                }
            }
        }
    }

    @Override
    public void int8(PackedSparse w, int blockRow0, int blockRow1, int m, Int8Input xq, MemorySegment x, long xOff, long ldx,
                     Int8Output out, MemorySegment bias, long biasOff, MemorySegment y, long yOff, long ldy) {
        MemorySegment ptr = seg(w.rowPtr()), col = seg(w.colIdx()), val = seg(w.values());
        MemorySegment sums = seg(w.rowsums()), scales = seg(w.scales());
        int br = w.br(), bc = w.bc(), k = w.k(), za = xq.zeroPoint();
        boolean signed = xq.type() == DType.S8;
        for (int b = blockRow0; b < blockRow1; b++) {
            int p0 = ptr.getAtIndex(S32, b), p1 = ptr.getAtIndex(S32, b + 1);
            for (int r = 0; r < br && b * br + r < w.n(); r++) {
                int i = b * br + r;
                float bi = bias == null ? 0f : bias.getAtIndex(F32, biasOff + i), sw = scales.getAtIndex(F32, i);
                int corr = za * sums.getAtIndex(S32, i);
                for (int j = 0; j < m; j++) {
                    int acc = 0;
                    for (int p = p0; p < p1; p++) {
                        int c0 = col.getAtIndex(S32, p);
                        for (int s = 0; s < bc && c0 + s < k; s++) {
                            byte xv = x.get(ValueLayout.JAVA_BYTE, xOff + (c0 + s) * ldx + j);
                            acc += val.get(ValueLayout.JAVA_BYTE, (long) p * br * bc + s * br + r) * (signed ? xv : xv & 0xFF);
                        }
                    }
                    Int8Epilogue.store(out, y, yOff + i * ldy + j, acc - corr, xq.scale(), sw, bi);
                }
            }
        }
    }

    static MemorySegment seg(org.tessera.kernels.Storage s) {
        return ((org.tessera.kernels.HostStorage) s).segment();
    }
}
