package org.tessera.bench;

import java.util.Arrays;
import java.util.Locale;
import org.tessera.Ops;
import org.tessera.Tensor;
import org.tessera.Tessera;
import org.tessera.kernels.DType;

/**
 * A paired GEMM comparison for a noisy machine: in one JVM, our backend and the peer run alternately in short
 * slices (ABBA order, so a slow stretch hits both), and each round's speed ratio is kept; the median ratio
 * over the rounds is the answer, with its range. JMH runs configurations one after another, so on a shared
 * VM a slow minute lands on one side only; this does not. Each slice starts with untimed calls, so threads
 * the other library left spinning (OpenBLAS's do) have gone to sleep before timing starts.
 *
 * <pre>
 * ./toolchain/paired                                       # native vs openblas, the GemmBench shapes, 1 and 2 threads
 * ./toolchain/paired --backends java,openblas --shapes 1024x1024x1024,2048x2048x2048 --rounds 15
 * </pre>
 */
public final class PairedGemm {
    private PairedGemm() {}

    public static void main(String[] args) {
        String[] backends = {"native", "openblas"};
        String[] shapes = {"512x512x512", "1024x1024x1024", "2048x2048x2048", "64x4096x4096", "128x768x3072"};
        int[] threads = {1, 2};
        int rounds = 12, sliceMs = 300, settleMs = 150;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--backends" -> backends = args[i + 1].split(",");
                case "--shapes" -> shapes = args[i + 1].split(",");
                case "--threads" -> threads = Arrays.stream(args[i + 1].split(",")).mapToInt(Integer::parseInt).toArray();
                case "--rounds" -> rounds = Integer.parseInt(args[i + 1]);
                case "--slice-ms" -> sliceMs = Integer.parseInt(args[i + 1]);
                case "--settle-ms" -> settleMs = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (known: --backends a,b --shapes MxNxK,... --threads 1,2 --rounds N --slice-ms N --settle-ms N)");
            }
        }
        if (backends.length != 2) throw new IllegalArgumentException("--backends takes two names: ours,peer");
        System.out.printf(Locale.ROOT, "| shape m×n×k | threads | %s GFLOP/s (median) | %s GFLOP/s (median) | ratio median | ratio min–max | rounds |%n",
                backends[0], backends[1]);
        System.out.println("|---|---:|---:|---:|---:|---:|---:|");
        for (int t : threads) {
            Tessera.setThreads(t);
            for (String shape : shapes) row(shape, t, backends, rounds, sliceMs, settleMs);
        }
    }

    private static void row(String shape, int threads, String[] backends, int rounds, int sliceMs, int settleMs) {
        String[] d = shape.split("x");
        int m = Integer.parseInt(d[0]), n = Integer.parseInt(d[1]), k = Integer.parseInt(d[2]);
        double flops = 2.0 * m * n * k;
        try (Tensor a = GemmBench.random(m, k); Tensor b = GemmBench.random(k, n); Tensor c = Tensor.allocate(DType.F32, m, n)) {
            Ops[] ops = {Ops.on(backends[0]), Ops.on(backends[1])};
            for (Ops o : ops) slice(o, a, b, c, 1500, 0); // JIT and first-touch warm-up
            double[][] rate = new double[2][rounds];
            double[] ratio = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                for (int j = 0; j < 2; j++) {
                    int which = (r % 2 == 0) == (j == 0) ? 0 : 1; // ABBA: 0,1 then 1,0
                    rate[which][r] = flops * slice(ops[which], a, b, c, sliceMs, settleMs) / 1e9;
                }
                ratio[r] = rate[0][r] / rate[1][r];
            }
            double[] sorted = ratio.clone();
            Arrays.sort(sorted);
            System.out.printf(Locale.ROOT, "| %s | %d | %.1f | %.1f | %.2fx | %.2f–%.2fx | %d |%n", shape, threads, median(rate[0]),
                    median(rate[1]), median(ratio), sorted[0], sorted[rounds - 1], rounds);
        }
    }

    /** Calls per second over a slice of sliceMs after settleMs of untimed calls. */
    private static double slice(Ops ops, Tensor a, Tensor b, Tensor c, int sliceMs, int settleMs) {
        long settleEnd = System.nanoTime() + settleMs * 1_000_000L;
        do {
            ops.matmul(a, b, c);
        } while (System.nanoTime() < settleEnd);
        long start = System.nanoTime(), end = start + sliceMs * 1_000_000L, now;
        int calls = 0;
        do {
            ops.matmul(a, b, c);
            calls++;
        } while ((now = System.nanoTime()) < end);
        return calls / ((now - start) / 1e9);
    }

    private static double median(double[] values) {
        double[] s = values.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
