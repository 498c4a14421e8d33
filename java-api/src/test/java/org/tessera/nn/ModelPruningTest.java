package org.tessera.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.tessera.Ops;
import org.tessera.Tensor;
import org.tessera.testing.KernelAssertions;
import org.tessera.testing.SeededRandom;
import org.tessera.testing.TestData;

/** Pruned models run their sparse layers on the sparse kernels for single examples, the GEMM otherwise, and still match the reference. */
@ExtendWith(SeededRandom.class)
class ModelPruningTest {
    static Sequential mlp(long seed) {
        return Sequential.builder(96).seed(seed).linear(128).batchNorm().relu().linear(200).relu().linear(10).build();
    }

    @Test
    void prunedLayersRunSparseAndMatchTheReference(SplittableRandom rnd) {
        for (Pruning.Structure s : Pruning.Structure.values()) {
            try (Sequential m = mlp(rnd.nextLong())) {
                var masks = Pruning.prune(m, 0.92, s); // past the batch-1 crossover (90% for CSR) with rounding to spare
                assertEquals(2, masks.size(), "the classifier stays dense");
                assertEquals(0.92, masks.get("3.weight").sparsity(), 0.01);
                String labels = String.join("\n", m.plan(Ops.auto()).steps().stream().map(Step::label).toList());
                assertTrue(labels.contains("0-2 linear+batchnorm+relu sparse " + (s == Pruning.Structure.BLOCK_4X1 ? "bsr4x1" : "csr")), labels);
                assertTrue(Pruning.report(m).toString().contains("3.weight"));
                for (int n : new int[] {1, 7, 64}) {
                    float[] x = TestData.floats(rnd, n * 96);
                    try (Tensor t = Tensor.of(x, n, 96); Tensor y = m.predict(t)) {
                        KernelAssertions.assertClose(s + " n=" + n, SequentialTest.reference(m, x, n), y.toFloatArray(), 1e-5);
                    }
                }
            }
        }
    }

    /** Pruned layers quantize like dense ones and run the dense int8 GEMM, faster than the sparse int8 kernel at every measured batch. */
    @Test
    void prunedLayersQuantizeOntoTheDenseInt8Gemm(SplittableRandom rnd) {
        try (Sequential m = mlp(rnd.nextLong())) {
            Pruning.prune(m, 0.8, Pruning.Structure.BLOCK_4X1);
            float[] x = new float[64 * 96];
            for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextDouble();
            QuantizedModel.Builder b = QuantizedModel.builder(m);
            try (Tensor t = Tensor.of(x, 64, 96)) {
                b.calibrate(t);
                try (QuantizedModel q = b.build(Ops.auto()); Tensor ref = m.predict(t); Tensor y = q.predict(t)) {
                    assertTrue(q.summary().contains("linear+batchnorm+relu int8") && !q.summary().contains("sparse"), q.summary());
                    KernelAssertions.assertClose("sparse int8", ref.toFloatArray(), y.toFloatArray(), 0.05);
                }
            }
        }
    }
}
