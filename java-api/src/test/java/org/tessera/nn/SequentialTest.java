package org.tessera.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.tessera.Conv2dParams;
import org.tessera.Ops;
import org.tessera.Pool2dParams;
import org.tessera.Tensor;
import org.tessera.Tessera;
import org.tessera.kernels.spi.Backend;
import org.tessera.testing.KernelAssertions;
import org.tessera.testing.SeededRandom;
import org.tessera.testing.TestData;

/**
 * Models against the double-precision reference forward on every host backend: every layer type, BatchNorm
 * folding with random statistics, ReLU fusion, odd sizes, batch 1; shape errors naming the layer; concurrent
 * predicts; the NaN/Inf debug checks.
 */
@ExtendWith(SeededRandom.class)
class SequentialTest {
    static Stream<String> backends() {
        return Stream.of("native", "java");
    }

    static Ops ops(String name) {
        Backend b = Tessera.backend(name);
        assumeTrue(b.availability().available(), name + " " + b.availability());
        return Ops.on(b);
    }

    /** Every layer type; random BatchNorm statistics so folding is really exercised. */
    static Sequential everyLayer(SplittableRandom rnd) {
        Sequential m = Sequential.builder(9, 7, 3).seed(rnd.nextLong())
                .conv2d(4, 3, 1).batchNorm().relu()
                .depthwiseConv2d(3, 1).relu6()
                .add(new Conv2d(4, 6, 1, 2, Conv2dParams.builder().stride(1, 2).groups(2).build(), true)).gelu()
                .maxPool2d(2)
                .add(new Pool2d(false, new Pool2dParams(2, 3, 1, 1, 1, 0, 1, 1, false))).tanh()
                .flatten().dropout(0.3)
                .linear(11).batchNorm().sigmoid()
                .linear(5).logSoftmax()
                .build();
        for (Layer l : m.layers()) {
            if (l instanceof BatchNorm bn) {
                var p = bn.parameters();
                p.get("weight").copyFrom(floats(rnd, bn.channels(), 0.5, 1.5));
                p.get("bias").copyFrom(floats(rnd, bn.channels(), -0.5, 0.5));
                p.get("running_mean").copyFrom(floats(rnd, bn.channels(), -0.5, 0.5));
                p.get("running_var").copyFrom(floats(rnd, bn.channels(), 0.2, 2));
            }
        }
        return m;
    }

    static float[] floats(SplittableRandom rnd, int n, double lo, double hi) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (lo + rnd.nextDouble() * (hi - lo));
        return v;
    }

    static float[] reference(Sequential m, float[] batch, int n) {
        int per = (int) Shapes.numel(m.inputShape()), outPer = (int) Shapes.numel(m.outputShape());
        float[] y = new float[n * outPer];
        for (int b = 0; b < n; b++) {
            double[] x = new double[per];
            for (int i = 0; i < per; i++) x[i] = batch[b * per + i];
            double[] r = ReferenceModel.forward(m, x);
            for (int i = 0; i < outPer; i++) y[b * outPer + i] = (float) r[i];
        }
        return y;
    }

    /** A short-patch convolution and the max pooling after it: one fused step where the backend can, same results. */
    @ParameterizedTest
    @MethodSource("backends")
    void convolutionFusedWithItsPoolingMatchesTheReference(String backend, SplittableRandom rnd) {
        Ops ops = ops(backend);
        try (Sequential m = Sequential.builder(11, 13, 2).seed(rnd.nextLong()).conv2d(20, 3, 1).batchNorm().relu().maxPool2d(2)
                .conv2d(9, 3, 1).maxPool2d(3).flatten().linear(7).build()) {
            for (int n : new int[] {1, 5}) {
                float[] x = TestData.floats(rnd, n * 11 * 13 * 2);
                try (Tensor batch = Tensor.of(x, n, 11, 13, 2); Tensor y = m.predict(batch, ops)) {
                    KernelAssertions.assertClose(backend + " n=" + n, reference(m, x, n), y.toFloatArray(), 1e-5);
                }
            }
            // the 3x3x2 patch (18 elements) takes the fused kernel (native, and the Vector API's); the 3x3x20 one does not
            String first = m.plan(ops).steps().getFirst().label();
            boolean fused = first.equals("0-3 conv2d+batchnorm+relu+maxpool2d");
            if (backend.equals("native")) assertTrue(fused, first);
            assertEquals(fused ? 5 : 6, m.plan(ops).steps().size(), m.plan(ops).steps().toString());
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void everyLayerMatchesTheReference(String backend, SplittableRandom rnd) {
        Ops ops = ops(backend);
        try (Sequential m = everyLayer(rnd)) {
            assertArrayEquals(new long[] {5}, m.outputShape());
            for (int n : new int[] {1, 3, 8}) {
                float[] x = TestData.floats(rnd, n * 9 * 7 * 3);
                try (Tensor batch = Tensor.of(x, n, 9, 7, 3); Tensor y = m.predict(batch, ops)) {
                    assertArrayEquals(new long[] {n, 5}, y.shape());
                    KernelAssertions.assertClose(backend + " n=" + n, reference(m, x, n), y.toFloatArray(), 1e-5);
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void globalPoolingAndSoftmax(String backend, SplittableRandom rnd) {
        Ops ops = ops(backend);
        try (Sequential m = Sequential.builder(5, 5, 2).seed(rnd.nextLong()).conv2d(8, 3, Conv2dParams.builder().stride(2).build()).relu()
                .globalAvgPool().linear(3).softmax().build()) {
            float[] x = TestData.floats(rnd, 4 * 50);
            try (Tensor batch = Tensor.of(x, 4, 5, 5, 2); Tensor y = m.predict(batch, ops)) {
                KernelAssertions.assertClose(backend, reference(m, x, 4), y.toFloatArray(), 1e-5);
                float[] p = y.toFloatArray();
                assertEquals(1.0, p[0] + p[1] + p[2], 1e-5);
            }
        }
    }

    @Test
    void aStridedBatchIsReadInPlaceOfACopy(SplittableRandom rnd) {
        try (Sequential m = Sequential.builder(6).seed(1).linear(4).relu().linear(2).build();
             Tensor wide = Tensor.of(TestData.floats(rnd, 5 * 9), 5, 9); Tensor dense = wide.slice(1, 2, 8).copy();
             Tensor a = m.predict(wide.slice(1, 2, 8)); Tensor b = m.predict(dense)) {
            KernelAssertions.assertExact("strided batch", b.toFloatArray(), a.toFloatArray());
        }
    }

    @Test
    void shapeErrorsNameTheLayerAndDimension() {
        var e = assertThrows(IllegalArgumentException.class, () -> Sequential.builder(28, 28, 1).conv2d(8, 3, 1).linear(10));
        assertTrue(e.getMessage().contains("layer 1 (linear)") && e.getMessage().contains("flatten()"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Sequential.builder(28, 28, 1).add(new Conv2d(3, 8, 3, 3, Conv2dParams.DEFAULT, true)));
        assertTrue(e.getMessage().contains("layer 0 (conv2d)") && e.getMessage().contains("expects 3 input channels, got 1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Sequential.builder(4, 4, 1).maxPool2d(2).maxPool2d(2).maxPool2d(2));
        assertTrue(e.getMessage().contains("layer 2 (maxpool2d)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Sequential.builder(6).add(new Linear(5, 2, true)));
        assertTrue(e.getMessage().contains("expects 5 input features, got 6"), e.getMessage());
    }

    @Test
    void badBatchesAndClosedModelsThrow(SplittableRandom rnd) {
        Sequential m = Sequential.builder(6).linear(2).build();
        try (Tensor wrong = Tensor.of(TestData.floats(rnd, 10), 2, 5); Tensor ints = Tensor.of(new int[12], 2, 6); Tensor ok = Tensor.of(TestData.floats(rnd, 6), 1, 6)) {
            var e = assertThrows(IllegalArgumentException.class, () -> m.predict(wrong));
            assertTrue(e.getMessage().contains("[n >= 1, 6]"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> m.predict(ints));
            m.close();
            assertThrows(IllegalStateException.class, () -> m.predict(ok));
        }
    }

    @Test
    void concurrentPredictsGiveTheSingleThreadedResults(SplittableRandom rnd) throws Exception {
        try (Sequential m = everyLayer(rnd); ExecutorService pool = Executors.newFixedThreadPool(4)) {
            List<float[]> inputs = new ArrayList<>(), expected = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                float[] x = TestData.floats(rnd, (1 + i % 3) * 189);
                inputs.add(x);
                try (Tensor t = Tensor.of(x, 1 + i % 3, 9, 7, 3); Tensor y = m.predict(t)) {
                    expected.add(y.toFloatArray());
                }
            }
            List<Future<float[]>> results = new ArrayList<>();
            for (int rep = 0; rep < 5; rep++) {
                for (int i = 0; i < 8; i++) {
                    int k = i;
                    results.add(pool.submit(() -> {
                        try (Tensor t = Tensor.of(inputs.get(k), 1 + k % 3, 9, 7, 3); Tensor y = m.predict(t)) {
                            return y.toFloatArray();
                        }
                    }));
                }
            }
            for (int i = 0; i < results.size(); i++) KernelAssertions.assertExact("call " + i, expected.get(i % 8), results.get(i).get());
        }
    }

    @Test
    void debugChecksNameTheFirstLayerProducingNaN(SplittableRandom rnd) {
        try (Sequential m = Sequential.builder(4).linear(8).relu().linear(8).tanh().linear(3).build();
             Tensor x = Tensor.of(TestData.floats(rnd, 8), 2, 4)) {
            m.parameters().get("2.weight").setFloat(Float.NaN, 3, 1);
            m.parametersChanged();
            var e = assertThrows(NonFiniteException.class, m::checkParameters);
            assertTrue(e.getMessage().contains("2.weight") && e.getMessage().contains("element 25"), e.getMessage());
            try (Tensor y = m.predict(x)) {
                assertTrue(Float.isNaN(y.getFloat(0, 0)), "without checks NaN flows to the output");
            }
            m.debugChecks(true);
            e = assertThrows(NonFiniteException.class, () -> m.predict(x));
            assertTrue(e.getMessage().startsWith("layer 2 linear produced NaN"), e.getMessage());
        }
    }

    @Test
    void sameSeedSameWeightsAndSummary() {
        try (Sequential a = Sequential.builder(28, 28, 1).seed(7).conv2d(4, 3, 1).relu().flatten().linear(10).build();
             Sequential b = Sequential.builder(28, 28, 1).seed(7).conv2d(4, 3, 1).relu().flatten().linear(10).build()) {
            KernelAssertions.assertExact("seeded init", a.parameters().get("3.weight").toFloatArray(), b.parameters().get("3.weight").toFloatArray());
            assertEquals(4 * 9 + 4 + 28 * 28 * 4 * 10 + 10, a.parameterCount());
            assertTrue(a.summary().contains("[28, 28, 4]"), a.summary());
        }
    }
}
