package org.tessera.train;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.tessera.Tensor;

/**
 * Knowledge distillation: alpha T^2 KL(p_teacher^T || p_student^T) + (1 - alpha) CE(student, label). The T^2
 * keeps the soft term's gradient scale independent of T; its gradient is alpha T (p_s^T - p_t^T).
 */
final class Distillation implements Loss {
    private final double t, alpha;

    Distillation(double temperature, double alpha) {
        if (!(temperature > 0) || Double.isInfinite(temperature)) throw new IllegalArgumentException("distillation: temperature must be > 0, got " + temperature);
        if (!(alpha >= 0 && alpha <= 1)) throw new IllegalArgumentException("distillation: alpha must be in [0, 1], got " + alpha);
        this.t = temperature;
        this.alpha = alpha;
    }

    @Override
    public double forwardBackward(Tensor output, Batch batch, double scale, Tensor grad) {
        Tensor teacher = batch.targets();
        if (teacher == null || !java.util.Arrays.equals(teacher.shape(), output.shape())) {
            throw new IllegalArgumentException("distillation: the batch's targets must be the teacher's logits, shaped like the output "
                    + java.util.Arrays.toString(output.shape()));
        }
        MemorySegment s = output.segment(), te = teacher.segment(), g = grad.segment();
        int n = (int) output.dim(0), k = (int) output.dim(1);
        double[] ls = new double[k], lt = new double[k], hard = new double[k];
        double total = 0;
        for (int r = 0; r < n; r++) {
            long base = (long) r * k;
            Losses.logSoftmax(s, base, k, t, ls);
            Losses.logSoftmax(te, base, k, t, lt);
            double kl = 0;
            for (int j = 0; j < k; j++) kl += Math.exp(lt[j]) * (lt[j] - ls[j]);
            double ce = 0;
            int label = -1;
            if (alpha < 1) {
                label = batch.label(r);
                Losses.requireLabel(label, k, r);
                Losses.logSoftmax(s, base, k, 1, hard);
                ce = -hard[label];
            }
            total += alpha * t * t * kl + (1 - alpha) * ce;
            for (int j = 0; j < k; j++) {
                double d = alpha * t * (Math.exp(ls[j]) - Math.exp(lt[j]));
                if (alpha < 1) d += (1 - alpha) * (Math.exp(hard[j]) - (j == label ? 1 : 0));
                g.setAtIndex(ValueLayout.JAVA_FLOAT, base + j, (float) (scale * d));
            }
        }
        return total;
    }

    @Override
    public String toString() {
        return "distillation (T " + t + ", alpha " + alpha + ")";
    }
}
