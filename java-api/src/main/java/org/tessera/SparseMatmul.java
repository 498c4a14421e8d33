package org.tessera;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import org.tessera.kernels.Backends.Selection;
import org.tessera.kernels.DType;
import org.tessera.kernels.MemoryKind;
import org.tessera.kernels.sparse.BsrMatrix;
import org.tessera.kernels.sparse.SparseMatrix;
import org.tessera.kernels.spi.F32GemmKernels;
import org.tessera.kernels.spi.Int8Input;
import org.tessera.kernels.spi.Int8Output;
import org.tessera.kernels.spi.PackedSparse;
import org.tessera.kernels.spi.SparseKernels;

import static org.tessera.QuantizedMatmul.rowStride;
import static org.tessera.QuantizedMatmul.rowsContiguous;

/** The tensor-level sparse products behind {@link Ops}: shape checks, the dense fallback, copies of strided views. */
final class SparseMatmul {
    private SparseMatmul() {}

    static SparseWeights pack(Selection<SparseKernels> sel, SparseMatrix w, int expectedM) {
        if (w == null) throw new NullPointerException("sparse weights are null");
        if (expectedM < 1) throw new IllegalArgumentException("expectedM (the batch width products will use) must be >= 1, got " + expectedM);
        int br = w instanceof BsrMatrix b ? b.blockRows() : 1;
        if (SparseCrossover.useSparse(br, w.sparsity(), expectedM)) {
            return new SparseWeights(sel.backend(), sel.kernels().pack(w), null, w.format(), w.sparsity());
        }
        return new SparseWeights(sel.backend(), null, Tensor.of(w.toDense(), w.rows(), w.cols()), w.format(), w.sparsity());
    }

    static SparseWeights packInt8(Selection<SparseKernels> sel, SparseMatrix w, float[] scales) {
        if (w == null) throw new NullPointerException("sparse weights are null");
        return new SparseWeights(sel.backend(), sel.kernels().packInt8(w, scales), null, w.format(), w.sparsity());
    }

    static Tensor f32(Selection<SparseKernels> sel, Selection<F32GemmKernels> gemm, SparseWeights w, Tensor x, Tensor bias, Activation act,
                      Tensor y) {
        if (w == null || act == null) throw new NullPointerException("w and act must not be null");
        PackedSparse p = w.packed();
        if (p != null && p.dtype() != DType.F32) throw new IllegalArgumentException("w holds int8 weights: call spmm with Int8Input and Int8Output");
        long m = checkShapes(w, x, DType.F32, y, DType.F32, bias);
        if (p != null) requireOwner(sel, w, p);
        Tensor xc = rowsContiguous(x) ? x : x.copy(), yc = rowsContiguous(y) ? y : y.copy();
        Tensor bc = bias == null || bias.dim(0) <= 1 || bias.strides()[0] == 1 ? bias : bias.copy();
        try {
            boolean relu = act == Activation.RELU;
            if (p != null) {
                sel.kernels().spmm((int) m, p, xc.storage(), xc.offset(), rowStride(xc), bc == null ? null : bc.storage(),
                        bc == null ? 0 : bc.offset(), relu, yc.storage(), yc.offset(), rowStride(yc));
            } else {
                Tensor d = w.dense();
                int n = w.rows(), k = w.cols();
                gemm.kernels().gemm(false, false, n, (int) m, k, 1f, d.storage(), d.offset(), Math.max(k, 1), xc.storage(), xc.offset(),
                        rowStride(xc), 0f, yc.storage(), yc.offset(), rowStride(yc), null, 0, false);
                if (bc != null || relu) biasAndActivation(yc, n, m, bc, relu);
            }
            if (yc != y) y.copyFrom(yc);
        } finally {
            if (xc != x) xc.close();
            if (yc != y) yc.close();
            if (bc != bias) bc.close();
        }
        return y;
    }

    static Tensor int8(Selection<SparseKernels> sel, SparseWeights w, Tensor x, Int8Input xq, Int8Output out, Tensor bias, Tensor y) {
        if (w == null || xq == null || out == null) throw new NullPointerException("w, xq and out must not be null");
        PackedSparse p = w.packed();
        if (p == null || p.dtype() != DType.S8) throw new IllegalArgumentException("w holds f32 weights: pack int8 ones with packSparseInt8");
        long m = checkShapes(w, x, xq.type(), y, out.type(), bias);
        requireOwner(sel, w, p);
        Tensor xc = rowsContiguous(x) ? x : x.copy(), yc = rowsContiguous(y) ? y : y.copy();
        Tensor bc = bias == null || bias.dim(0) <= 1 || bias.strides()[0] == 1 ? bias : bias.copy();
        try {
            sel.kernels().spmmInt8((int) m, p, xq, xc.storage(), xc.offset(), rowStride(xc), out, yc.storage(), yc.offset(), rowStride(yc),
                    bc == null ? null : bc.storage(), bc == null ? 0 : bc.offset());
            if (yc != y) y.copyFrom(yc);
        } finally {
            if (xc != x) xc.close();
            if (yc != y) yc.close();
            if (bc != bias) bc.close();
        }
        return y;
    }

    /** The dense fallback's epilogue: the GEMM's bias runs along columns, ours along rows. */
    private static void biasAndActivation(Tensor y, int n, long m, Tensor bias, boolean relu) {
        MemorySegment ys = y.hostSegment(), bs = bias == null ? null : bias.hostSegment(); // whole storages: offsets are the views'
        long ld = rowStride(y);
        for (int i = 0; i < n; i++) {
            float b = bias == null ? 0f : bs.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, bias.offset() + i);
            for (long j = 0; j < m; j++) {
                long at = y.offset() + i * ld + j;
                float v = ys.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, at) + b;
                ys.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, at, relu && v < 0f ? 0f : v);
            }
        }
    }

    private static void requireOwner(Selection<SparseKernels> sel, SparseWeights w, PackedSparse p) {
        if (p.owner() != sel.kernels()) {
            throw new IllegalArgumentException("w was packed for the " + w.backend().name() + " backend but this op runs on "
                    + sel.backend().name() + ": pack it with the same Ops (or backend)");
        }
    }

    /** Checks x (k, m), y (n, m), bias (n); returns m. */
    private static long checkShapes(SparseWeights w, Tensor x, DType xType, Tensor y, DType yType, Tensor bias) {
        require("x", x, xType, 2);
        require("y", y, yType, 2);
        if (x.memoryKind() != MemoryKind.HOST || y.memoryKind() != MemoryKind.HOST) {
            throw new IllegalArgumentException("sparse products run on host memory: move x and y with tensor.to(backend)");
        }
        if (x.dim(0) != w.cols()) {
            throw new IllegalArgumentException("spmm: w is [" + w.rows() + ", " + w.cols() + "] and x is " + Arrays.toString(x.shape())
                    + ": x must have w's columns (" + w.cols() + ") as rows");
        }
        long m = x.dim(1);
        if (m > Integer.MAX_VALUE) throw new IllegalArgumentException("x is too wide: " + m + " columns");
        if (y.dim(0) != w.rows() || y.dim(1) != m) {
            throw new IllegalArgumentException("y must be [" + w.rows() + ", " + m + "], got " + Arrays.toString(y.shape()));
        }
        if (bias != null) {
            require("bias", bias, DType.F32, 1);
            if (bias.dim(0) != w.rows()) throw new IllegalArgumentException("bias must be [" + w.rows() + "] (one per row of w), got " + Arrays.toString(bias.shape()));
        }
        return m;
    }

    private static void require(String name, Tensor t, DType type, int rank) {
        if (t == null) throw new NullPointerException(name + " is null");
        if (t.dtype() != type) throw new IllegalArgumentException(name + " must be " + type + ", got " + t.dtype());
        if (t.rank() != rank) throw new IllegalArgumentException(name + " must have rank " + rank + ", got shape " + Arrays.toString(t.shape()));
    }
}
