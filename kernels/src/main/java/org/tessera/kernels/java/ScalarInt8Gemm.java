package org.tessera.kernels.java;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.tessera.kernels.DType;
import org.tessera.kernels.HostStorage;
import org.tessera.kernels.Int8Epilogue;
import org.tessera.kernels.MemoryKind;
import org.tessera.kernels.Storage;
import org.tessera.kernels.spi.CheckedInt8Gemm;
import org.tessera.kernels.spi.Int8Input;
import org.tessera.kernels.spi.Int8Output;
import org.tessera.kernels.spi.PackedInt8;

/** Scalar int8 GEMM ({@code i8_gemm__scalar}): the fallback without the Vector API; exact int arithmetic. */
final class ScalarInt8Gemm extends CheckedInt8Gemm {
    ScalarInt8Gemm() {
        super(MemoryKind.HOST);
    }

    @Override
    public String kernelId() {
        return "i8_gemm__scalar";
    }

    @Override
    protected void run(int m, Int8Input aq, Storage a, long aOffset, long lda, PackedInt8 w, Int8Output out,
                       Storage c, long cOffset, long ldc, Storage bias, long biasOffset) {
        MemorySegment as = seg(a), ws = seg(w.data()), cs = seg(c), sums = seg(w.colsums()), scales = seg(w.scales());
        MemorySegment bs = bias == null ? null : seg(bias);
        int n = w.n(), k = w.k(), za = aq.zeroPoint();
        boolean signed = aq.type() == DType.S8;
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                int acc = 0;
                for (int p = 0; p < k; p++) {
                    byte av = as.get(ValueLayout.JAVA_BYTE, aOffset + (long) i * lda + p);
                    acc += (signed ? av : av & 0xFF) * ws.get(ValueLayout.JAVA_BYTE, (long) p * n + j);
                }
                acc -= za * sums.getAtIndex(ValueLayout.JAVA_INT, j);
                float b = bs == null ? 0f : bs.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, biasOffset + j);
                Int8Epilogue.store(out, cs, cOffset + (long) i * ldc + j, acc, aq.scale(), scales.getAtIndex(ValueLayout.JAVA_FLOAT, j), b);
            }
        }
    }

    private static MemorySegment seg(Storage s) {
        return ((HostStorage) s).segment();
    }
}
