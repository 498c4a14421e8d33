package org.tessera.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.tessera.Tessera;
import org.tessera.kernels.Backends;
import org.tessera.kernels.HostStorage;
import org.tessera.kernels.sparse.BsrMatrix;
import org.tessera.kernels.sparse.CsrMatrix;
import org.tessera.kernels.sparse.NmSparseMatrix;
import org.tessera.kernels.sparse.SparseMatrix;
import org.tessera.kernels.spi.Backend;
import org.tessera.kernels.spi.F32GemmKernels;
import org.tessera.kernels.spi.Int8GemmKernels;
import org.tessera.kernels.spi.Int8Input;
import org.tessera.kernels.spi.Int8Output;
import org.tessera.kernels.spi.OpFamily;
import org.tessera.kernels.spi.PackedInt8;
import org.tessera.kernels.spi.PackedSparse;
import org.tessera.kernels.spi.SparseKernels;

/**
 * Sparse x dense {@code Y (n, m) = W (n, k) . X (k, m)} per format against our dense f32 GEMM of the same shape
 * ({@code native-dense}, the peer of each row). W is pruned at random to the given sparsity in the format's
 * structure (unstructured for CSR, whole 4x1 blocks for bsr4x1; 2:4 is 50% by construction, run it with
 * {@code -p sparsity=50}). Score: time per call; {@link BenchMain} reports effective GFLOP/s (the dense flop
 * count, 2nkm, over the time) so the ratio to the peer is the speed-up over dense. The {@code i8} formats
 * ({@code native-i8dense}, {@code native-i8csr}, {@code native-i8bsr4x1}) run the same products in int8: u8
 * activations, 7-bit s8 weights (the dense GEMM's fast {@code vpmaddubsw} range), f32 output; there the figure
 * is effective GOP/s and the peer is {@code native-i8dense}, our dense int8 GEMM.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {JvmFlags.VECTOR, JvmFlags.NATIVE})
public class SparseBench {
    /** {@code <backend>-<format>}: format dense (our GEMM), csr, bsr4x1, bsr4x4 or 2:4; i8dense, i8csr, i8bsr4x1. */
    @Param({"native-dense", "native-csr", "native-bsr4x1"})
    public String backend;

    /** n x k. */
    @Param({"1024x1024", "4096x1024"})
    public String shape;

    @Param({"1", "64", "256"})
    public int m;

    /** Percent of W that is zero. */
    @Param({"50", "70", "80", "90", "95"})
    public int sparsity;

    @Param({"2"})
    public int threads;

    private int n, k;
    private HostStorage w, x, y;
    private PackedSparse packed;
    private SparseKernels sparse;
    private F32GemmKernels dense;
    private Int8GemmKernels denseInt8;
    private PackedInt8 packedInt8;
    private boolean int8;
    private static final Int8Input X_Q = Int8Input.u8(0.02f, 128);
    private static final float[] W_SCALE = {0.01f};

    @Setup(Level.Trial)
    public void setUp() {
        String[] s = shape.split("x");
        n = Integer.parseInt(s[0]);
        k = Integer.parseInt(s[1]);
        Tessera.setThreads(threads);
        String[] b = backend.split("-", 2);
        Backend be = Backends.get().byName(b[0]);
        int8 = b[1].startsWith("i8");
        String format = int8 ? b[1].substring(2) : b[1];
        float[] wd = prune(format, n, k, sparsity / 100.0, new SplittableRandom(11));
        y = HostStorage.allocate(4L * n * m);
        if (int8) {
            toSevenBits(wd);
            x = bytes(k * m, 12);
            if (format.equals("dense")) {
                denseInt8 = be.kernels(OpFamily.INT8_GEMM).kernels();
                try (HostStorage ws = bytes(wd)) {
                    packedInt8 = denseInt8.pack(true, k, n, ws, 0, k, W_SCALE);
                }
            } else {
                sparse = be.kernels(OpFamily.SPARSE).kernels();
                packed = sparse.packInt8(of(format, wd, n, k), W_SCALE);
            }
            run();
            return;
        }
        x = floats(random(k * m, 12));
        if (format.equals("dense")) {
            dense = be.kernels(OpFamily.F32_GEMM).kernels();
            w = floats(wd);
        } else {
            sparse = be.kernels(OpFamily.SPARSE).kernels();
            packed = sparse.pack(of(format, wd, n, k));
        }
        run();
    }

    @Benchmark
    public HostStorage spmm() {
        run();
        return y;
    }

    private void run() {
        if (int8) {
            // the dense GEMM takes the activations as (m, k) rows, the sparse kernels as (k, m) columns: same work
            if (sparse != null) sparse.spmmInt8(m, packed, X_Q, x, 0, m, Int8Output.f32(false), y, 0, m, null, 0);
            else denseInt8.gemm(m, X_Q, x, 0, k, packedInt8, Int8Output.f32(false), y, 0, n, null, 0);
        } else if (sparse != null) {
            sparse.spmm(m, packed, x, 0, m, null, 0, false, y, 0, m);
        } else if (m == 1) {
            // the same memory read as (1, k) x W^T: the dense library's matrix-vector path
            dense.gemm(false, true, 1, n, k, 1f, x, 0, k, w, 0, k, 0f, y, 0, n, null, 0, false);
        } else {
            dense.gemm(false, false, n, m, k, 1f, w, 0, k, x, 0, m, 0f, y, 0, m, null, 0, false);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (packed != null) packed.close();
        if (packedInt8 != null) packedInt8.close();
        if (w != null) w.close();
        x.close();
        y.close();
    }

    /** Dense-equivalent flops per call. */
    static double flops(String shape, int m) {
        String[] s = shape.split("x");
        return 2.0 * Double.parseDouble(s[0]) * Double.parseDouble(s[1]) * m;
    }

    private static SparseMatrix of(String format, float[] w, int n, int k) {
        return switch (format) {
            case "csr" -> CsrMatrix.fromDense(w, n, k);
            case "2:4" -> NmSparseMatrix.fromDense(w, n, k, k, 2, 4);
            default -> {
                String[] bs = format.substring(3).split("x");
                yield BsrMatrix.fromDense(w, n, k, Integer.parseInt(bs[0]), Integer.parseInt(bs[1]));
            }
        };
    }

    /** Random weights with the given fraction zeroed in the format's structure (2:4: two of every four). */
    private static float[] prune(String format, int n, int k, double sparsity, SplittableRandom rnd) {
        float[] w = random(n * k, 13);
        if (format.equals("dense")) return w;
        if (format.equals("2:4")) {
            for (int i = 0; i < n * k; i += 4) {
                int keepA = rnd.nextInt(4), keepB = (keepA + 1 + rnd.nextInt(3)) % 4;
                for (int t = 0; t < 4; t++) if (t != keepA && t != keepB) w[i + t] = 0f;
            }
            return w;
        }
        int br = 1, bc = 1;
        if (format.startsWith("bsr")) {
            String[] bs = format.substring(3).split("x");
            br = Integer.parseInt(bs[0]);
            bc = Integer.parseInt(bs[1]);
        }
        for (int bi = 0; bi < n; bi += br) {
            for (int bj = 0; bj < k; bj += bc) {
                if (rnd.nextDouble() >= sparsity) continue;
                for (int i = bi; i < Math.min(n, bi + br); i++) for (int j = bj; j < Math.min(k, bj + bc); j++) w[i * k + j] = 0f;
            }
        }
        return w;
    }

    /** Rounds weights in [-1, 1] to integers in [-63, 63], keeping every non-zero non-zero (the sparsity stays). */
    private static void toSevenBits(float[] w) {
        for (int i = 0; i < w.length; i++) {
            float q = Math.round(w[i] * 63);
            w[i] = q == 0 && w[i] != 0 ? Math.signum(w[i]) : q;
        }
    }

    private static HostStorage bytes(int size, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        HostStorage s = HostStorage.allocate(size);
        for (int i = 0; i < size; i++) s.segment().set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt(256));
        return s;
    }

    private static HostStorage bytes(float[] integers) {
        HostStorage s = HostStorage.allocate(integers.length);
        for (int i = 0; i < integers.length; i++) s.segment().set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) integers[i]);
        return s;
    }

    private static float[] random(int size, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] a = new float[size];
        for (int i = 0; i < size; i++) a[i] = (float) (rnd.nextDouble() * 2 - 1);
        return a;
    }

    private static HostStorage floats(float[] a) {
        HostStorage s = HostStorage.allocate(4L * a.length);
        java.lang.foreign.MemorySegment.copy(a, 0, s.segment(), java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, a.length);
        return s;
    }
}
