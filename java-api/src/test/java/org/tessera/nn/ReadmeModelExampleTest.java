package org.tessera.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.tessera.Ops;
import org.tessera.Tensor;
import org.tessera.eval.ClassificationReport;
import org.tessera.testing.SeededRandom;

/** The README's model example, end to end, kept compiling and running. */
@ExtendWith(SeededRandom.class)
class ReadmeModelExampleTest {
    @TempDir
    Path dir;

    @Test
    void readmeModelExample(SplittableRandom rnd) throws Exception {
        float[] pixels = new float[8 * 784];
        for (int i = 0; i < pixels.length; i++) pixels[i] = (float) rnd.nextDouble();
        int[] labels = {0, 1, 2, 3, 4, 5, 6, 9};
        try (Sequential model = Sequential.builder(28, 28, 1).seed(42)
                .conv2d(32, 3, 1).batchNorm().relu().maxPool2d(2)
                .conv2d(64, 3, 1).relu().maxPool2d(2)
                .flatten().linear(128).relu().dropout(0.25).linear(10).build();
             Tensor images = Tensor.of(pixels, 8, 28, 28, 1); Tensor logits = model.predict(images)) {
            assertArrayEquals(new long[] {8, 10}, logits.shape());
            ModelFile.save(model, dir.resolve("model.safetensors"));
            ModelFile.loadWeights(model, dir.resolve("model.safetensors"));
            model.debugChecks(true);
            QuantizedModel.Builder ptq = QuantizedModel.builder(model).calibration(Calibration.percentile(99.99));
            ptq.calibrate(images);
            try (QuantizedModel int8 = ptq.build(Ops.auto()); Tensor q = int8.predict(images)) {
                assertArrayEquals(new long[] {8, 10}, q.shape());
                int8.save(dir.resolve("model-int8.safetensors"));
                try (QuantizedModel same = QuantizedModel.load(dir.resolve("model-int8.safetensors"), Ops.auto()); Tensor q2 = same.predict(images)) {
                    assertArrayEquals(q.toFloatArray(), q2.toFloatArray());
                }
            }
            Pruning.pruneFilters(model, 0.4);
            Pruning.prune(model, 0.9, Pruning.Structure.BLOCK_4X1);
            try (Tensor pruned = model.predict(images); Sequential smaller = Pruning.removeDeadChannels(model); Tensor same = smaller.predict(images)) {
                assertTrue(smaller.parameterCount() < model.parameterCount(), "the second convolution's dead filters are gone");
                org.tessera.testing.KernelAssertions.assertClose("compacted", pruned.toFloatArray(), same.toFloatArray(), 1e-5);
                ClassificationReport r = ClassificationReport.of(ClassificationReport.softmax(pruned.toFloatArray(), 10), labels, 10);
                assertTrue(r.table().contains("accuracy"));
                assertEquals(1, r.slice(i -> labels[i] == 9).count());
            }
        }
    }
}
