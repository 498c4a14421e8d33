package org.tessera.testing;

import org.tessera.kernels.spi.BinaryOp;

/**
 * Scalar reference kernels that accumulate in double, on plain arrays with offsets and leading dimensions
 * in elements (row-major). Every optimized kernel is checked against these; these are pinned by
 * known-answer tests ({@code ReferenceTest}).
 */
public final class Reference {
    private Reference() {}

    /** y = max(x, 0) (NaN propagates) over a (rows, cols) block. */
    public static void relu(int rows, int cols, float[] x, int xOff, int ldx, float[] y, int yOff, int ldy) {
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                float v = x[xOff + r * ldx + c];
                y[yOff + r * ldy + c] = Float.isNaN(v) ? v : v > 0 ? v : 0f;
            }
        }
    }

    /** y = alpha * x, rounded once from double. */
    public static void scale(int rows, int cols, float alpha, float[] x, int xOff, int ldx, float[] y, int yOff, int ldy) {
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) y[yOff + r * ldy + c] = (float) ((double) alpha * x[xOff + r * ldx + c]);
        }
    }

    /** y = a + b (add) or a * b (mul), rounded once from double. */
    public static void binary(BinaryOp op, int rows, int cols, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                              float[] y, int yOff, int ldy) {
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                double p = a[aOff + r * lda + c], q = b[bOff + r * ldb + c];
                y[yOff + r * ldy + c] = (float) switch (op) {
                    case ADD -> p + q;
                    case MUL -> p * q;
                    case RELU_GRAD -> p > 0 ? q : 0.0;
                };
            }
        }
    }

    /**
     * Row-major {@code C = alpha * op(A) * op(B) + beta * C}, accumulating in double; cblas_sgemm semantics,
     * including beta == 0 overwriting C (NaN included) and alpha == 0 not reading A or B.
     */
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
                             float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        gemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, null, false);
    }

    /** {@link #sgemm} with the fused epilogue: {@code C = act(alpha op(A) op(B) + beta C + bias)}, bias (n) or null. */
    public static void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
                            float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc, float[] bias, boolean relu) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double acc = 0;
                if (alpha != 0) {
                    for (int p = 0; p < k; p++) {
                        double av = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                        double bv = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
                        acc += av * bv;
                    }
                }
                double prior = beta == 0 ? 0 : (double) beta * c[cOff + i * ldc + j];
                double x = (alpha == 0 ? prior : alpha * acc + prior) + (bias == null ? 0 : bias[j]);
                c[cOff + i * ldc + j] = (float) (relu && !(x > 0) && !Double.isNaN(x) ? 0 : x);
            }
        }
    }
}
