package org.tessera;

import java.util.Arrays;
import org.tessera.kernels.Backends.Selection;
import org.tessera.kernels.DType;
import org.tessera.kernels.spi.Int8GemmKernels;
import org.tessera.kernels.spi.Int8Input;
import org.tessera.kernels.spi.Int8Output;

/** The tensor-level int8 GEMM behind {@link Ops}: layout checks and copies around the SPI call. */
final class QuantizedMatmul {
    private QuantizedMatmul() {}

    static PackedInt8Matrix pack(Selection<Int8GemmKernels> sel, Tensor w, float[] scales) {
        requireRank2("w", w, DType.S8);
        long k = w.dim(0), n = w.dim(1);
        if (k > Integer.MAX_VALUE || n > Integer.MAX_VALUE) throw new IllegalArgumentException("w is too large: " + Arrays.toString(w.shape()));
        long[] st = w.strides();
        Tensor src = w;
        boolean trans = false;
        long ld;
        if (n <= 1 || st[1] == 1) {
            ld = k <= 1 ? Math.max(n, 1) : st[0];
        } else if (k <= 1 || st[0] == 1) { // a transposed view, e.g. an (n, k) [out][in] weight tensor's t()
            trans = true;
            ld = n <= 1 ? Math.max(k, 1) : st[1];
        } else {
            src = w.copy();
            ld = Math.max(n, 1);
        }
        try {
            return new PackedInt8Matrix(sel.kernels().pack(trans, (int) k, (int) n, src.storage(), src.offset(), ld, scales), sel.backend());
        } finally {
            if (src != w) src.close();
        }
    }

    static Tensor matmul(Selection<Int8GemmKernels> sel, Tensor a, Int8Input aq, PackedInt8Matrix w, Int8Output out, Tensor bias,
                         Tensor result) {
        if (aq == null || out == null || w == null) throw new NullPointerException("aq, w and out must not be null");
        requireRank2("a", a, aq.type());
        requireRank2("result", result, out.type());
        long m = a.dim(0), k = a.dim(1), n = w.cols();
        if (k != w.rows()) {
            throw new IllegalArgumentException("matmul: a is " + Arrays.toString(a.shape()) + " and w is [" + w.rows() + ", " + n
                    + "]: a's columns must equal w's rows");
        }
        if (result.dim(0) != m || result.dim(1) != n) {
            throw new IllegalArgumentException("result must be [" + m + ", " + n + "], got " + Arrays.toString(result.shape()));
        }
        if (bias != null && (bias.dtype() != DType.F32 || bias.rank() != 1 || bias.dim(0) != n)) {
            throw new IllegalArgumentException("bias must be F32 [" + n + "], got " + bias.dtype() + " " + Arrays.toString(bias.shape()));
        }
        if (w.packed().owner() != sel.kernels()) {
            throw new IllegalArgumentException("w was packed for the " + w.backend().name() + " backend but this op runs on "
                    + sel.backend().name() + ": pack it with the same Ops (or backend)");
        }
        Tensor ac = rowsContiguous(a) ? a : a.copy(), rc = rowsContiguous(result) ? result : result.copy();
        Tensor bc = bias == null || bias.dim(0) <= 1 || bias.strides()[0] == 1 ? bias : bias.copy();
        try {
            sel.kernels().gemm((int) m, aq, ac.storage(), ac.offset(), rowStride(ac), w.packed(), out, rc.storage(), rc.offset(),
                    rowStride(rc), bc == null ? null : bc.storage(), bc == null ? 0 : bc.offset());
            if (rc != result) result.copyFrom(rc);
        } finally {
            if (ac != a) ac.close();
            if (rc != result) rc.close();
            if (bc != bias) bc.close();
        }
        return result;
    }

    static boolean rowsContiguous(Tensor t) {
        return t.dim(1) <= 1 || t.strides()[1] == 1;
    }

    static long rowStride(Tensor t) {
        return t.dim(0) <= 1 ? Math.max(t.dim(1), 1) : t.strides()[0];
    }

    private static void requireRank2(String name, Tensor t, DType type) {
        if (t == null) throw new NullPointerException(name + " is null");
        t.requireOpen();
        if (t.rank() != 2) throw new IllegalArgumentException(name + " must be a matrix (rank 2), got shape " + Arrays.toString(t.shape()));
        if (t.dtype() != type) throw new IllegalArgumentException(name + " must be " + type + ", got " + t.dtype());
        if (t.dim(0) > Integer.MAX_VALUE || t.dim(1) > Integer.MAX_VALUE) throw new IllegalArgumentException(name + " is too large");
    }
}
