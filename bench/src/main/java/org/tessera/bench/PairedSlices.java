package org.tessera.bench;

import java.util.Arrays;
import java.util.Locale;

/**
 * The measurement shared by {@link PairedGemm} and {@link PairedConv}: two operations timed in alternating slices
 * (ABBA order) in one JVM, and one table row of median speeds and the median and range of the per-round ratios.
 */
final class PairedSlices {
    private PairedSlices() {}

    /**
     * The table row for {@code ours} against {@code peer}, each doing {@code flops} per call: first label cells, then
     * both medians in GFLOP/s, the median ratio, its range and the rounds.
     */
    static String row(String labels, double flops, Runnable ours, Runnable peer, int rounds, int sliceMs, int settleMs) {
        Runnable[] ops = {ours, peer};
        for (Runnable op : ops) slice(op, 1500, 0); // JIT and first-touch warm-up
        double[][] rate = new double[2][rounds];
        double[] ratio = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            for (int j = 0; j < 2; j++) {
                int which = (r % 2 == 0) == (j == 0) ? 0 : 1; // ABBA: 0,1 then 1,0
                rate[which][r] = flops * slice(ops[which], sliceMs, settleMs) / 1e9;
            }
            ratio[r] = rate[0][r] / rate[1][r];
        }
        double[] sorted = ratio.clone();
        Arrays.sort(sorted);
        return String.format(Locale.ROOT, "| %s | %.1f | %.1f | %.2fx | %.2f–%.2fx | %d |", labels, median(rate[0]), median(rate[1]),
                median(ratio), sorted[0], sorted[rounds - 1], rounds);
    }

    /** Calls per second over a slice of sliceMs after settleMs of untimed calls. */
    private static double slice(Runnable op, int sliceMs, int settleMs) {
        long settleEnd = System.nanoTime() + settleMs * 1_000_000L;
        do {
            op.run();
        } while (System.nanoTime() < settleEnd);
        long start = System.nanoTime(), end = start + sliceMs * 1_000_000L, now;
        int calls = 0;
        do {
            op.run();
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
