package org.tessera.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.tessera.Ops;
import org.tessera.Tensor;
import org.tessera.io.SafetensorsFile;
import org.tessera.io.SafetensorsWriter;
import org.tessera.testing.SeededRandom;
import org.tessera.testing.TestData;

/** int8 model files: save -> load predicts the same bits (dense, pruned and compacted, 7- and 8-bit weights); bad files are clear errors. */
@ExtendWith(SeededRandom.class)
class QuantizedModelFileTest {
    /** conv (short sum: stays f32) + pool, conv + BatchNorm (int8), flatten, two linear layers (int8). */
    private static Sequential model(SplittableRandom rnd) {
        Sequential m = Sequential.builder(10, 9, 1).seed(rnd.nextLong()).conv2d(12, 3, 1).relu().maxPool2d(2).conv2d(16, 3, 1).batchNorm().relu()
                .flatten().linear(24).relu().linear(5).build();
        for (Layer l : m.layers()) {
            if (l instanceof BatchNorm bn) {
                bn.parameters().get("running_mean").copyFrom(SequentialTest.floats(rnd, bn.channels(), -0.5, 0.5));
                bn.parameters().get("running_var").copyFrom(SequentialTest.floats(rnd, bn.channels(), 0.2, 2));
                bn.parameters().get("weight").copyFrom(SequentialTest.floats(rnd, bn.channels(), 0.5, 1.5));
            }
        }
        return m;
    }

    private static QuantizedModel quantize(Sequential m, SplittableRandom rnd, int bits) {
        try (Tensor calib = Tensor.of(TestData.floats(rnd, 32 * 90), 32, 10, 9, 1)) {
            return QuantizedModel.builder(m).weightBits(bits).calibration(Calibration.percentile(99.9)).calibrate(calib).build(Ops.auto());
        }
    }

    @Test
    void saveThenLoadPredictsTheSameBits(SplittableRandom rnd, @TempDir Path dir) throws IOException {
        for (int bits : new int[] {7, 8}) {
            for (boolean sparse : new boolean[] {false, true}) {
                try (Sequential m = model(rnd)) {
                    if (sparse) { // 90% of the hidden layer's weights and half the first filters pruned: a compacted architecture is saved
                        Tensor w = m.parameters().get("7.weight");
                        float[] v = w.toFloatArray();
                        for (int i = 0; i < v.length; i++) if (rnd.nextInt(10) != 0) v[i] = 0;
                        w.copyFrom(v);
                        Pruning.pruneFilters(m, 0.5);
                    }
                    Path file = dir.resolve("q" + bits + sparse + ".safetensors"), fp32 = dir.resolve("f" + bits + sparse + ".safetensors");
                    ModelFile.save(m, fp32);
                    try (QuantizedModel q = quantize(m, rnd, bits); Tensor x = Tensor.of(TestData.floats(rnd, 7 * 90), 7, 10, 9, 1)) {
                        if (sparse) assertTrue(q.summary().contains("[5, 4, 6]"), "12 filters, 6 dead: " + q.summary());
                        q.save(file);
                        try (SafetensorsFile f = SafetensorsFile.open(file)) { // the 90%-zero s8 hidden weight goes CSR, the rest stays dense
                            assertEquals(sparse, f.contains("7.weight" + CsrWeights.VALUES) && !f.contains("7.weight"), f.entries().keySet().toString());
                            assertTrue(f.contains("9.weight"), f.entries().keySet().toString());
                        }
                        try (QuantizedModel back = QuantizedModel.load(file, Ops.auto()); Tensor a = q.predict(x); Tensor b = back.predict(x)) {
                            String what = bits + "-bit" + (sparse ? " sparse" : "");
                            assertArrayEquals(a.toFloatArray(), b.toFloatArray(), what);
                            assertEquals(q.summary(), back.summary(), what);
                            assertEquals(q.parameterBytes(), back.parameterBytes(), what);
                            assertTrue(Files.size(file) < Files.size(fp32) / 2, what + ": " + Files.size(file) + " vs fp32 " + Files.size(fp32));
                        }
                    }
                }
            }
        }
    }

    @Test
    void badFilesAreClearErrors(SplittableRandom rnd, @TempDir Path dir) throws IOException {
        Path good = dir.resolve("good.safetensors"), fp32 = dir.resolve("fp32.safetensors");
        try (Sequential m = model(rnd); QuantizedModel q = quantize(m, rnd, 7)) {
            q.save(good);
            ModelFile.save(m, fp32);
        }
        assertMessage(fp32, "not a Tessera int8 model");
        Path bad = dir.resolve("bad.safetensors");
        rewrite(good, bad, (t, meta) -> meta.put(QuantizedModelFile.RANGES_KEY, "{\"0\": [-1.0, 3]}"));
        assertMessage(bad, "scale > 0");
        rewrite(good, bad, (t, meta) -> meta.put(QuantizedModelFile.RANGES_KEY, "{}"));
        assertMessage(bad, "no activation range");
        rewrite(good, bad, (t, meta) -> meta.put(QuantizedModelFile.BITS_KEY, "4"));
        assertMessage(bad, "7 or 8");
        rewrite(good, bad, (t, meta) -> {
            try (Tensor w = t.get("3.weight")) {
                t.put("3.weight", Tensor.of(new float[(int) w.numel()], w.shape())); // f32 where the int8 layer's s8 weights belong
            }
        });
        assertMessage(bad, "must be I8");
        rewrite(good, bad, (t, meta) -> t.put("3.weight_scale", Tensor.of(new float[] {1f, 2f}, 2)));
        assertMessage(bad, "one per output channel");
        rewrite(good, bad, (t, meta) -> t.put("99.weight", Tensor.of(new float[] {1f}, 1)));
        assertMessage(bad, "unexpected tensor 99.weight");
        rewrite(good, bad, (t, meta) -> t.remove("0.bias").close());
        assertMessage(bad, "0.bias");
    }

    private static void assertMessage(Path file, String part) {
        IOException e = assertThrows(IOException.class, () -> QuantizedModel.load(file, Ops.auto()).close());
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }

    /** Copies {@code from} to {@code to} with the tensors and metadata edited. */
    private static void rewrite(Path from, Path to, BiConsumer<Map<String, Tensor>, Map<String, String>> edit) throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, String> meta;
        try (SafetensorsFile f = SafetensorsFile.open(from)) {
            for (String name : f.entries().keySet()) tensors.put(name, f.read(name));
            meta = new LinkedHashMap<>(f.metadata());
        }
        try {
            edit.accept(tensors, meta);
            SafetensorsWriter.write(to, tensors, meta);
        } finally {
            tensors.values().forEach(Tensor::close);
        }
    }
}
