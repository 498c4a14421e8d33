package org.tessera.cli;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Locale;
import org.tessera.Ops;
import org.tessera.PackedInt8Matrix;
import org.tessera.Tensor;
import org.tessera.Tessera;
import org.tessera.kernels.Backends;
import org.tessera.kernels.DType;
import org.tessera.kernels.MemoryKind;
import org.tessera.kernels.WorkerPool;
import org.tessera.kernels.nativecpu.NativeBackend;
import org.tessera.kernels.spi.Backend;
import org.tessera.kernels.spi.Int8Input;
import org.tessera.kernels.spi.Int8Output;
import org.tessera.kernels.spi.OpFamily;
import org.tessera.kernels.spi.UnaryOp;

/**
 * Command line: {@code tessera info | quickbench | startup}. Launched by {@code toolchain/tessera} and
 * {@code toolchain/run}, which supply the JVM flags.
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        String command = args.length == 0 ? "info" : args[0];
        switch (command) {
            case "info" -> System.out.print(Tessera.info());
            case "quickbench" -> QuickBench.run();
            case "startup" -> startup();
            case "peak" -> peak();
            case "help", "-h", "--help" -> usage(0);
            default -> {
                System.err.println("tessera: unknown command '" + command + "'");
                usage(2);
            }
        }
    }

    private static void usage(int status) {
        System.err.println("""
                usage: tessera COMMAND
                  info         JDK, CPU, ISA, threads, backends (available or why not) and each op's backend
                  quickbench   a short in-process timing of the kernels that exist, per backend (JMH: toolchain/bench)
                  startup      time from JVM start to the end of the first CPU GEMM call
                  peak         the fp32 FMA ceiling of this CPU, 1 thread and all threads (native AVX2 loop)
                system properties: -Dtessera.backend=java|native|cuda  -Dtessera.threads=N  -Dtessera.maxIsa=baseline|avx2|avx512  -Dtessera.verbose=true""");
        System.exit(status);
    }

    /** Measures what a user's app pays before its first GEMM returns: JVM boot, class loading, native load. */
    private static void startup() {
        Instant mainStart = Instant.now();
        try (Tensor a = Tensor.of(new float[64 * 64], 64, 64); Tensor b = Tensor.of(new float[64 * 64], 64, 64);
             Tensor c = Ops.auto().matmul(a, b)) {
            if (c.getFloat(0, 0) != 0f) throw new AssertionError("0 x 0 != 0");
        }
        Instant done = Instant.now();
        // Read only after the GEMM, so loading java.management does not count. The JVM records its start in ms.
        Instant jvmStart = Instant.ofEpochMilli(ManagementFactory.getRuntimeMXBean().getStartTime());
        Backend gemm = Backends.get().select(OpFamily.F32_GEMM, MemoryKind.HOST).backend();
        System.out.printf(Locale.ROOT, "first CPU GEMM (64x64x64, %s backend) returned %d ms after JVM start (%d ms after main() began)%n",
                gemm.name(), Duration.between(jvmStart, done).toMillis(), Duration.between(mainStart, done).toMillis());
    }

    /** FMA peak: independent FMA chains, no memory traffic; best of 5 runs of ~0.3 s, per thread count. */
    private static void peak() {
        NativeBackend nb = (NativeBackend) Tessera.backend(NativeBackend.NAME);
        long iterations = 50_000_000L;
        for (int threads : new int[] {1, Runtime.getRuntime().availableProcessors()}) {
            double best = Double.MAX_VALUE;
            WorkerPool pool = new WorkerPool(threads); // its own, sized exactly: threads are created before timing
            for (int rep = 0; rep < 5; rep++) {
                long t0 = System.nanoTime();
                pool.parallelFor(threads, t -> nb.fmaPeakSeconds(iterations));
                best = Math.min(best, (System.nanoTime() - t0) / 1e9);
            }
            System.out.printf(Locale.ROOT, "fp32 FMA peak, %d thread(s): %.1f GFLOP/s%n", threads, threads * iterations * 192.0 / best / 1e9);
        }
    }

    /** Short in-process timings; JMH (toolchain/bench) is the place for numbers worth quoting. */
    static final class QuickBench {
        private QuickBench() {}

        static void run() {
            System.out.println("quickbench: best of 5 timed runs after 1.5 s of warm-up; in-process, indicative only (JMH: ./toolchain/bench)");
            System.out.printf(Locale.ROOT, "%-8s %-26s %-12s %10s%n", "backend", "kernel", "shape", "result");
            for (Backend backend : Tessera.backends()) {
                if (backend.memoryKind() != MemoryKind.HOST || !backend.availability().available()) continue;
                Ops ops = Ops.on(backend);
                elementwise(ops, backend);
                gemm(ops, backend);
                int8Gemm(ops, backend);
            }
        }

        private static void elementwise(Ops ops, Backend backend) {
            int n = 1 << 22;
            try (Tensor x = random(n); Tensor y = Tensor.allocate(DType.F32, n)) {
                double s = best(() -> ops.relu(x, y));
                System.out.printf(Locale.ROOT, "%-8s %-26s %-12s %7.1f GB/s%n", backend.name(),
                        ops.kernelId(UnaryOp.RELU, MemoryKind.HOST), "n=" + n, 8.0 * n / s / 1e9);
            }
        }

        private static void gemm(Ops ops, Backend backend) {
            if (!backend.kernels(OpFamily.F32_GEMM).supported()) return;
            int n = 256;
            try (Tensor a = random(n, n); Tensor b = random(n, n); Tensor c = Tensor.allocate(DType.F32, n, n)) {
                double s = best(() -> ops.matmul(a, b, c));
                String id = backend.kernels(OpFamily.F32_GEMM).kernels().kernelId();
                System.out.printf(Locale.ROOT, "%-8s %-26s %-12s %6.1f GFLOP/s%n", backend.name(), id, n + "^3", 2.0 * n * n * n / s / 1e9);
            }
        }

        /** u8 x s8 -> s32 on 7-bit weights (the fast path where the native kernels have one). */
        private static void int8Gemm(Ops ops, Backend backend) {
            if (!backend.kernels(OpFamily.INT8_GEMM).supported()) return;
            int n = 256;
            java.util.SplittableRandom rnd = new java.util.SplittableRandom(42);
            byte[] ab = new byte[n * n], wb = new byte[n * n];
            for (int i = 0; i < ab.length; i++) {
                ab[i] = (byte) rnd.nextInt(256);
                wb[i] = (byte) (rnd.nextInt(128) - 64);
            }
            try (Tensor a = Tensor.of(DType.U8, ab, n, n); Tensor w = Tensor.of(DType.S8, wb, n, n);
                 Tensor c = Tensor.allocate(DType.S32, n, n); PackedInt8Matrix pw = ops.packInt8(w, 0.01f)) {
                Int8Input aq = Int8Input.u8(0.02f, 128);
                double s = best(() -> ops.matmul(a, aq, pw, Int8Output.s32(), null, c));
                System.out.printf(Locale.ROOT, "%-8s %-26s %-12s %6.1f GOP/s%n", backend.name(), pw.kernelId(), n + "^3", 2.0 * n * n * n / s / 1e9);
            }
        }

        private static double best(Runnable r) {
            // Warm up for 1.5 s: the java backend's kernels run interpreted until C2 compiles them, which takes
            // ~1-2 s of calls (measured: 256^3 GEMM at 0.4 s of warm-up ~9 GFLOP/s, at 2 s ~80).
            long warmEnd = System.nanoTime() + 1_500_000_000L;
            for (int i = 0; i < 3 || System.nanoTime() < warmEnd; i++) r.run();
            double best = Double.MAX_VALUE;
            for (int i = 0; i < 5; i++) {
                long t0 = System.nanoTime();
                r.run();
                best = Math.min(best, (System.nanoTime() - t0) / 1e9);
            }
            return best;
        }

        private static Tensor random(long... shape) {
            java.util.SplittableRandom rnd = new java.util.SplittableRandom(42);
            float[] data = new float[(int) Arrays.stream(shape).reduce(1, (p, q) -> p * q)];
            for (int i = 0; i < data.length; i++) data[i] = (float) (rnd.nextDouble() * 2 - 1);
            return Tensor.of(data, shape);
        }
    }
}
