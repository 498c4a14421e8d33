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
import org.tessera.Ops;
import org.tessera.Tensor;
import org.tessera.Tessera;
import org.tessera.kernels.DType;

/**
 * f32 GEMM C = A * B (row-major) per backend, with the peer OpenBLAS as one more backend value in the same
 * run (the opt-in openblas backend: bytedeco's cblas_sgemm, its threads set with openblas_set_num_threads).
 * Score: time per call; {@link BenchMain} turns it into GFLOP/s and the ratio to OpenBLAS.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {JvmFlags.VECTOR, JvmFlags.NATIVE})
public class GemmBench {
    /** Our backends by name, and the peer. */
    @Param({"java", "native", "openblas"})
    public String backend;

    @Param({"1", "2"})
    public int threads;

    /** m x n x k. */
    @Param({"256x256x256", "512x512x512", "1024x1024x1024", "2048x2048x2048", "64x4096x4096", "1x4096x4096", "128x768x3072"})
    public String shape;

    /** nn: B stored (k, n); nt: B stored (n, k) and passed transposed, as a linear layer's weight (its dot-product path). */
    @Param({"nn"})
    public String layout;

    private Tensor a, b, bStored, c;
    private Ops ops;

    @Setup(Level.Trial)
    public void setUp() {
        String[] s = shape.split("x");
        int m = Integer.parseInt(s[0]), n = Integer.parseInt(s[1]), k = Integer.parseInt(s[2]);
        a = random(m, k);
        if (layout.equals("nt")) {
            bStored = random(n, k);
            b = bStored.transpose(0, 1);
        } else {
            b = random(k, n);
        }
        c = Tensor.allocate(DType.F32, m, n);
        Tessera.setThreads(threads); // the openblas backend passes it to openblas_set_num_threads
        ops = Ops.on(backend); // throws, with the reason, if this backend has no GEMM here
        ops.matmul(a, b, c);
    }

    @Benchmark
    public Tensor gemm() {
        return ops.matmul(a, b, c);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        a.close();
        if (bStored != null) bStored.close();
        else b.close();
        c.close();
    }

    static Tensor random(long... shape) {
        SplittableRandom rnd = new SplittableRandom(7);
        float[] data = new float[(int) (shape[0] * shape[1])];
        for (int i = 0; i < data.length; i++) data[i] = (float) (rnd.nextDouble() * 2 - 1);
        return Tensor.of(data, shape);
    }
}
