package org.tessera.kernels.java;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import org.tessera.kernels.DType;
import org.tessera.kernels.GemmGrid;
import org.tessera.kernels.HostStorage;
import org.tessera.kernels.Int8Epilogue;
import org.tessera.kernels.MemoryKind;
import org.tessera.kernels.Storage;
import org.tessera.kernels.WorkerPool;
import org.tessera.kernels.spi.CheckedInt8Gemm;
import org.tessera.kernels.spi.Int8Input;
import org.tessera.kernels.spi.Int8Output;
import org.tessera.kernels.spi.PackedInt8;

/**
 * Vector API int8 GEMM ({@code i8_gemm_4xNR__panama<bits>}), exact, on the f32 GEMM's FMA microkernel.
 * The Vector API has no s16 multiply-add-pairs (x86's {@code vpmaddwd}), and a widening int multiply
 * ({@code vpmulld}) runs at half the FMA rate, so the int8 values are converted to float and multiplied
 * with FMAs: every product and partial sum is an integer of magnitude below
 * {@code KC * 255 * 128 = 8.4e6 < 2^24}, so float arithmetic is exact within a KC block; each block's tile
 * is then converted to int and added to an s32 accumulator block (MC x the thread's columns). Weights
 * stay s8 in memory (the plain layout); they are converted block by block into the f32 GEMM's packed
 * panels, so the int8 kernel runs at the f32 kernel's speed plus the conversions.
 */
final class PanamaInt8Gemm extends CheckedInt8Gemm {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final VectorSpecies<Integer> SI = VectorSpecies.of(int.class, S.vectorShape());
    private static final int MR = PanamaF32Gemm.MR, NR = PanamaF32Gemm.NR, KC = PanamaF32Gemm.KC, MC = PanamaF32Gemm.MC;
    private static final int NC = PanamaF32Gemm.NC;
    /** NR bytes: one row of a B panel, widened in two halves to two float vectors. */
    private static final VectorSpecies<Byte> SB = VectorSpecies.of(byte.class, VectorShape.forBitSize(NR * 8));
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    /** Per-thread buffers: packed A (float), B block (float), s32 accumulators (grown when a block needs more). */
    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

    private static final class Buffers {
        final float[] ap = new float[MC * KC], bp = new float[KC * NC], rows = new float[MR * SMALL_W];
        int[] acc = new int[0];
    }

    /** Columns per chunk of the small-m path: MR rows of float and int sums stay in L1/L2. */
    private static final int SMALL_W = 1024 / NR * NR;

    PanamaInt8Gemm() {
        super(MemoryKind.HOST);
    }

    @Override
    public String kernelId() {
        return "i8_gemm_" + MR + "x" + NR + "__panama" + S.vectorBitSize();
    }

    @Override
    protected void run(int m, Int8Input aq, Storage a, long aOffset, long lda, PackedInt8 w, Int8Output out,
                       Storage c, long cOffset, long ldc, Storage bias, long biasOffset) {
        int n = w.n(), k = w.k();
        Task task = new Task(seg(a), aOffset, lda, aq.type() == DType.S8, aq, seg(w.data()), n, k, seg(w.colsums()),
                seg(w.scales()), out, seg(c), cOffset, ldc, bias == null ? null : seg(bias), biasOffset);
        GemmGrid grid = GemmGrid.plan(m, n, k, WorkerPool.shared().threads(), MR, NR);
        WorkerPool.shared().parallelFor(grid.tasks(), t -> {
            int i0 = grid.rowStart(t), i1 = grid.rowEnd(t), j0 = grid.colStart(t), j1 = grid.colEnd(t);
            if (i0 >= i1 || j0 >= j1) return;
            if (i1 - i0 <= MR) smallM(task, i0, i1 - i0, j0, j1, BUFFERS.get());
            else block(task, i0, i1, j0, j1, BUFFERS.get());
        });
    }

    /** One call's operands. */
    private record Task(MemorySegment a, long aOff, long lda, boolean signed, Int8Input aq, MemorySegment w, int n, int k,
                        MemorySegment colsums, MemorySegment scales, Int8Output out, MemorySegment c, long cOff, long ldc,
                        MemorySegment bias, long biasOff) {}

    /** Rows [i0, i1) x columns [j0, j1) of C. */
    private static void block(Task t, int i0, int i1, int j0, int j1, Buffers buf) {
        int cols = j1 - j0;
        if (buf.acc.length < MC * cols) buf.acc = new int[MC * cols];
        int[] acc = buf.acc;
        for (int ic = i0; ic < i1; ic += MC) {
            int mc = Math.min(MC, i1 - ic);
            if (t.k() == 0) java.util.Arrays.fill(acc, 0, mc * cols, 0);
            for (int pc = 0; pc < t.k(); pc += KC) {
                int kc = Math.min(KC, t.k() - pc);
                packA(t, ic, mc, pc, kc, buf.ap);
                for (int jc = j0; jc < j1; jc += NC) {
                    int nc = Math.min(NC, j1 - jc);
                    convertB(t, pc, kc, jc, nc, buf.bp);
                    for (int jr = 0; jr < nc; jr += NR) {
                        for (int ir = 0; ir < mc; ir += MR) {
                            float[] tile = PanamaF32Gemm.multiplyTile(kc, buf.ap, ir * kc, buf.bp, jr * kc);
                            accumulate(tile, acc, ir * cols + (jc - j0) + jr, cols, Math.min(MR, mc - ir),
                                    Math.min(NR, nc - jr), pc == 0);
                        }
                    }
                }
            }
            epilogue(t, acc, cols, ic, mc, j0);
        }
    }

    /**
     * m <= MR (batch-1 inference): W is streamed once in storage order, a byte per weight, converted on
     * the fly; no packing. Per KC rows of W the float sums stay exact, then go into the s32 sums.
     */
    private static void smallM(Task t, int i0, int m, int j0, int j1, Buffers buf) {
        if (buf.acc.length < MR * SMALL_W) buf.acc = new int[MR * SMALL_W];
        int[] acc = buf.acc;
        float[] f = buf.rows;
        for (int jw = j0; jw < j1; jw += SMALL_W) {
            int w = Math.min(SMALL_W, j1 - jw), wv = w / NR * NR;
            java.util.Arrays.fill(acc, 0, m * w, 0);
            for (int pc = 0; pc < t.k(); pc += KC) {
                int kc = Math.min(KC, t.k() - pc);
                java.util.Arrays.fill(f, 0, m * w, 0f);
                for (int p = pc; p < pc + kc; p++) {
                    long row = (long) p * t.n() + jw;
                    for (int r = 0; r < m; r++) {
                        byte ab = t.a().get(ValueLayout.JAVA_BYTE, t.aOff() + (long) (i0 + r) * t.lda() + p);
                        float av = t.signed() ? ab : ab & 0xFF;
                        FloatVector a = FloatVector.broadcast(S, av);
                        int base = r * w, j = 0;
                        for (; j < wv; j += NR) {
                            ByteVector v = ByteVector.fromMemorySegment(SB, t.w(), row + j, ORDER);
                            a.fma((FloatVector) v.convertShape(VectorOperators.B2F, S, 0), FloatVector.fromArray(S, f, base + j))
                                    .intoArray(f, base + j);
                            a.fma((FloatVector) v.convertShape(VectorOperators.B2F, S, 1), FloatVector.fromArray(S, f, base + j + L))
                                    .intoArray(f, base + j + L);
                        }
                        for (; j < w; j++) f[base + j] += av * t.w().get(ValueLayout.JAVA_BYTE, row + j);
                    }
                }
                for (int q = 0; q < m * w; q++) acc[q] += (int) f[q]; // exact integers below 2^24
            }
            epilogue(t, acc, w, i0, m, jw);
        }
    }

    /** A rows [ic, ic + mc) x [pc, pc + kc) as floats in MR-row panels (zero rows past mc). */
    private static void packA(Task t, int ic, int mc, int pc, int kc, float[] ap) {
        for (int i = 0, base = 0; i < mc; i += MR, base += MR * kc) {
            for (int r = 0; r < MR; r++) {
                if (i + r >= mc) {
                    for (int p = 0; p < kc; p++) ap[base + p * MR + r] = 0f;
                    continue;
                }
                long row = t.aOff() + (long) (ic + i + r) * t.lda() + pc;
                for (int p = 0; p < kc; p++) {
                    byte v = t.a().get(ValueLayout.JAVA_BYTE, row + p);
                    ap[base + p * MR + r] = t.signed() ? v : v & 0xFF;
                }
            }
        }
    }

    /** W rows [pc, pc + kc) x columns [jc, jc + nc) as floats in NR-column panels (zero columns past nc). */
    private static void convertB(Task t, int pc, int kc, int jc, int nc, float[] bp) {
        int full = nc / NR * NR;
        for (int p = 0; p < kc; p++) {
            long row = (long) (pc + p) * t.n() + jc;
            for (int j = 0; j < full; j += NR) {
                ByteVector v = ByteVector.fromMemorySegment(SB, t.w(), row + j, ORDER);
                int dst = j * kc + p * NR;
                ((FloatVector) v.convertShape(VectorOperators.B2F, S, 0)).intoArray(bp, dst);
                ((FloatVector) v.convertShape(VectorOperators.B2F, S, 1)).intoArray(bp, dst + L);
            }
        }
        if (full < nc) convertTail(t.w(), (long) pc * t.n() + jc + full, t.n(), kc, nc - full, bp, full * kc);
    }

    /**
     * The last, partial panel: {@code cols} columns of W from {@code at} (row stride n) and zeros to NR. Its own
     * method with plain counted loops: inlined into convertB's row loop, C2's profile-based loop predication
     * failed here again and again (45+ deoptimizations and recompiles of convertB, ~10 s at half speed).
     */
    private static void convertTail(MemorySegment w, long at, long n, int kc, int cols, float[] bp, int base) {
        for (int p = 0; p < kc; p++) {
            long row = at + p * n;
            int dst = base + p * NR;
            for (int col = 0; col < cols; col++) bp[dst + col] = w.get(ValueLayout.JAVA_BYTE, row + col);
            for (int col = cols; col < NR; col++) bp[dst + col] = 0f;
        }
    }

    /** acc block (mr x nr at accOff, row stride cols) = (first ? 0 : acc) + tile; exact integers both sides. */
    private static void accumulate(float[] tile, int[] acc, int accOff, int cols, int mr, int nr, boolean first) {
        for (int r = 0; r < mr; r++) {
            int dst = accOff + r * cols, v = 0;
            if (nr == NR) {
                for (; v < NR; v += L) {
                    IntVector x = (IntVector) FloatVector.fromArray(S, tile, r * NR + v).convert(VectorOperators.F2I, 0);
                    if (!first) x = x.add(IntVector.fromArray(SI, acc, dst + v));
                    x.intoArray(acc, dst + v);
                }
            }
            for (; v < nr; v++) acc[dst + v] = (first ? 0 : acc[dst + v]) + (int) tile[r * NR + v];
        }
    }

    /**
     * C rows [ic, ic + mc) x columns [j0, j0 + cols) from the finished accumulators: S32 and F32 outputs a
     * vector at a time (the same float operations as {@link Int8Epilogue}, lane by lane), the requantized
     * outputs and the tails element by element.
     */
    private static void epilogue(Task t, int[] acc, int cols, int ic, int mc, int j0) {
        int za = t.aq().zeroPoint();
        float sa = t.aq().scale();
        DType type = t.out().type();
        int vcols = cols / L * L;
        boolean quantized = type == DType.U8 || type == DType.S8;
        float so = t.out().scale(), flo = 0, fhi = 0;
        int zo = 0;
        if (quantized) { // the clamp of Int8Epilogue.store, in the float domain
            boolean s8 = type == DType.S8;
            zo = t.out().zeroPoint();
            int lo = s8 ? -128 : 0, hi = s8 ? 127 : 255;
            if (t.out().relu()) lo = Math.max(lo, zo);
            flo = lo - zo;
            fhi = hi - zo;
        }
        for (int r = 0; r < mc; r++) {
            long crow = t.cOff() + (long) (ic + r) * t.ldc();
            for (int j = 0; j < vcols; j += L) {
                long col = j0 + j;
                IntVector v = IntVector.fromArray(SI, acc, r * cols + j)
                        .sub(IntVector.fromMemorySegment(SI, t.colsums(), col * 4, ORDER).mul(za));
                if (type == DType.S32) {
                    v.intoMemorySegment(t.c(), (crow + col) * 4, ORDER);
                    continue;
                }
                if (quantized) {
                    storeQuantized(t, v, col, crow + col, sa, so, flo, fhi, zo);
                    continue;
                }
                FloatVector mult = FloatVector.broadcast(S, sa).mul(FloatVector.fromMemorySegment(S, t.scales(), col * 4, ORDER));
                FloatVector b = t.bias() == null ? FloatVector.zero(S)
                        : FloatVector.fromMemorySegment(S, t.bias(), (t.biasOff() + col) * 4, ORDER);
                FloatVector y = ((FloatVector) v.convert(VectorOperators.I2F, 0)).fma(mult, b);
                if (t.out().relu()) y = y.blend(0f, y.lt(0f));
                y.intoMemorySegment(t.c(), (crow + col) * 4, ORDER);
            }
            for (int j = vcols; j < cols; j++) {
                int col = j0 + j;
                int v = acc[r * cols + j] - za * t.colsums().getAtIndex(ValueLayout.JAVA_INT, col);
                float b = t.bias() == null ? 0f : t.bias().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, t.biasOff() + col);
                Int8Epilogue.store(t.out(), t.c(), crow + col, v, sa, t.scales().getAtIndex(ValueLayout.JAVA_FLOAT, col), b);
            }
        }
    }

    /** 2^23 + 2^22: adding and subtracting it rounds a float of magnitude below 2^22 to an integer, half to even. */
    private static final float ROUNDER = 12582912f;
    private static final VectorSpecies<Byte> BYTES = ByteVector.SPECIES_64;
    private static final VectorMask<Byte> LANES = BYTES.indexInRange(0, L);

    /**
     * L requantized outputs at byte index {@code at}: Int8Epilogue.store's float operations lane by lane (the same
     * fma, clamps as compare-and-select, so NaN goes to the lower bound as there, and round half to even).
     */
    private static void storeQuantized(Task t, IntVector v, long col, long at, float sa, float so, float flo, float fhi, int zo) {
        FloatVector mult = FloatVector.broadcast(S, sa).mul(FloatVector.fromMemorySegment(S, t.scales(), col * 4, ORDER)).div(so);
        FloatVector b = t.bias() == null ? FloatVector.zero(S)
                : FloatVector.fromMemorySegment(S, t.bias(), (t.biasOff() + col) * 4, ORDER).div(so);
        FloatVector y = ((FloatVector) v.convert(VectorOperators.I2F, 0)).fma(mult, b);
        y = FloatVector.broadcast(S, flo).blend(y, y.compare(VectorOperators.GT, flo));
        y = FloatVector.broadcast(S, fhi).blend(y, y.compare(VectorOperators.LT, fhi));
        y = y.add(ROUNDER).sub(ROUNDER);
        IntVector q = ((IntVector) y.convert(VectorOperators.F2I, 0)).add(zo);
        ((ByteVector) q.convertShape(VectorOperators.I2B, BYTES, 0)).intoMemorySegment(t.c(), at, ORDER, LANES);
    }

    private static MemorySegment seg(Storage s) {
        return ((HostStorage) s).segment();
    }
}
