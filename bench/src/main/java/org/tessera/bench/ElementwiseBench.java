package org.tessera.bench;

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
 * f32 elementwise ops per backend; memory-bound, so {@link BenchMain} reports GB/s moved (reads + writes).
 * n = 64 Ki floats stays in L2; 4 Mi floats (16 MiB per operand) streams from L3/DRAM.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {JvmFlags.VECTOR, JvmFlags.NATIVE})
public class ElementwiseBench {
    @Param({"native", "java"})
    public String backend;

    @Param({"relu", "add", "relu_grad"})
    public String op;

    @Param({"65536", "4194304"})
    public int n;

    @Param({"1", "2"})
    public int threads;

    private Tensor x, y, out;
    private Ops ops;

    @Setup(Level.Trial)
    public void setUp() {
        Tessera.setThreads(threads);
        ops = Ops.on(backend);
        x = GemmBench.random(1, n);
        y = GemmBench.random(1, n);
        out = Tensor.allocate(DType.F32, 1, n);
    }

    @Benchmark
    public Tensor run() {
        return switch (op) {
            case "relu" -> ops.relu(x, out);
            case "relu_grad" -> ops.reluBackward(x, y, out); // training's ReLU backward: x masks y
            default -> ops.add(x, y, out);
        };
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        x.close();
        y.close();
        out.close();
    }
}
