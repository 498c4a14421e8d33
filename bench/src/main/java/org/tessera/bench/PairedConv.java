package org.tessera.bench;

import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import org.tessera.Tessera;
import org.tessera.kernels.HostStorage;
import org.tessera.kernels.spi.Conv2dShape;
import org.tessera.kernels.spi.ConvKernels;
import org.tessera.kernels.spi.OpFamily;
import org.tessera.kernels.spi.PackedF32Filters;

/**
 * The paired form of {@link ConvBench}: our f32 convolution (filters packed once, as {@code native-packed} there)
 * and oneDNN's run alternately in short slices in one JVM, ABBA order, and the median of the rounds' speed ratios
 * is the answer, with its range. See {@link PairedGemm} for why. Each slice starts with untimed calls, long enough
 * for oneDNN's OpenMP threads, which spin after a call, to go to sleep: while they spin they take the core our
 * pool's worker needs.
 *
 * <pre>
 * ./toolchain/paired conv                                  # native vs oneDNN, ConvBench's first four layers, 1 and 2 threads
 * ./toolchain/paired conv --layers 3x3_c64_56 --threads 2 --rounds 21
 * </pre>
 */
public final class PairedConv {
    private PairedConv() {}

    public static void main(String[] args) {
        String backend = "native";
        String[] layers = {"3x3_c64_56", "3x3_c256_14", "1x1_c128_28", "dw3x3_c256_28"};
        int[] threads = {1, 2};
        int rounds = 12, sliceMs = 300, settleMs = 150;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--backend" -> backend = args[i + 1];
                case "--layers" -> layers = args[i + 1].split(",");
                case "--threads" -> threads = Arrays.stream(args[i + 1].split(",")).mapToInt(Integer::parseInt).toArray();
                case "--rounds" -> rounds = Integer.parseInt(args[i + 1]);
                case "--slice-ms" -> sliceMs = Integer.parseInt(args[i + 1]);
                case "--settle-ms" -> settleMs = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (known: --backend native|java --layers a,b --threads 1,2 --rounds N --slice-ms N --settle-ms N)");
            }
        }
        System.out.printf(Locale.ROOT, "| layer | threads | %s GFLOP/s (median) | oneDNN GFLOP/s (median) | ratio median | ratio min–max | rounds |%n",
                backend);
        System.out.println("|---|---:|---:|---:|---:|---:|---:|");
        for (int t : threads) {
            Tessera.setThreads(t);
            for (String layer : layers) row(backend, layer, t, rounds, sliceMs, settleMs);
        }
    }

    private static void row(String backend, String layer, int threads, int rounds, int sliceMs, int settleMs) {
        Conv2dShape s = ConvBench.shape(layer);
        double flops = 2.0 * s.n() * s.outH() * s.outW() * s.k() * s.r() * s.s() * (s.c() / s.groups());
        SplittableRandom rnd = new SplittableRandom(11);
        float[] xv = ConvBench.floats(rnd, s.n() * s.h() * s.w() * s.c());
        float[] wv = ConvBench.floats(rnd, s.k() * s.r() * s.s() * (s.c() / s.groups())), bv = ConvBench.floats(rnd, s.k());
        ConvKernels conv = Tessera.backend(backend).kernels(OpFamily.CONV).kernels();
        try (HostStorage xs = ConvBench.storage(xv); HostStorage ws = ConvBench.storage(wv); HostStorage bs = ConvBench.storage(bv);
             HostStorage ys = HostStorage.allocate(4L * s.n() * s.outH() * s.outW() * s.k());
             PackedF32Filters filters = conv.packF32Filters(s, ws, 0); OneDnnConv peer = new OneDnnConv(s, xv, wv, bv, threads)) {
            System.out.println(PairedSlices.row(layer + " | " + threads, flops, () -> conv.conv2dF32(s, xs, 0, filters, bs, 0, ys, 0, false),
                    peer::run, rounds, sliceMs, settleMs));
        }
    }
}
