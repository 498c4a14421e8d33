package org.tessera.kernels.nativecpu;

import java.lang.foreign.MemorySegment;
import org.tessera.kernels.HostStorage;
import org.tessera.kernels.sparse.SpmmRows;
import org.tessera.kernels.spi.Int8Input;
import org.tessera.kernels.spi.Int8Output;
import org.tessera.kernels.spi.PackedSparse;

/**
 * The AVX2 f32 sparse product ({@code native/cpu/f32-spmm-bsr-avx2.c}); arguments validated by the caller.
 * int8 is delegated to {@code int8}, the Vector API body, until a native one exists.
 */
final class NativeSpmmRows implements SpmmRows {
    private final SpmmRows int8;

    NativeSpmmRows(SpmmRows int8) {
        this.int8 = int8;
    }

    @Override
    public String isa() {
        return "avx2";
    }

    @Override
    public void f32(PackedSparse w, int blockRow0, int blockRow1, int m, MemorySegment x, long xOff, long ldx, MemorySegment bias,
                    long biasOff, boolean relu, MemorySegment y, long yOff, long ldy) {
        NativeCpu.tsr_f32_spmm_bsr__avx2(w.n(), w.k(), w.br(), w.bc(), blockRow0, blockRow1, m, address(w.rowPtr()), address(w.colIdx()),
                address(w.values()), x.address() + 4 * xOff, ldx, bias == null ? 0 : bias.address() + 4 * biasOff, relu ? 1 : 0,
                y.address() + 4 * yOff, ldy);
    }

    @Override
    public void int8(PackedSparse w, int blockRow0, int blockRow1, int m, Int8Input xq, MemorySegment x, long xOff, long ldx,
                     Int8Output out, MemorySegment bias, long biasOff, MemorySegment y, long yOff, long ldy) {
        int8.int8(w, blockRow0, blockRow1, m, xq, x, xOff, ldx, out, bias, biasOff, y, yOff, ldy);
    }

    private static long address(org.tessera.kernels.Storage s) {
        return ((HostStorage) s).segment().address();
    }
}
