package org.tessera.testing;

import org.tessera.kernels.DType;
import org.tessera.kernels.spi.Int8Input;
import org.tessera.kernels.spi.Int8Output;

/**
 * Test-scope int8 GEMM reference: exact integer accumulation in long (asserting that s32 holds it), then
 * the {@link Int8Output} epilogue written straight from its javadoc, and a double-precision dequantization
 * for tolerance checks.
 */
public final class Int8Reference {
    private Int8Reference() {}

    /** acc[i][j] = sum_p (A[i][p] - za) * W[p][j]; A (m, k) at aOff with row stride lda; W (k, n) row-major. */
    public static int[] accumulate(int m, int n, int k, byte[] a, int aOff, int lda, Int8Input aq, byte[] w) {
        int[] acc = new int[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                long s = 0;
                for (int p = 0; p < k; p++) {
                    byte av = a[aOff + i * lda + p];
                    s += (long) ((aq.type() == DType.S8 ? av : av & 0xFF) - aq.zeroPoint()) * w[p * n + j];
                }
                if (s != (int) s) throw new AssertionError("reference accumulator " + s + " does not fit s32");
                acc[i * n + j] = (int) s;
            }
        }
        return acc;
    }

    /** The F32 output element (the contract's float formula). */
    public static float dequantize(int acc, float sa, float sw, float bias, boolean relu) {
        float y = Math.fma((float) acc, sa * sw, bias);
        return relu && y < 0f ? 0f : y;
    }

    /** The same value in double, without the float roundings: what dequantization approximates. */
    public static double dequantizeExact(int acc, float sa, float sw, float bias, boolean relu) {
        double y = (double) sa * sw * acc + bias;
        return relu && y < 0 ? 0 : y;
    }

    /** The U8/S8 output element (the contract's float formula; NaN-free inputs). */
    public static int requantize(int acc, float sa, float sw, float bias, Int8Output out) {
        int lo = out.type() == DType.S8 ? -128 : 0, hi = out.type() == DType.S8 ? 127 : 255;
        if (out.relu()) lo = Math.max(lo, out.zeroPoint());
        float y = Math.fma((float) acc, (sa * sw) / out.scale(), bias / out.scale());
        double r = Math.rint(y) + out.zeroPoint();
        return (int) Math.max(lo, Math.min(hi, r));
    }
}
