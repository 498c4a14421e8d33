package org.tessera.train;

import org.tessera.Tensor;

/**
 * A training loss on the model's output. The trainer passes {@code scale} = 1 / (global batch size), so the
 * replicas' gradients sum to the gradient of the mean loss over the global batch.
 */
public interface Loss {
    /**
     * Returns the sum over the batch of the per-example losses and writes {@code scale} times its gradient
     * with respect to {@code output} into {@code grad} (output's shape).
     */
    double forwardBackward(Tensor output, Batch batch, double scale, Tensor grad);

    /** Softmax cross-entropy on logits (fused and stable: log-sum-exp with the max subtracted). */
    static Loss crossEntropy() {
        return new SoftmaxCrossEntropy();
    }

    /** Mean squared error against {@link Batch#targets()}, averaged over the features. */
    static Loss mse() {
        return new MeanSquaredError();
    }

    /**
     * Knowledge distillation (Hinton et al.): {@code alpha * T^2 * KL(softmax(teacher / T) || softmax(student / T))
     * + (1 - alpha) * crossEntropy(student, label)}, the teacher's logits in {@link Batch#targets()}.
     */
    static Loss distillation(double temperature, double alpha) {
        return new Distillation(temperature, alpha);
    }
}
