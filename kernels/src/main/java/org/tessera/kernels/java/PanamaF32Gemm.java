package org.tessera.kernels.java;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;
import org.tessera.kernels.GemmGrid;
import org.tessera.kernels.HostStorage;
import org.tessera.kernels.MemoryKind;
import org.tessera.kernels.Storage;
import org.tessera.kernels.WorkerPool;
import org.tessera.kernels.spi.CheckedF32Gemm;
import org.tessera.kernels.spi.PackedF32;

/**
 * Vector API GEMM ({@code f32_gemm_4xNR__panama<bits>}, NR = two vectors: 4x16 at 256 bits): the native
 * kernel's algorithm in Java. A and B are packed into per-thread heap arrays (MC x KC and KC x NC blocks,
 * sized as in {@code native/cpu/f32-gemm-6x16-avx2.c}); a 4 x NR microkernel keeps 8 accumulators in
 * vector registers. Why 4 rows, not the native 6: C2 loads every A broadcast of a step before the FMAs,
 * so 6 rows need 12 + 2 + 6 > 16 YMM registers and it spills an accumulator, which puts a store-to-load
 * round trip on the critical path (measured: ~30 GFLOP/s); 4 rows need 8 + 2 + 4 and reach ~64 here. Small m takes the same streaming forms as the native small-m kernel. C is split over
 * the worker pool with {@link GemmGrid}. Loaded reflectively (names {@code jdk.incubator.vector}).
 */
final class PanamaF32Gemm extends CheckedF32Gemm {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    static final int MR = 4, NR = 2 * L, KC = 256, MC = 144, NC = 4080 / NR * NR;
    private static final int SMALL_M_PLAIN_B = 8, SMALL_M_TRANSPOSED_B = 16;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

    /** Per-thread packing buffers, allocated once per thread. */
    private static final ThreadLocal<float[]> TILE = ThreadLocal.withInitial(() -> new float[MR * NR]);
    private static final ThreadLocal<float[][]> BUFFERS = ThreadLocal.withInitial(() -> new float[][] {
            new float[MC * KC], new float[KC * NC], new float[SmallM.ACC_FLOATS]});

    PanamaF32Gemm() {
        super(MemoryKind.HOST);
    }

    @Override
    public String kernelId() {
        return "f32_gemm_" + MR + "x" + NR + "__panama" + S.vectorBitSize();
    }

    @Override
    public String kernelId(int m, int n, int k) {
        return m <= SMALL_M_PLAIN_B ? "f32_gemm_smallm__panama" + S.vectorBitSize() : kernelId();
    }

    @Override
    protected void run(boolean transA, boolean transB, int m, int n, int k, float alpha, Storage a, long aOffset, long lda,
                       Storage b, long bOffset, long ldb, float beta, Storage c, long cOffset, long ldc,
                       Storage bias, long biasOffset, boolean relu) {
        MemorySegment as = seg(a), bs = seg(b), cs = seg(c), biass = bias == null ? null : seg(bias);
        boolean small = m <= (transB ? SMALL_M_TRANSPOSED_B : SMALL_M_PLAIN_B);
        GemmGrid grid = GemmGrid.plan(m, n, k, WorkerPool.shared().threads(), small ? m : MR, NR);
        WorkerPool.shared().parallelFor(grid.tasks(), t -> {
            int i0 = grid.rowStart(t), i1 = grid.rowEnd(t), j0 = grid.colStart(t), j1 = grid.colEnd(t);
            if (i0 >= i1 || j0 >= j1) return;
            Operands o = new Operands(transA, transB, as, aOffset + (transA ? i0 : i0 * lda), lda, bs,
                    bOffset + (transB ? j0 * ldb : j0), ldb, cs, cOffset + i0 * ldc + j0, ldc, biass,
                    biass == null ? 0 : biasOffset + j0, relu, alpha, beta);
            if (small) SmallM.run(o, i1 - i0, j1 - j0, k, BUFFERS.get()[2]);
            else blocked(o, i1 - i0, j1 - j0, k, BUFFERS.get());
        });
    }

    /** A task's operands: segments, element offsets of its block, strides, epilogue. */
    record Operands(boolean transA, boolean transB, MemorySegment a, long aOff, long lda, MemorySegment b, long bOff, long ldb,
                    MemorySegment c, long cOff, long ldc, MemorySegment bias, long biasOff, boolean relu, float alpha, float beta) {}

    // ---- blocked path --------------------------------------------------------------------------------

    private static void blocked(Operands o, int m, int n, int k, float[][] buffers) {
        if (k == 0 || o.alpha() == 0f) {
            scaleOnly(o, m, n);
            return;
        }
        float[] ap = buffers[0], bp = buffers[1];
        // ic outside pc (not BLIS's pc outside ic): the C block is read and written once per KC step, and
        // with ic outside those passes hit cache instead of memory. It costs packing B again per row block
        // (m / MC times), which measured cheaper here: 1024^3 ~48 -> ~55-63, 2048^3 ~44 -> ~56-62 GFLOP/s.
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc);
            for (int ic = 0; ic < m; ic += MC) {
                int mc = Math.min(MC, m - ic);
                for (int pc = 0; pc < k; pc += KC) {
                    int kc = Math.min(KC, k - pc);
                    packB(o.transB(), kc, nc, o.b(), o.transB() ? o.bOff() + jc * o.ldb() + pc : o.bOff() + pc * o.ldb() + jc, o.ldb(), bp, 0);
                    boolean first = pc == 0, last = pc + kc == k;
                    packA(o.transA(), mc, kc, o.a(), o.transA() ? o.aOff() + pc * o.lda() + ic : o.aOff() + ic * o.lda() + pc, o.lda(), ap);
                    macroKernel(o, mc, nc, kc, ap, bp, 0, o.cOff() + ic * o.ldc() + jc, jc, first, last);
                }
            }
        }
    }

    /** Packed A: MR-row micro-panels, ap[panel * MR * kc + p * MR + r] = A[panel * MR + r][p], zero-padded rows. */
    private static void packA(boolean trans, int mc, int kc, MemorySegment a, long off, long lda, float[] ap) {
        for (int i = 0, base = 0; i < mc; i += MR, base += MR * kc) {
            int rows = Math.min(MR, mc - i);
            for (int r = 0; r < MR; r++) {
                if (r >= rows) {
                    for (int p = 0; p < kc; p++) ap[base + p * MR + r] = 0f;
                } else if (trans) {
                    for (int p = 0; p < kc; p++) ap[base + p * MR + r] = a.getAtIndex(F32, off + p * lda + i + r);
                } else {
                    long row = off + (i + r) * lda;
                    for (int p = 0; p < kc; p++) ap[base + p * MR + r] = a.getAtIndex(F32, row + p);
                }
            }
        }
    }

    /** Packed B: NR-column micro-panels, bp[panel * NR * kc + p * NR + col], zero-padded columns. */
    static void packB(boolean trans, int kc, int nc, MemorySegment b, long off, long ldb, float[] bp, int bpOff) {
        int full = trans ? 0 : nc / NR * NR;
        // Plain B, whole panels: 8 rows at a time across the width, so the source is read as 8 sequential
        // streams (panel by panel would read NR floats per row at stride ldb, which is slow for large ldb).
        for (int p0 = 0; p0 < kc; p0 += 8) {
            int rows = Math.min(8, kc - p0);
            for (int j = 0; j < full; j += NR) {
                int dst = bpOff + j * kc + p0 * NR;
                for (int r = 0; r < rows; r++) {
                    long src = (off + (p0 + r) * ldb + j) * 4;
                    FloatVector.fromMemorySegment(S, b, src, ORDER).intoArray(bp, dst + r * NR);
                    FloatVector.fromMemorySegment(S, b, src + 4L * L, ORDER).intoArray(bp, dst + r * NR + L);
                }
            }
        }
        for (int j = full; j < nc; j += NR) { // transposed B, and the partial last panel
            int cols = Math.min(NR, nc - j), base = bpOff + j * kc;
            for (int col = 0; col < NR; col++) {
                for (int p = 0; p < kc; p++) {
                    bp[base + p * NR + col] = col >= cols ? 0f
                            : b.getAtIndex(F32, trans ? off + (j + col) * ldb + p : off + p * ldb + j + col);
                }
            }
        }
    }

    /** All micro-tiles of an (mc x nc) block; bpOff: first panel; cOff: C element of the block; biasCol: bias column. */
    private static void macroKernel(Operands o, int mc, int nc, int kc, float[] ap, float[] bp, int bpOff, long cOff,
                                    int biasCol, boolean first, boolean last) {
        for (int j = 0; j < nc; j += NR) {
            int nr = Math.min(NR, nc - j);
            for (int i = 0; i < mc; i += MR) {
                microKernel(o, kc, ap, i * kc, bp, bpOff + j * kc, cOff + i * o.ldc() + j, Math.min(MR, mc - i), nr,
                        biasCol + j, first, last);
            }
        }
    }

    /** C tile (mr x nr) from kc steps of packed A (MR per step) and packed B (NR per step), then the epilogue. */
    private static void microKernel(Operands o, int kc, float[] ap, int ai, float[] bp, int bi, long cOff, int mr, int nr,
                                    int biasCol, boolean first, boolean last) {
        epilogue(o, multiplyTile(kc, ap, ai, bp, bi), cOff, mr, nr, biasCol, first, last);
    }

    /**
     * The (MR x NR) product of kc steps of packed A (MR per step) and packed B (NR per step), 8 accumulators,
     * returned in this thread's tile array (row r at r * NR).
     */
    static float[] multiplyTile(int kc, float[] ap, int ai, float[] bp, int bi) {
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
        FloatVector c30 = c00, c31 = c00;
        // Indices are affine in p (not separately incremented) so C2 can hoist the range checks out of the loop.
        for (int p = 0; p < kc; p++) {
            int ia = ai + p * MR, ib = bi + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, bp, ib), b1 = FloatVector.fromArray(S, bp, ib + L);
            FloatVector a = FloatVector.broadcast(S, ap[ia]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(S, ap[ia + 1]);
            c10 = a.fma(b0, c10);
            c11 = a.fma(b1, c11);
            a = FloatVector.broadcast(S, ap[ia + 2]);
            c20 = a.fma(b0, c20);
            c21 = a.fma(b1, c21);
            a = FloatVector.broadcast(S, ap[ia + 3]);
            c30 = a.fma(b0, c30);
            c31 = a.fma(b1, c31);
        }
        // Accumulators go to a tile array, not into calls: a vector passed to a method C2 does not inline gets
        // boxed, and boxing in this method would cost more than the arithmetic.
        float[] tile = TILE.get();
        c00.intoArray(tile, 0);
        c01.intoArray(tile, L);
        c10.intoArray(tile, NR);
        c11.intoArray(tile, NR + L);
        c20.intoArray(tile, 2 * NR);
        c21.intoArray(tile, 2 * NR + L);
        c30.intoArray(tile, 3 * NR);
        c31.intoArray(tile, 3 * NR + L);
        return tile;
    }

    /** C tile = act(alpha * ab + (first ? beta * C : C) + bias), ab the (MR x NR) tile array; masked at the right edge. */
    private static void epilogue(Operands o, float[] tile, long cOff, int mr, int nr, int biasCol, boolean first, boolean last) {
        MemorySegment c = o.c();
        FloatVector alpha = FloatVector.broadcast(S, o.alpha()), beta = FloatVector.broadcast(S, o.beta());
        boolean readC = !first || o.beta() != 0f; // beta == 0 ignores what C held, NaN included
        for (int r = 0; r < mr; r++) {
            for (int v = 0; v < NR && v < nr; v += L) {
                // Whole vectors load and store unmasked: masked stores (vmaskmovps) are slow on AMD, and C2
                // cannot drop an all-true mask it does not know statically.
                boolean whole = v + L <= nr;
                VectorMask<Float> mask = whole ? null : S.indexInRange(v, nr);
                long off = (cOff + r * o.ldc() + v) * 4;
                FloatVector x = FloatVector.fromArray(S, tile, r * NR + v).mul(alpha);
                if (readC) {
                    FloatVector cv = whole ? FloatVector.fromMemorySegment(S, c, off, ORDER)
                            : FloatVector.fromMemorySegment(S, c, off, ORDER, mask);
                    x = first ? cv.fma(beta, x) : x.add(cv);
                }
                if (last) {
                    if (o.bias() != null) {
                        long boff = (o.biasOff() + biasCol + v) * 4;
                        x = x.add(whole ? FloatVector.fromMemorySegment(S, o.bias(), boff, ORDER)
                                : FloatVector.fromMemorySegment(S, o.bias(), boff, ORDER, mask));
                    }
                    if (o.relu()) x = x.max(0f); // lanewise Math.max: NaN stays NaN
                }
                if (whole) x.intoMemorySegment(c, off, ORDER);
                else x.intoMemorySegment(c, off, ORDER, mask);
            }
        }
    }

    /** C = act(beta * C + bias) when there is no product (k == 0 or alpha == 0). */
    static void scaleOnly(Operands o, int m, int n) {
        for (int i = 0; i < m; i++) {
            long row = o.cOff() + i * o.ldc();
            for (int j = 0; j < n; j++) {
                float x = o.beta() == 0f ? 0f : o.beta() * o.c().getAtIndex(F32, row + j);
                if (o.bias() != null) x += o.bias().getAtIndex(F32, o.biasOff() + j);
                if (o.relu() && !(x > 0f) && !Float.isNaN(x)) x = 0f;
                o.c().setAtIndex(F32, row + j, x);
            }
        }
    }

    // ---- pre-packed B ----------------------------------------------------------------------------------

    /** Packed B covers all of (k x n) in KC-row blocks: block at pc * npad, micro-panel j at j * kcb within it. */
    @Override
    protected PackedF32 runPack(boolean transB, int k, int n, Storage b, long bOffset, long ldb) {
        int npad = (n + NR - 1) / NR * NR;
        float[] packed = new float[Math.multiplyExact(k, npad)];
        for (int pc = 0; pc < k; pc += KC) {
            int kc = Math.min(KC, k - pc);
            packB(transB, kc, n, seg(b), transB ? bOffset + pc : bOffset + pc * ldb, ldb, packed, pc * npad);
        }
        HostStorage s = HostStorage.allocate(4L * packed.length);
        MemorySegment.copy(packed, 0, s.segment(), F32, 0, packed.length);
        return new PackedF32(this, k, n, s);
    }

    @Override
    protected void runPacked(boolean transA, int m, float alpha, Storage a, long aOffset, long lda, PackedF32 b, float beta,
                             Storage c, long cOffset, long ldc, Storage bias, long biasOffset, boolean relu) {
        int n = b.n(), k = b.k(), npad = (n + NR - 1) / NR * NR;
        MemorySegment as = seg(a), cs = seg(c), biass = bias == null ? null : seg(bias), packed = seg(b.storage());
        GemmGrid grid = GemmGrid.plan(m, n, k, WorkerPool.shared().threads(), MR, NR);
        WorkerPool.shared().parallelFor(grid.tasks(), t -> {
            int i0 = grid.rowStart(t), i1 = grid.rowEnd(t), j0 = grid.colStart(t), j1 = grid.colEnd(t);
            if (i0 >= i1 || j0 >= j1) return;
            Operands o = new Operands(transA, false, as, aOffset + (transA ? i0 : i0 * lda), lda, null, 0, 0, cs,
                    cOffset + i0 * ldc, ldc, biass, biasOffset, relu, alpha, beta);
            float[][] buffers = BUFFERS.get();
            if (k == 0 || alpha == 0f) {
                scaleOnly(new Operands(transA, false, as, 0, lda, null, 0, 0, cs, cOffset + i0 * ldc + j0, ldc, biass,
                        biasOffset + j0, relu, alpha, beta), i1 - i0, j1 - j0);
                return;
            }
            float[] ap = buffers[0], bp = buffers[1];
            for (int jc = j0; jc < j1; jc += NC) {
                int nc = Math.min(NC, j1 - jc);
                for (int ic = 0; ic < i1 - i0; ic += MC) { // C block (mc x nc) stays cached across all of k
                    int mc = Math.min(MC, i1 - i0 - ic);
                    for (int pc = 0; pc < k; pc += KC) {
                        int kc = Math.min(KC, k - pc);
                        // This chunk's panels of the packed block, copied into the heap buffer the microkernel reads.
                        MemorySegment.copy(packed, F32, 4L * ((long) pc * npad + (long) jc * kc), bp, 0, (nc + NR - 1) / NR * NR * kc);
                        packA(transA, mc, kc, as, transA ? o.aOff() + pc * lda + ic : o.aOff() + ic * lda + pc, lda, ap);
                        macroKernel(o, mc, nc, kc, ap, bp, 0, o.cOff() + ic * ldc + jc, jc, pc == 0, pc + kc == k);
                    }
                }
            }
        });
    }

    private static MemorySegment seg(Storage s) {
        return ((HostStorage) s).segment();
    }

    /** The no-packing paths for small m, as in {@code native/cpu/f32-gemm-smallm-avx2.c}. */
    static final class SmallM {
        static final int ACC_FLOATS = 16384;

        private SmallM() {}

        static void run(Operands o, int m, int n, int k, float[] acc) {
            if (k == 0 || o.alpha() == 0f) scaleOnly(o, m, n);
            else if (o.transB()) dotProducts(o, m, n, k);
            else rowStreaming(o, m, n, k, acc);
        }

        /** Plain B: each row of B, W columns at a time, is added into an m x W accumulator chunk. */
        private static void rowStreaming(Operands o, int m, int n, int k, float[] acc) {
            int w0 = ACC_FLOATS / m / L * L;
            MemorySegment a = o.a(), b = o.b();
            long aRow = o.transA() ? 1 : o.lda(), aCol = o.transA() ? o.lda() : 1;
            for (int j0 = 0; j0 < n; j0 += w0) {
                int w = Math.min(w0, n - j0), wv = w / L * L;
                Arrays.fill(acc, 0, m * w0, 0f);
                for (int p = 0; p < k; p++) {
                    long brow = o.bOff() + p * o.ldb() + j0;
                    for (int r = 0; r < m; r++) {
                        float av = a.getAtIndex(F32, o.aOff() + r * aRow + p * aCol);
                        FloatVector avv = FloatVector.broadcast(S, av);
                        int base = r * w0, j = 0;
                        for (; j < wv; j += L) {
                            FloatVector.fromMemorySegment(S, b, (brow + j) * 4, ORDER)
                                    .fma(avv, FloatVector.fromArray(S, acc, base + j)).intoArray(acc, base + j);
                        }
                        for (; j < w; j++) acc[base + j] += av * b.getAtIndex(F32, brow + j);
                    }
                }
                for (int r = 0; r < m; r++) finishRow(o, acc, r * w0, o.cOff() + r * o.ldc() + j0, j0, w);
            }
        }

        /** Transposed B: C[r][j] = dot(A row r, stored row j), 4 stored rows at a time. */
        private static void dotProducts(Operands o, int m, int n, int k) {
            MemorySegment a = o.a(), b = o.b();
            long aRow = o.transA() ? 1 : o.lda(), aCol = o.transA() ? o.lda() : 1;
            int kv = o.transA() ? 0 : k / L * L; // a transposed A has no contiguous rows: scalar
            for (int j = 0; j < n; j += 4) {
                int jn = Math.min(4, n - j);
                long b0 = o.bOff() + j * o.ldb();
                for (int r = 0; r < m; r++) {
                    long ar = o.aOff() + r * aRow;
                    FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
                    for (int p = 0; p < kv; p += L) {
                        FloatVector av = FloatVector.fromMemorySegment(S, a, (ar + p) * 4, ORDER);
                        s0 = av.fma(FloatVector.fromMemorySegment(S, b, (b0 + p) * 4, ORDER), s0);
                        if (jn > 1) s1 = av.fma(FloatVector.fromMemorySegment(S, b, (b0 + o.ldb() + p) * 4, ORDER), s1);
                        if (jn > 2) s2 = av.fma(FloatVector.fromMemorySegment(S, b, (b0 + 2 * o.ldb() + p) * 4, ORDER), s2);
                        if (jn > 3) s3 = av.fma(FloatVector.fromMemorySegment(S, b, (b0 + 3 * o.ldb() + p) * 4, ORDER), s3);
                    }
                    float d0 = sumLanes(s0), d1 = sumLanes(s1), d2 = sumLanes(s2), d3 = sumLanes(s3);
                    for (int p = kv; p < k; p++) {
                        float av = a.getAtIndex(F32, ar + p * aCol);
                        d0 += av * b.getAtIndex(F32, b0 + p);
                        if (jn > 1) d1 += av * b.getAtIndex(F32, b0 + o.ldb() + p);
                        if (jn > 2) d2 += av * b.getAtIndex(F32, b0 + 2 * o.ldb() + p);
                        if (jn > 3) d3 += av * b.getAtIndex(F32, b0 + 3 * o.ldb() + p);
                    }
                    for (int q = 0; q < jn; q++) {
                        long ci = o.cOff() + r * o.ldc() + j + q;
                        float x = o.alpha() * (q == 0 ? d0 : q == 1 ? d1 : q == 2 ? d2 : d3);
                        if (o.beta() != 0f) x += o.beta() * o.c().getAtIndex(F32, ci);
                        if (o.bias() != null) x += o.bias().getAtIndex(F32, o.biasOff() + j + q);
                        if (o.relu() && !(x > 0f) && !Float.isNaN(x)) x = 0f;
                        o.c().setAtIndex(F32, ci, x);
                    }
                }
            }
        }

        /** Lane i + s added to lane i, for s = L/2, L/4, ..., 1: a fixed summation tree. */
        @SuppressWarnings("unchecked")
        private static final VectorShuffle<Float>[] FOLDS = new VectorShuffle[Integer.numberOfTrailingZeros(L)];

        static {
            for (int i = 0, s = L / 2; s >= 1; i++, s /= 2) FOLDS[i] = VectorShuffle.iota(S, s, 1, true);
        }

        /**
         * The sum of v's lanes in one fixed order. Not {@code reduceLanes(ADD)}: its order is the implementation's
         * and differs between the interpreter, C1 and C2, so a result changed in its last bits as the JIT warmed up.
         */
        static float sumLanes(FloatVector v) {
            for (VectorShuffle<Float> fold : FOLDS) v = v.add(v.rearrange(fold));
            return v.lane(0);
        }

        /** C row = act(alpha * acc + beta * C + bias) over w columns. */
        private static void finishRow(Operands o, float[] acc, int accOff, long cOff, int col, int w) {
            for (int j = 0; j < w; j++) {
                float x = o.alpha() * acc[accOff + j];
                if (o.beta() != 0f) x += o.beta() * o.c().getAtIndex(F32, cOff + j);
                if (o.bias() != null) x += o.bias().getAtIndex(F32, o.biasOff() + col + j);
                if (o.relu() && !(x > 0f) && !Float.isNaN(x)) x = 0f;
                o.c().setAtIndex(F32, cOff + j, x);
            }
        }
    }
}
