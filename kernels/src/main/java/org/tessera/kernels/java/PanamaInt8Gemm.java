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
 * with FMAs. u8 activations are widened as q - 128, so every product is at most 128 * 128 and every partial
 * sum of a KC block an integer below {@code 256 * 2^14 = 2^22}: float arithmetic is exact there. Each block's
 * tile is converted to int and added to s32 sums that start at the zero-point terms (-za * colsum(W)).
 * Weights stay s8 in memory (the plain layout) and are converted to the f32 kernel's panel layout per call,
 * once; A rows are converted per block without interleaving (the microkernel reads four row streams).
 */
final class PanamaInt8Gemm extends CheckedInt8Gemm {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final VectorSpecies<Integer> SI = VectorSpecies.of(int.class, S.vectorShape());
    private static final int MR = PanamaF32Gemm.MR, NR = PanamaF32Gemm.NR, KC = PanamaF32Gemm.KC, MC = PanamaF32Gemm.MC;
    /** NR bytes: one row of a B panel (or NR bytes of an A row), widened in two halves to two float vectors. */
    private static final VectorSpecies<Byte> SB = VectorSpecies.of(byte.class, VectorShape.forBitSize(NR * 8));
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    /** Per-thread buffers: packed A (float), B block (float), s32 accumulators (grown when a block needs more). */
    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

    private static final class Buffers {
        final float[] ap = new float[MC * KC], panel = new float[KC * NR], rows = new float[MR * SMALL_W], tile = new float[MR * NR];
        float[] bp = new float[0];
        int[] acc = new int[0], zp = new int[0];

        /**
         * -za * colsum(W) for columns [j0, j0 + cols): sum over p of (a - za) * w = sum of a * w + these. Wraps
         * like the sums themselves, so the result is exact whenever it fits s32.
         */
        int[] zeroPointSums(Task t, int za, int j0, int cols) {
            if (zp.length < cols) zp = new int[cols];
            for (int j = 0; j < cols; j++) zp[j] = -za * t.colsums().getAtIndex(ValueLayout.JAVA_INT, j0 + j);
            return zp;
        }
    }

    /** W converted to float per column chunk of the blocked path: k x chunk floats, at most 4 MiB (one NR panel at least). */
    private static final int B_FLOATS = 1 << 20;
    /** s32 sums of one row block and column chunk (MC x chunk): 256 KiB, half of this CPU's L2. */
    private static final int ACC_INTS = 1 << 16;
    /** u8 activations are widened as q - 128 (see convertA). */
    private static final int U8_SHIFT = 128;

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

    /**
     * Rows [i0, i1) x columns [j0, j1) of C in the f32 kernel's order (column chunks, row blocks of MC, KC steps),
     * with s32 sums for one row block and chunk (at most {@link #ACC_INTS}, so they stay in L2 across the KC
     * steps; in L3 each tile's read of them stalls: -12% at 1024^3). W is converted to float once per call:
     * with several row blocks, a chunk's k x chunk floats at a time, shared by the blocks (converting per block
     * cost ~9% at 512^3); with one block, each panel right before its use, into an L1 buffer.
     */
    private static void block(Task t, int i0, int i1, int j0, int j1, Buffers buf) {
        int k = t.k(), cols = j1 - j0;
        boolean shared = i1 - i0 > MC;
        int limit = Math.min(ACC_INTS / MC, shared ? B_FLOATS / Math.max(k, 1) : Integer.MAX_VALUE);
        int chunk = Math.min(cols, Math.max(NR, limit / NR * NR)), padded = (chunk + NR - 1) / NR * NR;
        if (buf.acc.length < MC * chunk) buf.acc = new int[MC * chunk];
        if (shared && buf.bp.length < k * padded) buf.bp = new float[k * padded];
        int[] acc = buf.acc, zp = buf.zeroPointSums(t, t.aq().zeroPoint() - (t.signed() ? 0 : U8_SHIFT), j0, cols);
        for (int jc = j0; jc < j1; jc += chunk) {
            int nc = Math.min(chunk, j1 - jc), ncPad = (nc + NR - 1) / NR * NR, z = jc - j0;
            if (shared) for (int pc = 0; pc < k; pc += KC) convertB(t, pc, Math.min(KC, k - pc), jc, nc, buf.bp, pc * ncPad);
            for (int ic = i0; ic < i1; ic += MC) {
                int mc = Math.min(MC, i1 - ic);
                if (k == 0) for (int r = 0; r < mc; r++) System.arraycopy(zp, z, acc, r * nc, nc);
                for (int pc = 0; pc < k; pc += KC) {
                    int kc = Math.min(KC, k - pc);
                    convertA(t, ic, mc, pc, kc, buf.ap);
                    for (int jr = 0; jr < nc; jr += NR) {
                        int nr = Math.min(NR, nc - jr), bi = 0;
                        float[] b = buf.panel;
                        if (shared) {
                            b = buf.bp;
                            bi = pc * ncPad + jr * kc;
                        } else {
                            convertB(t, pc, kc, jc + jr, nr, b, 0);
                        }
                        for (int ir = 0; ir < mc; ir += MR) {
                            float[] tile = multiplyRows(kc, buf.ap, ir * kc, b, bi, buf.tile);
                            accumulate(tile, acc, ir * nc + jr, nc, Math.min(MR, mc - ir), nr, pc == 0 ? zp : null, z + jr);
                        }
                    }
                }
                epilogue(t, acc, 0, nc, ic, mc, jc, nc);
            }
        }
    }

    /**
     * The (MR x NR) product of kc steps of A rows (row-major floats, row r at ai + r * kc) and a packed B panel
     * (NR per step), into {@code tile}. The f32 microkernel's 8 FMA chains; A is read from four row streams
     * instead of an interleaved panel, so converting A is a plain vector widening with no transposition.
     * Not shared with {@code PanamaF32Gemm.multiplyTile}: one loop for both would need the A strides as
     * arguments, and C2 hoists array range checks out of a loop only when the index scale is a constant.
     */
    private static float[] multiplyRows(int kc, float[] ap, int ai, float[] bp, int bi, float[] tile) {
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
        FloatVector c30 = c00, c31 = c00;
        int a1 = ai + kc, a2 = a1 + kc, a3 = a2 + kc;
        for (int p = 0; p < kc; p++) {
            int ib = bi + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, bp, ib), b1 = FloatVector.fromArray(S, bp, ib + L);
            FloatVector a = FloatVector.broadcast(S, ap[ai + p]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(S, ap[a1 + p]);
            c10 = a.fma(b0, c10);
            c11 = a.fma(b1, c11);
            a = FloatVector.broadcast(S, ap[a2 + p]);
            c20 = a.fma(b0, c20);
            c21 = a.fma(b1, c21);
            a = FloatVector.broadcast(S, ap[a3 + p]);
            c30 = a.fma(b0, c30);
            c31 = a.fma(b1, c31);
        }
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

    /**
     * m <= MR (batch-1 inference): W is streamed once in storage order, a byte per weight, converted on
     * the fly; no packing. Per KC rows of W the float sums stay exact, then go into the s32 sums.
     */
    private static void smallM(Task t, int i0, int m, int j0, int j1, Buffers buf) {
        if (buf.acc.length < MR * SMALL_W) buf.acc = new int[MR * SMALL_W];
        int[] acc = buf.acc, zp = buf.zeroPointSums(t, t.aq().zeroPoint(), j0, j1 - j0);
        float[] f = buf.rows;
        for (int jw = j0; jw < j1; jw += SMALL_W) {
            int w = Math.min(SMALL_W, j1 - jw), wv = w / NR * NR;
            for (int r = 0; r < m; r++) System.arraycopy(zp, jw - j0, acc, r * w, w);
            for (int pc = 0; pc < t.k(); pc += KC) {
                int kc = Math.min(KC, t.k() - pc);
                java.util.Arrays.fill(f, 0, m * w, 0f);
                // Four rows of W per pass over the sums: a quarter of the float sums' loads and stores.
                int p = pc;
                for (; p + 4 <= pc + kc; p += 4) {
                    long row = (long) p * t.n() + jw;
                    for (int r = 0; r < m; r++) {
                        long at = t.aOff() + (long) (i0 + r) * t.lda() + p;
                        float a0 = activation(t, at), a1 = activation(t, at + 1), a2 = activation(t, at + 2), a3 = activation(t, at + 3);
                        int base = r * w;
                        addFourRows(t.w(), row, t.n(), a0, a1, a2, a3, f, base, wv);
                        for (int j = wv; j < w; j++) {
                            f[base + j] += a0 * t.w().get(ValueLayout.JAVA_BYTE, row + j) + a1 * t.w().get(ValueLayout.JAVA_BYTE, row + t.n() + j)
                                    + a2 * t.w().get(ValueLayout.JAVA_BYTE, row + 2L * t.n() + j)
                                    + a3 * t.w().get(ValueLayout.JAVA_BYTE, row + 3L * t.n() + j);
                        }
                    }
                }
                for (; p < pc + kc; p++) {
                    long row = (long) p * t.n() + jw;
                    for (int r = 0; r < m; r++) {
                        float av = activation(t, t.aOff() + (long) (i0 + r) * t.lda() + p);
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
            epilogue(t, acc, 0, w, i0, m, jw, w);
        }
    }

    /** The activation byte at {@code at} as the float of its value (u8 or s8). */
    private static float activation(Task t, long at) {
        byte v = t.a().get(ValueLayout.JAVA_BYTE, at);
        return t.signed() ? v : v & 0xFF;
    }

    /**
     * f[base + j] += a0 * W[row][j] + ... + a3 * W[row + 3n][j] for j < wv (a multiple of NR): each NR columns'
     * sums are loaded and stored once for the four rows. Exact: the float sums stay integers below 2^24.
     */
    private static void addFourRows(MemorySegment w, long row, long n, float a0, float a1, float a2, float a3, float[] f, int base, int wv) {
        FloatVector x0 = FloatVector.broadcast(S, a0), x1 = FloatVector.broadcast(S, a1);
        FloatVector x2 = FloatVector.broadcast(S, a2), x3 = FloatVector.broadcast(S, a3);
        for (int j = 0; j < wv; j += NR) {
            ByteVector v0 = ByteVector.fromMemorySegment(SB, w, row + j, ORDER), v1 = ByteVector.fromMemorySegment(SB, w, row + n + j, ORDER);
            ByteVector v2 = ByteVector.fromMemorySegment(SB, w, row + 2 * n + j, ORDER);
            ByteVector v3 = ByteVector.fromMemorySegment(SB, w, row + 3 * n + j, ORDER);
            FloatVector lo = FloatVector.fromArray(S, f, base + j), hi = FloatVector.fromArray(S, f, base + j + L);
            lo = x0.fma((FloatVector) v0.convertShape(VectorOperators.B2F, S, 0), lo);
            hi = x0.fma((FloatVector) v0.convertShape(VectorOperators.B2F, S, 1), hi);
            lo = x1.fma((FloatVector) v1.convertShape(VectorOperators.B2F, S, 0), lo);
            hi = x1.fma((FloatVector) v1.convertShape(VectorOperators.B2F, S, 1), hi);
            lo = x2.fma((FloatVector) v2.convertShape(VectorOperators.B2F, S, 0), lo);
            hi = x2.fma((FloatVector) v2.convertShape(VectorOperators.B2F, S, 1), hi);
            lo = x3.fma((FloatVector) v3.convertShape(VectorOperators.B2F, S, 0), lo);
            hi = x3.fma((FloatVector) v3.convertShape(VectorOperators.B2F, S, 1), hi);
            lo.intoArray(f, base + j);
            hi.intoArray(f, base + j + L);
        }
    }

    /**
     * A rows [ic, ic + mc) x [pc, pc + kc) as floats, row-major (row stride kc), zero rows up to a multiple of MR.
     * u8 values are stored as q - 128 (the sign bit flipped: one xor, then the signed widening); the epilogue
     * adds the 128 back through the zero point. Products then stay below 128 * 128, so sums are exact for KC.
     */
    private static void convertA(Task t, int ic, int mc, int pc, int kc, float[] ap) {
        byte flip = t.signed() ? 0 : (byte) U8_SHIFT;
        int vk = kc / NR * NR;
        for (int r = 0; r < mc; r++) {
            long row = t.aOff() + (long) (ic + r) * t.lda() + pc;
            int dst = r * kc, p = 0;
            for (; p < vk; p += NR) {
                ByteVector v = ByteVector.fromMemorySegment(SB, t.a(), row + p, ORDER).lanewise(VectorOperators.XOR, flip);
                ((FloatVector) v.convertShape(VectorOperators.B2F, S, 0)).intoArray(ap, dst + p);
                ((FloatVector) v.convertShape(VectorOperators.B2F, S, 1)).intoArray(ap, dst + p + L);
            }
            for (; p < kc; p++) ap[dst + p] = (byte) (t.a().get(ValueLayout.JAVA_BYTE, row + p) ^ flip);
        }
        int padded = (mc + MR - 1) / MR * MR;
        if (padded > mc) java.util.Arrays.fill(ap, mc * kc, padded * kc, 0f);
    }

    /**
     * W rows [pc, pc + kc) x columns [jc, jc + nc) as floats in NR-column panels (zero columns past nc). Eight rows
     * at a time across the width, so each panel gets 8 * NR contiguous floats per visit: row by row, the writes
     * would go to every panel at a stride of kc * NR floats, which all fall in the same few L1 sets.
     */
    private static void convertB(Task t, int pc, int kc, int jc, int nc, float[] bp, int base) {
        int full = nc / NR * NR;
        for (int p0 = 0; p0 < kc; p0 += 8) {
            int rows = Math.min(8, kc - p0);
            for (int j = 0; j < full; j += NR) {
                int dst = base + j * kc + p0 * NR;
                for (int r = 0; r < rows; r++) {
                    ByteVector v = ByteVector.fromMemorySegment(SB, t.w(), (long) (pc + p0 + r) * t.n() + jc + j, ORDER);
                    ((FloatVector) v.convertShape(VectorOperators.B2F, S, 0)).intoArray(bp, dst + r * NR);
                    ((FloatVector) v.convertShape(VectorOperators.B2F, S, 1)).intoArray(bp, dst + r * NR + L);
                }
            }
        }
        if (full < nc) convertTail(t.w(), (long) pc * t.n() + jc + full, t.n(), kc, nc - full, bp, base + full * kc);
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

    /**
     * acc block (mr x nr at accOff, row stride cols) += tile, exact integers both sides; on a block's first step
     * (zp not null) acc = zp[zpOff..] + tile instead, which starts the sums at their zero-point terms.
     */
    private static void accumulate(float[] tile, int[] acc, int accOff, int cols, int mr, int nr, int[] zp, int zpOff) {
        for (int r = 0; r < mr; r++) {
            int dst = accOff + r * cols, v = 0;
            if (nr == NR) {
                for (; v < NR; v += L) {
                    IntVector x = (IntVector) FloatVector.fromArray(S, tile, r * NR + v).convert(VectorOperators.F2I, 0);
                    x.add(zp != null ? IntVector.fromArray(SI, zp, zpOff + v) : IntVector.fromArray(SI, acc, dst + v))
                            .intoArray(acc, dst + v);
                }
            }
            for (; v < nr; v++) acc[dst + v] = (zp != null ? zp[zpOff + v] : acc[dst + v]) + (int) tile[r * NR + v];
        }
    }

    /**
     * C rows [ic, ic + mc) x columns [j0, j0 + width) from the finished sums (acc from {@code at}, row stride cols,
     * zero-point terms included): a vector at a time with the same float operations as {@link Int8Epilogue}
     * lane by lane, the tails element by element.
     */
    private static void epilogue(Task t, int[] acc, int at, int cols, int ic, int mc, int j0, int width) {
        float sa = t.aq().scale();
        DType type = t.out().type();
        int vcols = width / L * L;
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
                IntVector v = IntVector.fromArray(SI, acc, at + r * cols + j);
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
            for (int j = vcols; j < width; j++) {
                int col = j0 + j;
                int v = acc[at + r * cols + j];
                float b = t.bias() == null ? 0f : t.bias().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, t.biasOff() + col);
                Int8Epilogue.store(t.out(), t.c(), crow + col, v, sa, t.scales().getAtIndex(ValueLayout.JAVA_FLOAT, col), b);
            }
        }
    }

    /** 2^23 + 2^22: adding and subtracting it rounds a float of magnitude below 2^22 to an integer, half to even. */
    private static final float ROUNDER = 12582912f;
    /** Bytes for L int lanes: 64 bits up to 8 lanes, 128 for the 16 of 512-bit vectors (a 64-bit species held only 8). */
    private static final VectorSpecies<Byte> BYTES = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, L * 8)));
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
