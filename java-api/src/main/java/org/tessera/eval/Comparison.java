package org.tessera.eval;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Model variants side by side (fp32, int8, sparse, student, baselines) on the same examples: accuracy, macro-F1,
 * agreement with the reference variant, and the deltas to it.
 */
public final class Comparison {
    private final String reference;
    private final Map<String, ClassificationReport> variants = new LinkedHashMap<>();

    /** A comparison against the variant named {@code reference} (added first). */
    public Comparison(String reference, ClassificationReport report) {
        this.reference = reference;
        variants.put(reference, report);
    }

    /** Adds a variant evaluated on the same examples. */
    public Comparison add(String name, ClassificationReport report) {
        if (report.count() != variants.get(reference).count()) {
            throw new IllegalArgumentException(name + " covers " + report.count() + " examples, the reference " + variants.get(reference).count());
        }
        variants.put(name, report);
        return this;
    }

    public Map<String, ClassificationReport> variants() {
        return variants;
    }

    /** The table: one line per variant. */
    public String table() {
        ClassificationReport ref = variants.get(reference);
        StringBuilder b = new StringBuilder(String.format("%-16s %9s %9s %9s %9s %10s%n", "variant", "accuracy", "delta", "macro-F1", "delta", "agreement"));
        for (var e : variants.entrySet()) {
            ClassificationReport r = e.getValue();
            b.append(String.format("%-16s %9.4f %+9.4f %9.4f %+9.4f %10.4f%n", e.getKey(), r.accuracy(), r.accuracy() - ref.accuracy(), r.macroF1(),
                    r.macroF1() - ref.macroF1(), r.agreement(ref)));
        }
        return b.toString();
    }
}
