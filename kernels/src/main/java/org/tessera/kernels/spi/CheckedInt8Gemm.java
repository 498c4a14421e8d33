package org.tessera.kernels.spi;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.tessera.kernels.Checks;
import org.tessera.kernels.DType;
import org.tessera.kernels.HostStorage;
import org.tessera.kernels.MemoryKind;
import org.tessera.kernels.Storage;

/**
 * Base of every {@link Int8GemmKernels}: validates shapes, strides, bounds, scales, bias and lifetimes,
 * holds the operands' storages for the call, then runs the kernel on arguments it may trust. Backends
 * without a layout of their own inherit a plain one: W as contiguous (k, n) row-major s8.
 */
public abstract class CheckedInt8Gemm implements Int8GemmKernels {
    private final MemoryKind memory;

    protected CheckedInt8Gemm(MemoryKind memory) {
        this.memory = memory;
    }

    @Override
    public String kernelId(PackedInt8 weights) {
        return kernelId();
    }

    @Override
    public final PackedInt8 pack(boolean transW, int k, int n, Storage w, long wOffset, long ldw, float[] scales) {
        Checks.nonNegative("k", k);
        Checks.nonNegative("n", n);
        if (k > MAX_K) {
            throw new IllegalArgumentException("k = " + k + " exceeds " + MAX_K + ", the largest k whose s32 accumulation of u8 x s8 "
                    + "products cannot overflow; split the product along k");
        }
        long rows = transW ? n : k, cols = transW ? k : n;
        if (ldw < Math.max(1, cols)) throw new IllegalArgumentException("ldw must be >= max(1, " + cols + "), got " + ldw);
        Checks.block("w", w, memory, 1, wOffset, rows, cols, ldw);
        if (scales == null) throw new NullPointerException("scales is null");
        if (scales.length != 1 && scales.length != n) {
            throw new IllegalArgumentException("scales must hold 1 (per tensor) or n = " + n + " (per column) values, got " + scales.length);
        }
        for (float s : scales) Int8Output.checkScale("weight scale", s);
        HostStorage sc = HostStorage.allocate(4L * Math.max(n, 1)), cs = HostStorage.allocate(4L * Math.max(n, 1));
        for (int j = 0; j < n; j++) sc.segment().setAtIndex(ValueLayout.JAVA_FLOAT, j, scales.length == 1 ? scales[0] : scales[j]);
        Storage.acquireAll(w);
        try {
            return runPack(transW, k, n, w, wOffset, ldw, cs, sc);
        } catch (RuntimeException | Error e) {
            sc.close();
            cs.close();
            throw e;
        } finally {
            Storage.releaseAll(w);
        }
    }

    @Override
    public final void gemm(int m, Int8Input aq, Storage a, long aOffset, long lda, PackedInt8 w, Int8Output out,
                           Storage c, long cOffset, long ldc, Storage bias, long biasOffset) {
        if (aq == null) throw new NullPointerException("activation quantization (aq) is null");
        if (out == null) throw new NullPointerException("output (out) is null");
        if (w == null) throw new NullPointerException("packed weights (w) are null");
        if (w.owner() != this) throw new IllegalArgumentException("weights were packed by " + w.owner().kernelId() + ", not by " + kernelId());
        if (!w.isAlive()) throw new IllegalStateException("packed weights are closed");
        Checks.nonNegative("m", m);
        int n = w.n(), k = w.k();
        if (lda < Math.max(1, k)) throw new IllegalArgumentException("lda must be >= max(1, " + k + "), got " + lda);
        if (ldc < Math.max(1, n)) throw new IllegalArgumentException("ldc must be >= max(1, " + n + "), got " + ldc);
        Checks.block("a", a, memory, 1, aOffset, m, k, lda);
        Checks.block("c", c, memory, out.type().byteSize(), cOffset, m, n, ldc);
        if (bias != null) {
            if (!out.takesBias()) throw new IllegalArgumentException("S32 output takes no bias (the accumulator is raw); use F32, U8 or S8");
            Checks.block("bias", bias, memory, Float.BYTES, biasOffset, 1, n, n);
        }
        if (m == 0 || n == 0) return;
        Storage.acquireAll(a, w.data(), w.colsums(), w.scales(), c, bias);
        try {
            if (bias != null && out.type() != DType.F32) Checks.finiteBias(((HostStorage) bias).segment(), biasOffset, n);
            run(m, aq, a, aOffset, lda, w, out, c, cOffset, ldc, bias, biasOffset);
        } finally {
            Storage.releaseAll(a, w.data(), w.colsums(), w.scales(), c, bias);
        }
    }

    /** Packs validated weights; default: contiguous (k, n) row-major s8 plus column sums. */
    protected PackedInt8 runPack(boolean transW, int k, int n, Storage w, long wOffset, long ldw, HostStorage colsums,
                                 HostStorage scales) {
        HostStorage data = HostStorage.allocate((long) k * n);
        MemorySegment src = ((HostStorage) w).segment(), dst = data.segment();
        for (int j = 0; j < n; j++) {
            int sum = 0;
            for (int p = 0; p < k; p++) {
                byte v = src.get(ValueLayout.JAVA_BYTE, wOffset + (transW ? (long) j * ldw + p : (long) p * ldw + j));
                dst.set(ValueLayout.JAVA_BYTE, (long) p * n + j, v);
                sum += v;
            }
            colsums.segment().setAtIndex(ValueLayout.JAVA_INT, j, sum);
        }
        return new PackedInt8(this, k, n, false, data, colsums, scales);
    }

    /** The kernel, on validated, live operands with m, n > 0 (k may be 0). */
    protected abstract void run(int m, Int8Input aq, Storage a, long aOffset, long lda, PackedInt8 w, Int8Output out,
                                Storage c, long cOffset, long ldc, Storage bias, long biasOffset);
}
