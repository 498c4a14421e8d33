package org.tessera;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.tessera.kernels.DType;
import org.tessera.kernels.sparse.BsrMatrix;
import org.tessera.kernels.sparse.CsrMatrix;
import org.tessera.kernels.sparse.SparseMatrix;
import org.tessera.kernels.spi.Int8Input;
import org.tessera.kernels.spi.Int8Output;
import org.tessera.prune.MagnitudePruning;
import org.tessera.testing.SeededRandom;

/**
 * The sparse layer in the API: the crossover picks dense or sparse and both give the reference result,
 * strided views, bias and ReLU, pruned + quantized weights bit-exact against the dense int8 matmul, bad shapes.
 */
@ExtendWith(SeededRandom.class)
class SparseOpsTest {
    private final Ops ops = Ops.auto();

    @Test
    void denseOrSparseByTheCrossoverBothExact(SplittableRandom rnd) {
        int n = 37, k = 29, m = 11;
        for (double sparsity : new double[] {0.2, 0.95}) {
            float[] w = random(rnd, n * k);
            MagnitudePruning.unstructured(w, n, k, sparsity).apply(w);
            float[] x = random(rnd, k * m), bias = random(rnd, n);
            try (SparseWeights sw = ops.packSparse(CsrMatrix.fromDense(w, n, k), m); Tensor xt = Tensor.of(x, k, m);
                 Tensor bt = Tensor.of(bias, n); Tensor y = ops.spmm(sw, xt, bt, Activation.RELU)) {
                assertEquals(sparsity >= SparseCrossover.threshold(1, m), sw.sparseKernels(), sw.toString());
                assertClose(reference(w, n, k, m, x, bias, true), y.toFloatArray(), sw.toString());
                // views at an offset into larger buffers (a plan's scratch): the dense fallback's epilogue once wrote past them
                float[] padded = new float[3 + n];
                System.arraycopy(bias, 0, padded, 3, n);
                try (Tensor scratch = Tensor.allocate(DType.F32, 5 + n * m); Tensor bp = Tensor.of(padded, 3 + n)) {
                    Tensor yv = scratch.slice(0, 5, 5 + n * m).reshape(n, m);
                    ops.spmm(sw, xt, bp.slice(0, 3, 3 + n), Activation.RELU, yv);
                    assertClose(reference(w, n, k, m, x, bias, true), yv.toFloatArray(), sw + " into an offset view");
                }
            }
        }
    }

    @Test
    void stridedViewsAreRead(SplittableRandom rnd) {
        int n = 16, k = 12, m = 9;
        float[] w = random(rnd, n * k);
        MagnitudePruning.blocks(w, n, k, 4, 1, 0.75).apply(w);
        float[] xt = random(rnd, m * k); // stored (m, k): x is its transposed view
        float[] x = new float[k * m];
        for (int i = 0; i < k; i++) for (int j = 0; j < m; j++) x[i * m + j] = xt[j * k + i];
        try (SparseWeights sw = ops.packSparse(BsrMatrix.fromDense(w, n, k, 4, 1), 64); Tensor xs = Tensor.of(xt, m, k);
             Tensor y = Tensor.allocate(DType.F32, m, n)) {
            assertTrue(sw.sparseKernels());
            ops.spmm(sw, xs.t(), null, Activation.IDENTITY, y.t());
            float[] got = new float[n * m], yt = y.toFloatArray();
            for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) got[i * m + j] = yt[j * n + i];
            assertClose(reference(w, n, k, m, x, null, false), got, "transposed x and y views");
        }
    }

    /** Pruned (4x1 blocks) and quantized weights through the sparse int8 kernel equal the dense int8 matmul bit for bit. */
    @Test
    void prunedAndQuantizedMatchesTheDenseInt8Matmul(SplittableRandom rnd) {
        int n = 24, k = 40, m = 13;
        float[] w = random(rnd, n * k);
        MagnitudePruning.blocks(w, n, k, 4, 1, 0.8).apply(w);
        float[] scales = new float[n];
        for (int i = 0; i < n; i++) {
            float max = 1e-6f;
            for (int j = 0; j < k; j++) max = Math.max(max, Math.abs(w[i * k + j]));
            scales[i] = max / 127;
        }
        SparseMatrix q = BsrMatrix.fromDense(w, n, k, 4, 1).mapValues((row, v) -> Math.round(v / scales[row]));
        float[] qd = q.toDense();
        byte[] qb = new byte[n * k], xb = new byte[k * m], xbt = new byte[m * k];
        for (int i = 0; i < qb.length; i++) qb[i] = (byte) qd[i];
        for (int i = 0; i < k; i++) for (int j = 0; j < m; j++) xbt[j * k + i] = xb[i * m + j] = (byte) rnd.nextInt(256);
        Int8Input xq = Int8Input.u8(0.05f, 128);
        Int8Output out = Int8Output.u8(0.1f, 10, true);
        float[] bias = random(rnd, n);
        try (SparseWeights sw = ops.packSparseInt8(q, scales); Tensor x = Tensor.of(DType.U8, xb, k, m); Tensor bt = Tensor.of(bias, n);
             Tensor y = ops.spmm(sw, x, xq, out, bt); Tensor wq = Tensor.of(DType.S8, qb, n, k);
             PackedInt8Matrix dense = ops.packInt8(wq.t(), scales); Tensor xt = Tensor.of(DType.U8, xbt, m, k);
             Tensor yd = ops.matmul(xt, xq, dense, out, bt)) {
            byte[] got = y.toByteArray(), want = yd.toByteArray();
            for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) assertEquals(want[j * n + i], got[i * m + j], "y[" + i + "][" + j + "]");
        }
    }

    @Test
    void badShapesAreClearErrors(SplittableRandom rnd) {
        float[] w = random(rnd, 6 * 4);
        try (SparseWeights sw = ops.packSparse(CsrMatrix.fromDense(w, 6, 4), 1); Tensor x = Tensor.of(random(rnd, 5 * 3), 5, 3);
             Tensor x2 = Tensor.of(random(rnd, 4 * 3), 4, 3); Tensor b = Tensor.of(new float[5], 5)) {
            message("w's columns", () -> ops.spmm(sw, x, null, Activation.IDENTITY));
            message("bias must be [6]", () -> ops.spmm(sw, x2, b, Activation.IDENTITY));
            message("packSparseInt8", () -> ops.spmm(sw, x2, Int8Input.u8(1f, 0), Int8Output.s32(), null));
            message("expectedM", () -> ops.packSparse(CsrMatrix.fromDense(w, 6, 4), 0));
        }
        assertFalse(ops.packSparse(CsrMatrix.fromDense(w, 6, 4), 64).sparseKernels(), "a dense matrix stays on the GEMM");
    }

    static float[] reference(float[] w, int n, int k, int m, float[] x, float[] bias, boolean relu) {
        float[] y = new float[n * m];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < m; j++) {
                double s = bias == null ? 0 : bias[i];
                for (int p = 0; p < k; p++) s += (double) w[i * k + p] * x[p * m + j];
                y[i * m + j] = (float) (relu && s < 0 ? 0 : s);
            }
        }
        return y;
    }

    private static float[] random(SplittableRandom rnd, int size) {
        float[] a = new float[size];
        for (int i = 0; i < size; i++) a[i] = (float) (rnd.nextDouble() * 2 - 1);
        return a;
    }

    private static void assertClose(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length);
        for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 1e-5 * (1 + Math.abs(want[i])), what + " at " + i);
    }

    private static void message(String fragment, org.junit.jupiter.api.function.Executable e) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
        assertTrue(ex.getMessage().contains(fragment), "expected '" + fragment + "' in: " + ex.getMessage());
    }
}
