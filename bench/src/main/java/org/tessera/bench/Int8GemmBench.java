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
import org.tessera.Activation;
import org.tessera.Ops;
import org.tessera.PackedInt8Matrix;
import org.tessera.PackedMatrix;
import org.tessera.Tensor;
import org.tessera.Tessera;
import org.tessera.kernels.DType;
import org.tessera.kernels.spi.Int8Input;
import org.tessera.kernels.spi.Int8Output;

/**
 * int8 GEMM (u8 activations x packed s8 weights -> s32) beside our f32 GEMM on packed weights, same shapes
 * and threads as {@link GemmBench}, in one run. Backends: {@code native-rr} (7-bit weights: the
 * vpmaddubsw kernel), {@code native-exact} (full-range weights: the exact s16 widening kernel; on a CPU with
 * VNNI both run the vpdpbusd kernel unless {@code -Dtessera.vnni=false}), {@code java}
 * (Vector API, full-range weights), the peer {@code onednn} (matmul u8 x s8 -> s32, weights reordered
 * once; 7-bit weights, because without VNNI oneDNN's vpmaddubsw saturates on full-range ones), and the f32
 * references {@code native-f32} and {@code java-f32}.
 * {@link BenchMain} reports GOP/s (2mnk per second) and the ratio to {@code native-f32}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {JvmFlags.VECTOR, JvmFlags.NATIVE})
public class Int8GemmBench {
    @Param({"native-rr", "native-exact", "java", "onednn", "native-f32", "java-f32"})
    public String backend;

    @Param({"1", "2"})
    public int threads;

    /** m x n x k. */
    @Param({"256x256x256", "512x512x512", "1024x1024x1024", "2048x2048x2048", "64x4096x4096", "1x4096x4096", "128x768x3072"})
    public String shape;

    private Tensor a, c, w;
    private Ops ops;
    private PackedInt8Matrix packed;
    private PackedMatrix packedF32;
    private OneDnnInt8Matmul onednn;
    private final Int8Input aq = Int8Input.u8(0.05f, 128);
    private final Int8Output out = Int8Output.s32();

    @Setup(Level.Trial)
    public void setUp() {
        String[] s = shape.split("x");
        int m = Integer.parseInt(s[0]), n = Integer.parseInt(s[1]), k = Integer.parseInt(s[2]);
        Tessera.setThreads(threads);
        SplittableRandom rnd = new SplittableRandom(7);
        if (backend.equals("onednn")) {
            byte[] ab = new byte[m * k], wb = new byte[k * n];
            for (int i = 0; i < ab.length; i++) ab[i] = (byte) rnd.nextInt(256);
            for (int i = 0; i < wb.length; i++) wb[i] = (byte) (rnd.nextInt(128) - 64);
            onednn = new OneDnnInt8Matmul(m, n, k, ab, wb, threads);
            onednn.run();
            checkOneDnn(m, n, k, ab, wb);
            System.out.println("onednn implementation: " + onednn.implementation());
            return;
        }
        ops = Ops.on(backend.substring(0, backend.indexOf('-') < 0 ? backend.length() : backend.indexOf('-')));
        if (backend.endsWith("-f32")) {
            a = GemmBench.random(m, k);
            w = GemmBench.random(k, n);
            c = Tensor.allocate(DType.F32, m, n);
            packedF32 = ops.pack(w);
            ops.matmul(a, packedF32, null, Activation.IDENTITY, c);
            return;
        }
        byte[] ab = new byte[m * k], wb = new byte[k * n];
        for (int i = 0; i < ab.length; i++) ab[i] = (byte) rnd.nextInt(256);
        int range = backend.equals("native-rr") ? 128 : 256; // 7-bit weights pass the vpmaddubsw pair check
        for (int i = 0; i < wb.length; i++) wb[i] = (byte) (rnd.nextInt(range) - range / 2);
        a = Tensor.of(DType.U8, ab, m, k);
        w = Tensor.of(DType.S8, wb, k, n);
        c = Tensor.allocate(DType.S32, m, n);
        packed = ops.packInt8(w, 0.01f);
        String expected = backend.equals("native-rr") ? "_rr__" : backend.equals("native-exact") ? "6x16__avx2" : "panama";
        // where the CPU has VNNI, both native weight kinds run the vpdpbusd kernel (-Dtessera.vnni=false: the AVX2 ones)
        boolean vnni = backend.startsWith("native-") && packed.kernelId().contains("vnni");
        if (!vnni && !packed.kernelId().contains(expected)) throw new IllegalStateException(backend + " runs " + packed.kernelId());
        System.out.println(backend + " kernel: " + packed.kernelId());
        ops.matmul(a, aq, packed, out, null, c);
    }

    /** A few entries against an exact dot product: the peer must do the same work, right. */
    private void checkOneDnn(int m, int n, int k, byte[] a, byte[] w) {
        for (int[] ij : new int[][] {{0, 0}, {m - 1, n - 1}, {m / 2, n / 3}}) {
            int s = 0;
            for (int p = 0; p < k; p++) s += (a[ij[0] * k + p] & 0xFF) * w[p * n + ij[1]];
            int got = onednn.result((long) ij[0] * n + ij[1]);
            if (got != s) throw new IllegalStateException("oneDNN gave " + got + " at " + ij[0] + "," + ij[1] + ", exact is " + s);
        }
    }

    @Benchmark
    public Object gemm() {
        if (onednn != null) {
            onednn.run();
            return onednn;
        }
        return packedF32 != null ? ops.matmul(a, packedF32, null, Activation.IDENTITY, c) : ops.matmul(a, aq, packed, out, null, c);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (onednn != null) {
            onednn.close();
            return;
        }
        if (packed != null) packed.close();
        if (packedF32 != null) packedF32.close();
        a.close();
        w.close();
        c.close();
    }
}
