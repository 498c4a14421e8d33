package org.tessera.train;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.tessera.Conv2dParams;
import org.tessera.Ops;
import org.tessera.Pool2dParams;
import org.tessera.Tensor;
import org.tessera.kernels.DType;
import org.tessera.nn.BatchNorm;
import org.tessera.nn.Nonlinearity;
import org.tessera.nn.Pool2d;
import org.tessera.nn.Sequential;

/**
 * Every layer's and loss's backward against central finite differences of the loss. Each model places the
 * layer under test after a weighted layer, so that layer's parameter gradients check the input gradient too.
 */
class GradientCheckTest {
    private static final long SEED = Long.getLong("tessera.test.seed", System.nanoTime()); // rerun a failure with -Dtessera.test.seed=N

    @Test
    void convolutionPoolingBatchNormAndActivations() {
        Sequential m = Sequential.builder(6, 7, 2).seed(SEED).conv2d(3, 3, 1).add(new BatchNorm(3, 1e-5f)).relu().maxPool2d(2)
                .conv2d(4, 2, new Conv2dParams(1, 2, 1, 0, 0, 1, 1, 1, 1)).gelu().add(new Pool2d(false, Pool2dParams.of(2, 1, 0))).flatten().linear(5).sigmoid()
                .linear(3).build();
        check(m, Loss.crossEntropy(), 4, 0);
    }

    @Test
    void depthwiseGroupedGlobalPoolRelu6TanhAndLogSoftmaxWithMse() {
        Sequential m = Sequential.builder(5, 5, 4).seed(SEED).depthwiseConv2d(3, 1).relu6().conv2d(6, 1, 0).globalAvgPool().linear(4).tanh().linear(3)
                .logSoftmax().build();
        check(m, Loss.mse(), 3, 3);
        Sequential g = Sequential.builder(5, 5, 4).seed(SEED).depthwiseConv2d(3, 1).relu6().conv2d(6, 1, new Conv2dParams(1, 1, 0, 0, 0, 0, 1, 1, 2))
                .globalAvgPool().linear(4).tanh().linear(3).logSoftmax().build();
        check(g, Loss.mse(), 3, 3);
    }

    /**
     * A seed whose depthwise filter puts one ReLU6 input within 1e-3 of its kink: the central difference with
     * h = 1e-3 is 3-5% off for every weight of that channel (it was once taken for a gradient bug), while the
     * one-sided slope on the smooth side agrees. The check must pass here.
     */
    @Test
    void kinkNearTheWeightsIsNotABug() {
        long seed = 36104415092923L;
        Sequential m = Sequential.builder(5, 5, 4).seed(seed).depthwiseConv2d(3, 1).relu6().conv2d(6, 1, new Conv2dParams(1, 1, 0, 0, 0, 0, 1, 1, 2))
                .globalAvgPool().linear(4).tanh().linear(3).logSoftmax().build();
        check(m, Loss.mse(), 3, 3, seed);
    }

    /** The check itself must fail for a gradient 5% too large (a loss that scales its gradient by 1.05). */
    @Test
    void aWrongGradientFails() {
        Loss wrong = new Loss() {
            @Override
            public double forwardBackward(Tensor output, Batch batch, double scale, Tensor grad) {
                return Loss.mse().forwardBackward(output, batch, scale * 1.05, grad);
            }
        };
        Sequential m = Sequential.builder(5, 5, 4).seed(SEED).depthwiseConv2d(3, 1).relu6().conv2d(6, 1, 0).globalAvgPool().linear(4).tanh().linear(3)
                .build();
        assertThrows(AssertionFailedError.class, () -> check(m, wrong, 3, 3));
    }

    @Test
    void linearBatchNormSoftmaxWithDistillation() {
        Sequential m = Sequential.builder(7).seed(SEED).linear(6).add(new BatchNorm(6, 1e-3f)).add(new Nonlinearity(Nonlinearity.Kind.SIGMOID)).linear(4)
                .build();
        check(m, Loss.distillation(2.5, 0.6), 5, 4);
        Sequential s = Sequential.builder(5).seed(SEED).linear(4).softmax().build();
        check(s, Loss.mse(), 3, 4);
    }

    /** Compares each parameter's gradient with (L(w + h) - L(w - h)) / 2h at sampled elements. */
    private static void check(Sequential model, Loss loss, int n, int targetWidth) {
        check(model, loss, n, targetWidth, SEED);
    }

    private static void check(Sequential model, Loss loss, int n, int targetWidth, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        long[] in = model.inputShape();
        long[] xs = new long[in.length + 1];
        xs[0] = n;
        System.arraycopy(in, 0, xs, 1, in.length);
        int k = (int) model.outputShape()[0];
        try (Tensor x = Tensor.allocate(DType.F32, xs); Tensor t = targetWidth == 0 ? null : Tensor.allocate(DType.F32, n, targetWidth);
                Replica r = new Replica(model, Ops.auto(), n, new SplittableRandom(1))) {
            x.copyFrom(random(rng, (int) x.numel(), 1.0));
            if (t != null) t.copyFrom(random(rng, (int) t.numel(), 1.0));
            int[] labels = new int[n];
            for (int i = 0; i < n; i++) labels[i] = rng.nextInt(k);
            Batch b = new Batch(x, labels, 0, t);
            r.forwardBackward(b, loss, 1.0);
            List<float[]> analytic = new ArrayList<>();
            for (Param p : r.params()) analytic.add(p.grad().toFloatArray());
            List<String> failures = new ArrayList<>();
            for (int pi = 0; pi < r.params().size(); pi++) {
                Param p = r.params().get(pi);
                float[] w = p.value().toFloatArray();
                int[] picks = rng.ints(0, w.length).distinct().limit(Math.min(12, w.length)).toArray();
                for (int e : picks) {
                    double a = analytic.get(pi)[e];
                    double[] numeric = differences(r, b, loss, p, w, e, 1e-3 * Math.max(1, Math.abs(w[e])));
                    // A kink (ReLU at 0, a max-pool tie) inside [w - h, w + h] spoils the central difference for
                    // every weight feeding it, but leaves one side smooth: either one-sided slope may then agree.
                    // A wrong gradient matches none of the three. (A smaller h instead drowns in float noise.)
                    if (!agrees(a, numeric[0]) && !agrees(a, numeric[1]) && !agrees(a, numeric[2])) {
                        failures.add(String.format("%s[%d]: analytic %.6f, numeric %.6f (one-sided %.6f, %.6f)", p.name(), e, a, numeric[0], numeric[1],
                                numeric[2]));
                    }
                }
            }
            // Two kinks on both sides of one weight are rare enough to allow one sample; more is a bug.
            if (failures.size() > 1) fail("seed " + seed + ", " + loss + ": " + failures);
            assertTrue(r.params().size() >= 2, "the model has parameters to check");
        }
    }

    /** The central, forward and backward differences of the loss in element {@code e} of {@code p}. */
    private static double[] differences(Replica r, Batch b, Loss loss, Param p, float[] w, int e, double h) {
        float[] plus = w.clone(), minus = w.clone();
        plus[e] += (float) h;
        minus[e] -= (float) h;
        p.value().copyFrom(plus);
        double lp = r.forwardBackward(b, loss, 1.0);
        p.value().copyFrom(minus);
        double lm = r.forwardBackward(b, loss, 1.0);
        p.value().copyFrom(w);
        double l0 = r.forwardBackward(b, loss, 1.0);
        return new double[] {(lp - lm) / ((double) plus[e] - minus[e]), (lp - l0) / ((double) plus[e] - w[e]), (l0 - lm) / ((double) w[e] - minus[e])};
    }

    private static boolean agrees(double analytic, double numeric) {
        return Math.abs(numeric - analytic) <= 2e-2 * Math.max(Math.abs(numeric), Math.abs(analytic)) + 3e-3;
    }

    private static float[] random(SplittableRandom rng, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) ((rng.nextDouble() * 2 - 1) * scale);
        return v;
    }
}
