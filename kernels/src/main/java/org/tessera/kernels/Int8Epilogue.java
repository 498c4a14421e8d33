package org.tessera.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.tessera.kernels.spi.Int8Output;

/**
 * The int8 GEMM epilogue of {@link Int8Output}, one element at a time, in exactly the float operations the
 * native kernel performs (so every backend writes the same bits). The clamps are written as x86's
 * {@code maxps}/{@code minps} compute them. Shared by the java int8 GEMMs and the direct int8 convolutions.
 */
public final class Int8Epilogue {
    private static final ValueLayout.OfInt S32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private Int8Epilogue() {}

    /**
     * Stores output element {@code index} of c from the zero-point-corrected accumulator.
     *
     * @param sa   activation scale
     * @param sw   the column's weight scale
     * @param bias the column's bias, 0 without one
     */
    public static void store(Int8Output out, MemorySegment c, long index, int acc, float sa, float sw, float bias) {
        switch (out.type()) {
            case S32 -> c.setAtIndex(S32, index, acc);
            case F32 -> {
                float y = Math.fma((float) acc, sa * sw, bias);
                if (out.relu() && y < 0f) y = 0f;
                c.setAtIndex(F32, index, y);
            }
            default -> {
                boolean s8 = out.type() == DType.S8;
                int zo = out.zeroPoint(), lo = s8 ? -128 : 0, hi = s8 ? 127 : 255;
                if (out.relu()) lo = Math.max(lo, zo);
                float y = Math.fma((float) acc, (sa * sw) / out.scale(), bias / out.scale());
                float flo = lo - zo, fhi = hi - zo;
                y = y > flo ? y : flo;
                y = y < fhi ? y : fhi;
                c.set(ValueLayout.JAVA_BYTE, index, (byte) ((int) Math.rint(y) + zo));
            }
        }
    }
}
