package org.tessera.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.tessera.Tensor;
import org.tessera.io.SafetensorsWriter;
import org.tessera.testing.KernelAssertions;
import org.tessera.testing.SeededRandom;
import org.tessera.testing.TestData;

/** Model files: bit-exact save/load, weights from other tools by name, and files that do not fit the model. */
@ExtendWith(SeededRandom.class)
class ModelFileTest {
    @TempDir
    Path dir;

    @Test
    void saveLoadIsBitExact(SplittableRandom rnd) throws IOException {
        Path p = dir.resolve("model.safetensors");
        try (Sequential m = SequentialTest.everyLayer(rnd)) {
            ModelFile.save(m, p);
            float[] x = TestData.floats(rnd, 3 * 189);
            try (Sequential back = ModelFile.load(p); Tensor batch = Tensor.of(x, 3, 9, 7, 3); Tensor a = m.predict(batch); Tensor b = back.predict(batch)) {
                assertEquals(m.architecture().toString(), back.architecture().toString());
                for (var e : m.parameters().entrySet()) {
                    KernelAssertions.assertExact(e.getKey(), e.getValue().toFloatArray(), back.parameters().get(e.getKey()).toFloatArray());
                }
                KernelAssertions.assertExact("predictions", a.toFloatArray(), b.toFloatArray());
            }
        }
    }

    @Test
    void weightsFromAnotherToolLoadByName(SplittableRandom rnd) throws IOException {
        Path p = dir.resolve("state_dict.safetensors");
        try (Sequential m = Sequential.builder(6).linear(4).batchNorm().relu().linear(3).build();
             Tensor w0 = Tensor.of(TestData.floats(rnd, 24), 4, 6); Tensor b0 = Tensor.of(TestData.floats(rnd, 4), 4);
             Tensor g = Tensor.of(TestData.floats(rnd, 4), 4); Tensor be = Tensor.of(TestData.floats(rnd, 4), 4);
             Tensor mu = Tensor.of(TestData.floats(rnd, 4), 4); Tensor var = Tensor.of(new float[] {1, 2, 3, 4}, 4);
             Tensor count = Tensor.of(new int[] {100}); Tensor w3 = Tensor.of(TestData.floats(rnd, 12), 3, 4); Tensor b3 = Tensor.of(TestData.floats(rnd, 3), 3)) {
            Map<String, Tensor> sd = new LinkedHashMap<>();
            sd.put("3.bias", b3);
            sd.put("0.weight", w0);
            sd.put("0.bias", b0);
            sd.put("1.weight", g);
            sd.put("1.bias", be);
            sd.put("1.running_mean", mu);
            sd.put("1.running_var", var);
            sd.put("1.num_batches_tracked", count);
            sd.put("3.weight", w3);
            SafetensorsWriter.write(p, sd, Map.of());
            var e = assertThrows(IOException.class, () -> ModelFile.load(p));
            assertTrue(e.getMessage().contains("loadWeights"), e.getMessage());
            ModelFile.loadWeights(m, p);
            KernelAssertions.assertExact("0.weight", w0.toFloatArray(), m.parameters().get("0.weight").toFloatArray());
            KernelAssertions.assertExact("1.running_var", var.toFloatArray(), m.parameters().get("1.running_var").toFloatArray());
        }
    }

    @Test
    void filesThatDoNotFitTheModelSayHow(SplittableRandom rnd) throws IOException {
        Path p = dir.resolve("other.safetensors");
        try (Sequential small = Sequential.builder(6).linear(4).build(); Sequential wide = Sequential.builder(6).linear(5).build();
             Sequential deeper = Sequential.builder(6).linear(4).relu().linear(2).build()) {
            ModelFile.save(small, p);
            var e = assertThrows(IOException.class, () -> ModelFile.loadWeights(wide, p));
            assertTrue(e.getMessage().contains("0.weight is [4, 6], the model needs [5, 6]"), e.getMessage());
            e = assertThrows(IOException.class, () -> ModelFile.loadWeights(deeper, p));
            assertTrue(e.getMessage().contains("missing [2.weight, 2.bias]"), e.getMessage());
        }
    }

    @Test
    void badArchitecturesAreIoErrors() throws IOException {
        Path p = dir.resolve("arch.safetensors");
        try (Tensor w = Tensor.of(new float[8], 2, 4)) {
            for (String arch : new String[] {"{\"format\":\"tessera.sequential\",\"input\":[4],\"layers\":[{\"type\":\"warp\"}]}",
                    "{\"format\":\"tessera.sequential\",\"input\":[4],\"layers\":[{\"type\":\"linear\",\"in\":5,\"out\":2,\"bias\":false}]}",
                    "{\"format\":\"tessera.sequential\",\"input\":[4],\"layers\":[{\"type\":\"linear\",\"in\":4,\"out\":-2}]}", "[]"}) {
                SafetensorsWriter.write(p, Map.of("0.weight", w), Map.of(ModelFile.ARCHITECTURE_KEY, arch));
                var e = assertThrows(IOException.class, () -> ModelFile.load(p), arch);
                assertTrue(e.getMessage().contains("bad architecture"), e.getMessage());
            }
        }
    }
}
