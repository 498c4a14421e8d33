package org.tessera.bench.fashion;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One model variant timed on one backend: the row of the summary table and of {@code summary.json}.
 *
 * @param accuracy   test-set accuracy (fraction)
 * @param sparsity   fraction of zero weights over all weight parameters
 * @param params     parameter count
 * @param bytes      parameter bytes as stored for inference (int8 weights 1 byte, sparse: values + indices)
 * @param latencyMs  median latency of one image (batch 1)
 * @param throughput images per second at batch 256
 */
record Variant(String name, String backend, double accuracy, double sparsity, long params, long bytes, double latencyMs, double throughput) {
    Map<String, Object> json() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("backend", backend);
        m.put("accuracy", round(accuracy, 4));
        m.put("sparsity", round(sparsity, 4));
        m.put("params", params);
        m.put("bytes", bytes);
        m.put("latency_ms", round(latencyMs, 4));
        m.put("throughput", round(throughput, 1));
        return m;
    }

    static double round(double v, int digits) {
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }
}
