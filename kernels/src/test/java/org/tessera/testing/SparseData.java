package org.tessera.testing;

import java.util.SplittableRandom;
import org.tessera.kernels.sparse.BsrMatrix;
import org.tessera.kernels.sparse.CsrMatrix;
import org.tessera.kernels.sparse.NmSparseMatrix;
import org.tessera.kernels.sparse.SparseMatrix;

/** Random sparse weights in every format, and the dense double reference of the sparse product. */
public final class SparseData {
    private SparseData() {}

    /** The formats the tests cover: name, block rows, block cols (0, 0 for N:M 2:4). */
    public enum Format {
        CSR(1, 1), BSR4X1(4, 1), BSR8X1(8, 1), BSR4X4(4, 4), BSR1X8(1, 8), BSR3X2(3, 2), NM2OF4(0, 0);

        final int br, bc;

        Format(int br, int bc) {
            this.br = br;
            this.bc = bc;
        }

        /** k rounded up to what the format accepts (N:M needs a multiple of 4). */
        public int cols(int k) {
            return this == NM2OF4 ? (k + 3) / 4 * 4 : k;
        }

        public SparseMatrix of(float[] dense, int n, int k) {
            return switch (this) {
                case CSR -> CsrMatrix.fromDense(dense, n, k);
                case NM2OF4 -> NmSparseMatrix.fromDense(dense, n, k, k, 2, 4);
                default -> BsrMatrix.fromDense(dense, n, k, br, bc);
            };
        }
    }

    /**
     * A dense (n, k) matrix whose zeros follow the format's structure, about {@code sparsity} of it zero
     * (N:M: at least half). Non-zeros are drawn by {@code value}, never 0.
     */
    public static float[] pattern(Format f, int n, int k, double sparsity, SplittableRandom rnd, java.util.function.DoubleSupplier value) {
        float[] w = new float[n * k];
        if (f == Format.NM2OF4) {
            for (int i = 0; i < n; i++) {
                for (int g = 0; g < k / 4; g++) {
                    int a = rnd.nextInt(4), b = rnd.nextInt(4);
                    if (rnd.nextDouble() >= sparsity) w[i * k + g * 4 + a] = nonZero(value);
                    if (rnd.nextDouble() >= sparsity) w[i * k + g * 4 + b] = nonZero(value);
                }
            }
            return w;
        }
        for (int bi = 0; bi < n; bi += f.br) {
            for (int bj = 0; bj < k; bj += f.bc) {
                if (rnd.nextDouble() < sparsity) continue;
                for (int i = bi; i < Math.min(n, bi + f.br); i++) for (int j = bj; j < Math.min(k, bj + f.bc); j++) w[i * k + j] = nonZero(value);
            }
        }
        return w;
    }

    private static float nonZero(java.util.function.DoubleSupplier value) {
        float v;
        do v = (float) value.getAsDouble(); while (v == 0f);
        return v;
    }

    /** y[i][j] = act(sum_p w[i][p] x[p][j] + bias[i]) in double; x (k, m) with row stride ldx at xOff. */
    public static float[] reference(float[] w, int n, int k, int m, float[] x, int xOff, int ldx, float[] bias, boolean relu) {
        float[] y = new float[n * m];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < m; j++) {
                double s = bias == null ? 0 : bias[i];
                for (int p = 0; p < k; p++) s += (double) w[i * k + p] * x[xOff + p * ldx + j];
                y[i * m + j] = (float) (relu && s < 0 ? 0 : s);
            }
        }
        return y;
    }
}
