package org.tessera.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.tessera.Ops;
import org.tessera.Tensor;
import org.tessera.eval.Baselines;
import org.tessera.eval.ClassificationReport;
import org.tessera.kernels.DType;
import org.tessera.testing.KernelAssertions;
import org.tessera.testing.SeededRandom;
import org.tessera.testing.TestData;

/**
 * Post-training quantization: int8 models against their f32 originals for every calibration method and for
 * layers with and without int8 kernels; a fitted classifier keeps its accuracy; sizes; bad use.
 */
@ExtendWith(SeededRandom.class)
class QuantizedModelTest {
    static Sequential cnn(long seed) {
        return Sequential.builder(12, 10, 2).seed(seed).conv2d(8, 3, 1).batchNorm().relu().maxPool2d(2)
                .conv2d(12, 3, 1).relu().flatten().linear(16).relu().linear(5).build();
    }

    static float[] images(SplittableRandom rnd, int n) {
        float[] x = new float[n * 240];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextDouble(); // pixels in [0, 1)
        return x;
    }

    static QuantizedModel quantize(Sequential m, Calibration c, float[] calib, int n, long... shape) {
        QuantizedModel.Builder b = QuantizedModel.builder(m).calibration(c);
        for (int i = 0; i < n; i += 16) {
            int k = Math.min(16, n - i);
            long[] s = shape.clone();
            s[0] = k;
            float[] part = java.util.Arrays.copyOfRange(calib, i * (calib.length / n), (i + k) * (calib.length / n));
            try (Tensor t = Tensor.of(part, s)) {
                b.calibrate(t);
            }
        }
        return b.build(Ops.auto());
    }

    @Test
    void givenRangesReplaceCalibrationExactlyWhereThePlanSays(SplittableRandom rnd) {
        Sequential mlp = Sequential.builder(6, 6, 2).seed(rnd.nextLong()).flatten().linear(40).relu().dropout(0.5).linear(33).relu().linear(3).build();
        assertEquals(List.of(0, 2, 5), java.util.Arrays.stream(QuantizedModel.plan(mlp).u8Outputs()).boxed().toList(), "flatten (folded), the ReLUs");
        for (Sequential m : List.of(cnn(rnd.nextLong()), mlp)) {
            long[] in = m.inputShape();
            float[] px = new float[3 * (int) (in[0] * in[1] * in[2])];
            for (int i = 0; i < px.length; i++) px[i] = (float) rnd.nextDouble();
            try (m; Tensor x = Tensor.of(px, 3, in[0], in[1], in[2])) {
                QuantizedModel.Plan plan = QuantizedModel.plan(m);
                assertTrue(plan.u8Outputs().length >= 2 && plan.int8Layers().length >= 2, java.util.Arrays.toString(plan.u8Outputs()));
                QuantizedModel.Builder b = QuantizedModel.builder(m);
                for (int layer : plan.u8Outputs()) b.activationRange(layer, -1, 4);
                try (QuantizedModel q = b.build(Ops.auto()); Tensor y = q.predict(x)) { // no calibration: the plan named every range build needs
                    assertEquals(3, y.dim(0));
                }
                int outside = m.layers().size() - 1; // the last layer's output stays f32
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> QuantizedModel.builder(m).activationRange(outside, 0, 1).build(Ops.auto()));
                assertTrue(e.getMessage().contains("layer " + outside), e.getMessage());
                assertThrows(IllegalArgumentException.class, () -> QuantizedModel.builder(m).activationRange(0, 1, 0));
                assertThrows(IllegalArgumentException.class, () -> QuantizedModel.builder(m).activationRange(0, Float.NaN, 1));
            }
        }
    }

    @Test
    void int8CnnTracksTheF32ModelForEveryCalibration(SplittableRandom rnd) {
        try (Sequential m = cnn(rnd.nextLong())) {
            float[] calib = images(rnd, 64), test = images(rnd, 40);
            for (Calibration c : new Calibration[] {Calibration.minMax(), Calibration.percentile(99.9), Calibration.mse()}) {
                try (QuantizedModel q = quantize(m, c, calib, 64, 0, 12, 10, 2); Tensor x = Tensor.of(test, 40, 12, 10, 2);
                     Tensor ref = m.predict(x); Tensor y = q.predict(x)) {
                    assertEquals(DType.F32, y.dtype());
                    KernelAssertions.assertClose(c.method(), ref.toFloatArray(), y.toFloatArray(), 0.08);
                    assertTrue(q.summary().contains("int8") && q.summary().contains("U8"), q.summary());
                }
            }
            try (QuantizedModel q = quantize(m, Calibration.minMax(), calib, 64, 0, 12, 10, 2)) {
                assertTrue(q.parameterBytes() * 3 < m.parameterBytes(), q.parameterBytes() + " vs " + m.parameterBytes());
            }
        }
    }

    @Test
    void layersWithoutInt8KernelsRunInF32Between(SplittableRandom rnd) {
        // sums of 36, 32 and 32 products: all three weighted layers run int8
        try (Sequential m = Sequential.builder(6, 6, 4).seed(rnd.nextLong()).conv2d(8, 3, 1).gelu().avgPool2d(2).conv2d(32, 2, 0).relu()
                .globalAvgPool().linear(3).softmax().build()) {
            float[] xs = java.util.Arrays.copyOf(images(rnd, 32), 32 * 144);
            try (QuantizedModel q = quantize(m, Calibration.mse(), xs, 32, 0, 6, 6, 4); Tensor t = Tensor.of(xs, 32, 6, 6, 4);
                 Tensor ref = m.predict(t); Tensor y = q.predict(t)) {
                KernelAssertions.assertClose("mixed", ref.toFloatArray(), y.toFloatArray(), 0.05);
                assertEquals(3, q.summary().lines().filter(l -> l.contains(" int8")).count(), q.summary());
            }
        }
    }

    /** 7-bit weights (the fast AVX2 kernel's range) stay close to f32; other bit counts are refused. */
    @Test
    void sevenBitWeights(SplittableRandom rnd) {
        try (Sequential m = Sequential.builder(8, 8, 4).seed(rnd.nextLong()).conv2d(16, 3, 1).relu().maxPool2d(2).flatten().linear(6).build();
             Tensor t = Tensor.of(java.util.Arrays.copyOf(images(rnd, 16), 16 * 256), 16, 8, 8, 4)) {
            QuantizedModel.Builder b = QuantizedModel.builder(m).weightBits(7).calibrate(t);
            try (QuantizedModel q = b.build(Ops.auto()); Tensor ref = m.predict(t); Tensor y = q.predict(t)) {
                assertEquals(2, q.summary().lines().filter(l -> l.contains(" int8")).count(), q.summary());
                KernelAssertions.assertClose("7-bit weights", ref.toFloatArray(), y.toFloatArray(), 0.05);
            }
            assertThrows(IllegalArgumentException.class, () -> QuantizedModel.builder(m).weightBits(4));
            assertThrows(IllegalArgumentException.class, () -> QuantizedModel.builder(m).weightBits(9));
        }
    }

    /** Sums shorter than MIN_INT8_TAPS (a 3x3 filter on one channel: 9) stay f32, and the activation is quantized after them. */
    @Test
    void shortSumLayersStayF32(SplittableRandom rnd) {
        try (Sequential m = Sequential.builder(8, 8, 1).seed(rnd.nextLong()).conv2d(16, 3, 1).relu().maxPool2d(2).conv2d(8, 3, 1).relu().flatten()
                .linear(5).build()) {
            float[] xs = java.util.Arrays.copyOf(images(rnd, 16), 16 * 64);
            try (QuantizedModel q = quantize(m, Calibration.minMax(), xs, 16, 0, 8, 8, 1); Tensor t = Tensor.of(xs, 16, 8, 8, 1);
                 Tensor ref = m.predict(t); Tensor y = q.predict(t)) {
                List<String> lines = q.summary().lines().toList();
                // f32, alone or fused with the pooling after it where the backend can
                assertTrue(lines.get(0).matches("0-(1 conv2d\\+relu|2 conv2d\\+relu\\+maxpool2d) .*") && !lines.get(0).contains("int8"), q.summary());
                assertTrue(lines.stream().anyMatch(l -> l.startsWith("3-4 conv2d+relu (quantize to u8)")), q.summary());
                assertEquals(2, lines.stream().filter(l -> l.contains(" int8")).count(), q.summary());
                KernelAssertions.assertClose("short sums in f32", ref.toFloatArray(), y.toFloatArray(), 0.05);
            }
        }
    }

    @Test
    void aFittedClassifierKeepsItsAccuracy(SplittableRandom rnd) {
        // 4 Gaussian blobs in 20-D; a random ReLU feature layer, then a least-squares readout fitted on the features
        int n = 800, d = 20, h = 64, k = 4;
        float[][] centers = new float[k][d];
        for (float[] c : centers) for (int j = 0; j < d; j++) c[j] = (float) rnd.nextGaussian();
        float[] x = new float[n * d];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = rnd.nextInt(k);
            for (int j = 0; j < d; j++) x[i * d + j] = centers[y[i]][j] + (float) (1.1 * rnd.nextGaussian());
        }
        try (Sequential m = Sequential.builder(d).seed(rnd.nextLong()).linear(h).relu().linear(k).build(); Tensor xt = Tensor.of(x, n, d)) {
            float[] feats;
            try (Sequential body = Sequential.builder(d).linear(h).relu().build()) {
                body.parameters().get("0.weight").copyFrom(m.parameters().get("0.weight"));
                body.parameters().get("0.bias").copyFrom(m.parameters().get("0.bias"));
                try (Tensor f = body.predict(xt)) {
                    feats = f.toFloatArray();
                }
            }
            Baselines.Linear fit = Baselines.linear(feats, y, n, h, k, 1.0);
            float[] wout = new float[k * h], bout = new float[k];
            for (int c = 0; c < k; c++) {
                for (int j = 0; j < h; j++) wout[c * h + j] = (float) fit.weights()[j * k + c];
                bout[c] = (float) fit.weights()[h * k + c];
            }
            m.parameters().get("2.weight").copyFrom(wout);
            m.parameters().get("2.bias").copyFrom(bout);
            m.parametersChanged();
            try (QuantizedModel q = quantize(m, Calibration.percentile(99.99), x, n, 0, d); Tensor a = m.predict(xt); Tensor b = q.predict(xt)) {
                ClassificationReport rf = ClassificationReport.of(ClassificationReport.softmax(a.toFloatArray(), k), y, k);
                ClassificationReport rq = ClassificationReport.of(ClassificationReport.softmax(b.toFloatArray(), k), y, k);
                assertTrue(rf.accuracy() > 0.8, "the fitted f32 model learned the blobs: " + rf.accuracy());
                assertTrue(rq.accuracy() >= rf.accuracy() - 0.01, "int8 " + rq.accuracy() + " vs f32 " + rf.accuracy());
                assertTrue(rq.agreement(rf) > 0.97, "agreement " + rq.agreement(rf));
            }
        }
    }

    @Test
    void misuseIsAClearError(SplittableRandom rnd) {
        try (Sequential m = cnn(1)) {
            assertThrows(IllegalStateException.class, () -> QuantizedModel.builder(m).build(Ops.auto()));
            float[] calib = images(rnd, 16);
            try (QuantizedModel q = quantize(m, Calibration.minMax(), calib, 16, 0, 12, 10, 2); Tensor bad = Tensor.of(calib, 16, 12, 10, 2)) {
                bad.setFloat(Float.NaN, 3, 1, 1, 1);
                var e = assertThrows(NonFiniteException.class, () -> q.predict(bad));
                assertTrue(e.getMessage().contains("NaN"), e.getMessage());
            }
            assertThrows(IllegalArgumentException.class, () -> Calibration.percentile(30));
        }
    }
}
