package org.tessera.nn;

import org.tessera.Activation;
import org.tessera.Ops;
import org.tessera.SparseCrossover;
import org.tessera.SparseWeights;
import org.tessera.Tensor;
import org.tessera.kernels.DType;
import org.tessera.kernels.sparse.BsrMatrix;
import org.tessera.kernels.sparse.CsrMatrix;
import org.tessera.kernels.sparse.SparseMatrix;

/**
 * Pruned linear layers at inference: where the sparse kernels beat the dense GEMM on a whole step. The kernels
 * compute y^T = W x^T, so a batch is transposed on the way in and out, and those copies decide it. Measured on
 * the Fashion-MNIST hidden layer (1568 -> 128, 2 threads, bench/RESULTS.md "Sparse layers in a model"): at
 * batch 1, f32 CSR at 90% took 33 us against the dense 47 us, 4x1 blocks at 80% 40 us; at batch 64 and 256
 * the dense GEMM won at every sparsity up to 98% (f32 0.36 vs 0.56 ms and 0.7-1.0 vs 0.76 ms), and the dense
 * int8 GEMM won everywhere (batch 1: 12 us against 29 us at 98%). So an f32 layer past the batch-1 crossover
 * ({@link SparseCrossover#threshold}, m = 1) keeps both forms and runs the sparse one for single examples;
 * int8 layers stay dense ({@link QuantizedModel}); a model never gets slower by being pruned.
 */
final class SparseLinear {
    /** Weights with at least this fraction of zeros are tried on the sparse kernels. */
    static final double MIN_SPARSITY = 0.5;

    private SparseLinear() {}

    static double zeroFraction(float[] w) {
        long z = 0;
        for (float v : w) if (v == 0f) z++;
        return (double) z / w.length;
    }

    /** BSR 4x1 when it stores at most 10% more values than CSR, else CSR. */
    static SparseMatrix sparse(float[] w, int rows, int cols) {
        CsrMatrix csr = CsrMatrix.fromDense(w, rows, cols);
        BsrMatrix bsr = BsrMatrix.fromDense(w, rows, cols, 4, 1);
        return bsr.storedValues() <= 1.1 * csr.storedValues() ? bsr : csr;
    }

    /**
     * The step of a pruned f32 layer: {@code dense} (which owns {@code denseOwned}) for batches above 1, the
     * sparse kernel for single examples; null when the weights are below the batch-1 crossover (the caller then
     * builds the dense step alone).
     */
    static Step f32(Ops ops, String label, float[] w, int out, int in, Tensor bias, Activation act, Step.Body dense, AutoCloseable denseOwned) {
        SparseMatrix sm = sparse(w, out, in);
        if (!SparseCrossover.useSparse(sm instanceof BsrMatrix b ? b.blockRows() : 1, sm.sparsity(), 1)) return null;
        SparseWeights sw = ops.packSparse(sm, 1);
        return new Step(label + " sparse " + sw.format() + " at batch 1", new long[] {out}, DType.F32, in + out, (x, y, scratch) -> {
            long n = x.dim(0);
            if (n > 1) {
                dense.run(x, y);
                return;
            }
            Tensor xt = scratch.slice(0, 0, in * n).reshape(in, n), yt = scratch.slice(0, in * n, (in + out) * n).reshape(out, n);
            xt.copyFrom(x.t());
            ops.spmm(sw, xt, bias, act, yt);
            y.copyFrom(yt.t());
        }, () -> {
            sw.close();
            denseOwned.close();
        });
    }
}
