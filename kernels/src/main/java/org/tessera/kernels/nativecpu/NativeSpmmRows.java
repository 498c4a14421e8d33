package org.tessera.kernels.nativecpu;

import java.lang.foreign.MemorySegment;
import org.tessera.kernels.DType;
import org.tessera.kernels.HostStorage;
import org.tessera.kernels.Storage;
import org.tessera.kernels.sparse.SpmmRows;
import org.tessera.kernels.spi.Int8Input;
import org.tessera.kernels.spi.Int8Output;
import org.tessera.kernels.spi.PackedSparse;

/**
 * The AVX2 sparse products: f32 ({@code native/cpu/f32-spmm-bsr-avx2.c}) and int8 ({@code i8-spmm-bsr-avx2.c});
 * arguments validated by the caller.
 */
final class NativeSpmmRows implements SpmmRows {
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
        NativeCpu.tsr_i8_spmm_bsr__avx2(w.n(), w.k(), w.br(), w.bc(), blockRow0, blockRow1, m, address(w.rowPtr()), address(w.colIdx()),
                address(w.values()), address(w.rowsums()), address(w.scales()), xq.type() == DType.S8 ? 1 : 0, x.address() + xOff, ldx,
                xq.zeroPoint(), xq.scale(), bias == null ? 0 : bias.address() + 4 * biasOff, NativeInt8Gemm.outKind(out.type()),
                out.scale(), out.zeroPoint(), out.relu() ? 1 : 0, y.address() + (long) out.type().byteSize() * yOff, ldy);
    }

    private static long address(Storage s) {
        return ((HostStorage) s).segment().address();
    }
}
