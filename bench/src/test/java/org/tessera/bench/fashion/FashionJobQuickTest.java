package org.tessera.bench.fashion;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tessera.data.FashionMnist;
import org.tessera.io.Json;

/**
 * The main job end to end on a subset ({@code --quick}) of the real data: every stage runs, the summary has
 * every variant on every backend, and the accuracies are far above chance (a broken model reaches ~10%) yet
 * below 100% (a label leak). Needs Debian's dataset-fashion-mnist, which .ci/run installs.
 */
class FashionJobQuickTest {
    @Test
    @SuppressWarnings("unchecked")
    void quickRunTrainsEvaluatesAndReports(@TempDir Path out) throws IOException {
        assertTrue(Files.isDirectory(FashionMnist.DEBIAN_DIR), "Fashion-MNIST is missing: sudo apt-get install -y dataset-fashion-mnist (.ci/run installs it)");
        FashionJob.Results r = new FashionJob(JobOptions.parse(new String[] {"--quick", "--out", out.toString()})).run();
        assertTrue(r.fp32().accuracy() > 0.7 && r.fp32().accuracy() < 0.99, "fp32 accuracy " + r.fp32().accuracy());
        assertTrue(r.linearAccuracy() > 0.5 && r.majorityAccuracy() < 0.2, "baselines " + r.linearAccuracy() + ", " + r.majorityAccuracy());
        Map<String, Object> summary = (Map<String, Object>) Json.parse(Files.readString(out.resolve("summary.json")));
        List<Object> variants = (List<Object>) summary.get("variants");
        Set<String> names = new HashSet<>();
        for (Object o : variants) {
            Map<String, Object> v = (Map<String, Object>) o;
            names.add((String) v.get("name"));
            double acc = ((Number) v.get("accuracy")).doubleValue();
            assertTrue(acc > 0.6 && acc < 0.99, v.toString());
            assertTrue(((Number) v.get("latency_ms")).doubleValue() > 0 && ((Number) v.get("throughput")).doubleValue() > 0, v.toString());
            assertTrue(((Number) v.get("bytes")).longValue() > 0 && ((Number) v.get("params")).longValue() > 0, v.toString());
        }
        assertEquals(Set.of("fp32", "int8", "int8-qat", "sparse", "sparse-int8", "student"), names);
        assertEquals(0, variants.size() % 6, "every variant on every backend");
        // training speed-ups: each round's ratio, medians; with one thread there are none (null)
        Map<String, Object> rates = (Map<String, Object>) summary.get("training_images_per_second");
        Map<String, Object> speedups = (Map<String, Object>) summary.get("training_speedup_over_one_thread");
        assertTrue(((Number) rates.get("one_thread")).doubleValue() > 0, rates.toString());
        if (org.tessera.Tessera.threads() > 1) {
            assertTrue(((Number) speedups.get("data_parallel")).doubleValue() > 0.5, speedups.toString());
            assertTrue(((Number) speedups.get("intra_op")).doubleValue() > 0.5, speedups.toString());
        } else {
            assertNull(speedups.get("data_parallel"), speedups.toString());
        }
        String html = Files.readString(out.resolve("report.html"));
        assertEquals(5, html.split("data:image/png;base64,", -1).length - 1, "five charts");
        assertTrue(Files.size(out.resolve("model-fp32.safetensors")) > 1_000_000);
        // the int8 model file: a quarter of the fp32 bytes or so, and it loads into a working model
        long int8Bytes = Files.size(out.resolve("model-int8.safetensors"));
        assertTrue(int8Bytes > 300_000 && int8Bytes < 600_000, "model-int8.safetensors is " + int8Bytes + " bytes");
        for (String f : List.of("model-sparse-int8.safetensors", "model-qat-int8.safetensors")) {
            try (org.tessera.nn.QuantizedModel q = org.tessera.nn.QuantizedModel.load(out.resolve(f), org.tessera.Ops.auto())) {
                assertTrue(q.summary().contains("int8"), f + ": " + q.summary());
            }
        }
    }
}
