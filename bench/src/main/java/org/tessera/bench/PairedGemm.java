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
            Ops ours = Ops.on(backends[0]), peer = Ops.on(backends[1]);
            System.out.println(PairedSlices.row(shape + " | " + threads, flops, () -> ours.matmul(a, b, c), () -> peer.matmul(a, b, c),
                    rounds, sliceMs, settleMs));
        }
    }
}
