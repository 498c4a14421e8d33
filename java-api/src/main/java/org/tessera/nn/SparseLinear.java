package org.tessera.nn;

import java.lang.foreign.MemorySegment;
import org.tessera.Activation;
import org.tessera.Ops;
import org.tessera.SparseWeights;
import org.tessera.Tensor;
import org.tessera.kernels.DType;
import org.tessera.kernels.sparse.BsrMatrix;
import org.tessera.kernels.sparse.CsrMatrix;
import org.tessera.kernels.sparse.SparseMatrix;
import org.tessera.kernels.spi.Int8Input;
import org.tessera.kernels.spi.Int8Output;

/**
 * Linear layers whose weights are mostly zero (pruned) run on the sparse kernels: the weights go to 4x1 blocks
 * when the zeros come in such blocks (block pruning) and to CSR otherwise, and {@link Ops#packSparse} keeps
 * the dense GEMM where the measured crossover says sparse would be slower. The kernels compute
 * y^T = W x^T, so a batch is transposed on the way in and out, through scratch the workspace keeps across calls.
 */
final class SparseLinear {
    /** Weights with at least this fraction of zeros are tried on the sparse kernels. */
    static final double MIN_SPARSITY = 0.5;
    /** The batch width the dense-vs-sparse decision is made for. */
    static final int EXPECTED_BATCH = 64;

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

    static Step f32(Ops ops, String label, float[] w, int out, int in, Tensor bias, Activation act) {
        SparseWeights sw = ops.packSparse(sparse(w, out, in), EXPECTED_BATCH);
        return new Step(label + " sparse " + sw.format(), new long[] {out}, DType.F32, in + out, (x, y, scratch) -> {
            long n = x.dim(0);
            Tensor xt = scratch.slice(0, 0, in * n).reshape(in, n), yt = scratch.slice(0, in * n, (in + out) * n).reshape(out, n);
            xt.copyFrom(x.t());
            ops.spmm(sw, xt, bias, act, yt);
            y.copyFrom(yt.t());
        }, () -> {
            sw.close();
            if (bias != null) bias.close();
        });
    }

    static Step int8(Ops ops, String label, byte[] q, float[] scales, int out, int in, Tensor bias, Int8Input xq, Int8Output epilogue) {
        float[] wf = new float[q.length];
        for (int i = 0; i < q.length; i++) wf[i] = q[i];
        SparseWeights sw = ops.packSparseInt8(sparse(wf, out, in), scales);
        // x^T and y^T are byte codes (or f32 at the end); f32 scratch elements hold them with room to spare
        return new Step(label + " sparse " + sw.format(), new long[] {out}, epilogue.type(), in + out, (x, y, scratch) -> {
            long n = x.dim(0);
            MemorySegment seg = scratch.segment();
            Tensor xt = Tensor.wrap(seg, x.dtype(), in, n);
            Tensor yt = Tensor.wrap(seg.asSlice(4L * in * n), y.dtype(), out, n);
            xt.copyFrom(x.t());
            ops.spmm(sw, xt, xq, epilogue, bias, yt);
            y.copyFrom(yt.t());
        }, () -> {
            sw.close();
            if (bias != null) bias.close();
        });
    }
}
