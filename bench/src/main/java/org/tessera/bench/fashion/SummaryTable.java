package org.tessera.bench.fashion;

import java.util.List;
import java.util.Locale;

/** The plain-text table of variants the job prints. */
final class SummaryTable {
    private SummaryTable() {}

    static String of(List<Variant> variants) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-12s %-7s %9s %9s %10s %11s %12s %14s%n", "variant", "backend", "accuracy", "sparsity", "params", "bytes", "batch-1 ms",
                "batch-256 img/s"));
        for (Variant v : variants) {
            sb.append(String.format(Locale.ROOT, "%-12s %-7s %9.4f %9.3f %,10d %,11d %12.3f %,14.0f%n", v.name(), v.backend(), v.accuracy(), v.sparsity(), v.params(),
                    v.bytes(), v.latencyMs(), v.throughput()));
        }
        return sb.toString();
    }
}
