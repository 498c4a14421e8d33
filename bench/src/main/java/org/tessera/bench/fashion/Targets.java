package org.tessera.bench.fashion;

import java.util.List;
import java.util.Locale;

/** The targets, checked against the measured variants; one PASS/MISS line each. */
final class Targets {
    private Targets() {}

    /** Appends a line per target to {@code lines}; returns how many were missed. */
    static int check(List<Variant> vs, double fp32Acc, long teacherParams, long studentParams, double dpSpeedup, List<String> lines) {
        int missed = 0;
        Variant fp32 = find(vs, "fp32"), int8 = find(vs, "int8"), sparse = find(vs, "sparse"), sq8 = find(vs, "sparse-int8"), student = find(vs, "student");
        missed += line(lines, fp32Acc >= 0.91, "fp32 CNN test accuracy >= 0.91: %.4f", fp32Acc);
        if (int8 != null) missed += line(lines, withinPoints(fp32Acc, int8.accuracy(), 0.5), "int8 within 0.5 points of fp32: %.4f (delta %+.2f points)", int8.accuracy(),
                100 * (int8.accuracy() - fp32Acc));
        if (sparse != null) missed += line(lines, sparse.sparsity() >= 0.8 && withinPoints(fp32Acc, sparse.accuracy(), 1), "sparse >= 80%% within 1 point: sparsity %.3f, %.4f (delta %+.2f points)",
                sparse.sparsity(), sparse.accuracy(), 100 * (sparse.accuracy() - fp32Acc));
        if (student != null) missed += line(lines, withinPoints(fp32Acc, student.accuracy(), 2) && studentParams * 4 <= teacherParams,
                "student within 2 points at <= 1/4 of the parameters: %.4f (delta %+.2f points), %.3f of the parameters", student.accuracy(),
                100 * (student.accuracy() - fp32Acc), (double) studentParams / teacherParams);
        if (fp32 != null && int8 != null) {
            missed += line(lines, int8.throughput() >= 1.5 * fp32.throughput(), "int8 >= 1.5x fp32 throughput at batch 256 (%s): %.2fx", fp32.backend(),
                    int8.throughput() / fp32.throughput());
            missed += line(lines, fp32.latencyMs() >= 2 * int8.latencyMs(), "int8 >= 2x fp32 speed at batch 1 (%s): %.2fx", fp32.backend(), fp32.latencyMs() / int8.latencyMs());
        }
        if (fp32 != null && sq8 != null) missed += line(lines, sq8.throughput() >= 2.5 * fp32.throughput(), "sparse+int8 >= 2.5x fp32 throughput (%s): %.2fx", fp32.backend(),
                sq8.throughput() / fp32.throughput());
        if (!Double.isNaN(dpSpeedup)) missed += line(lines, dpSpeedup >= 1.7, "data-parallel on 2 cores >= 1.7x the images/s of 1 core: %.2fx", dpSpeedup);
        return missed;
    }

    /**
     * Whether {@code acc} is at most {@code points} percentage points below {@code fp32}, the bound included.
     * Accuracies are counts over the test set, so a delta of exactly the bound is a whole number of images, but
     * the float subtraction can land past it (0.9179 - 0.9079 = 0.010000000000000009): a millionth of a point
     * of slack keeps the bound inclusive.
     */
    static boolean withinPoints(double fp32, double acc, double points) {
        return 100 * (fp32 - acc) <= points + 1e-6;
    }

    /** The native backend's row of {@code name} (the targets are for native), else the first. */
    private static Variant find(List<Variant> vs, String name) {
        Variant any = null;
        for (Variant v : vs) {
            if (!v.name().equals(name)) continue;
            if (v.backend().equals("native")) return v;
            if (any == null) any = v;
        }
        return any;
    }

    private static int line(List<String> lines, boolean ok, String fmt, Object... args) {
        lines.add((ok ? "PASS  " : "MISS  ") + String.format(Locale.ROOT, fmt, args));
        return ok ? 0 : 1;
    }
}
