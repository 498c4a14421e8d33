package org.tessera.train;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.tessera.Activation;
import org.tessera.Ops;
import org.tessera.Tensor;
import org.tessera.kernels.DType;
import org.tessera.nn.BatchNorm;
import org.tessera.nn.Conv2d;
import org.tessera.nn.Dropout;
import org.tessera.nn.Flatten;
import org.tessera.nn.GlobalAvgPool;
import org.tessera.nn.Layer;
import org.tessera.nn.Linear;
import org.tessera.nn.Nonlinearity;
import org.tessera.nn.Pool2d;
import org.tessera.nn.Sequential;
import org.tessera.nn.Softmax;

/**
 * One copy of the training computation of a model: the layers' backprops, activation and gradient buffers for
 * up to {@code maxBatch} examples, and its own parameter gradients. Replicas share the model's parameters
 * (read during forward and backward; written only by the optimizer between steps).
 */
final class Replica implements AutoCloseable {
    private final List<Backprop> layers = new ArrayList<>();
    private final List<String> labels = new ArrayList<>();
    /** acts[i + 1] is layer i's output; null for a convolution whose ReLU is fused ({@link #fusedRelu}). */
    private final Tensor[] acts, grads;
    /**
     * fusedRelu[i]: layer i is a convolution and layer i + 1 a plain ReLU, run as one kernel call writing the ReLU's
     * output (the same values; the conv's own output is never stored, and its backward does not read it). Saves a
     * read and a write of the largest activation: for the Fashion-MNIST CNN's first layer at 64 images, 6.4 MB and
     * 0.45 ms a step.
     */
    private final boolean[] fusedRelu;
    private final List<Param> params = new ArrayList<>();
    private final int maxBatch;
    private final Ops ops;

    Replica(Sequential model, Ops ops, int maxBatch, SplittableRandom rng) {
        this(model, ops, maxBatch, rng, null);
    }

    /** With {@code fq} (may be null), the layers round weights and activations as the model's int8 version will. */
    Replica(Sequential model, Ops ops, int maxBatch, SplittableRandom rng, FakeQuantization fq) {
        this.maxBatch = maxBatch;
        this.ops = ops;
        List<Layer> ls = model.layers();
        acts = new Tensor[ls.size() + 1];
        grads = new Tensor[ls.size() + 1];
        long[] shape = model.inputShape();
        try {
            for (int i = 0; i < ls.size(); i++) {
                Layer l = ls.get(i);
                long[] out = l.outputShape(shape);
                labels.add(i + " " + l.type());
                Backprop b = backprop(l, ops, shape, out, maxBatch, i + ".", rng.split(), fq == null ? 0 : fq.weightBits(i));
                try {
                    layers.add(fq == null ? b : fq.wrap(i, b, shape, out, maxBatch));
                } catch (RuntimeException e) {
                    b.close();
                    throw e;
                }
                acts[i + 1] = Tensor.allocate(DType.F32, batched(maxBatch, out));
                grads[i + 1] = Tensor.allocate(DType.F32, batched(maxBatch, out));
                shape = out;
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        for (Backprop b : layers) params.addAll(b.params());
        fusedRelu = new boolean[layers.size()];
        for (int i = 0; i + 1 < layers.size(); i++) {
            fusedRelu[i] = fq == null && layers.get(i) instanceof ConvBackprop && layers.get(i + 1) instanceof ActivationBackprop act
                    && act.kind() == Nonlinearity.Kind.RELU;
            if (fusedRelu[i]) {
                acts[i + 1].close();
                acts[i + 1] = null;
            }
        }
    }

    private static Backprop backprop(Layer l, Ops ops, long[] in, long[] out, int maxBatch, String prefix, SplittableRandom rng, int weightBits) {
        return switch (l) {
            case Linear lin -> new LinearBackprop(lin, ops, prefix, weightBits);
            case Conv2d conv -> new ConvBackprop(conv, ops, prefix, weightBits);
            case BatchNorm bn -> new BatchNormBackprop(bn, prefix, maxBatch * numel(out));
            case Nonlinearity act -> new ActivationBackprop(act, ops);
            case Pool2d pool -> new PoolBackprop(pool, ops, out, maxBatch);
            case GlobalAvgPool g -> new GlobalAvgPoolBackprop(ops);
            case Flatten f -> new FlattenBackprop(in);
            case Dropout d -> new DropoutBackprop(d.p(), maxBatch * numel(out), rng);
            case Softmax s -> new SoftmaxBackprop(s.isLog());
            default -> throw new IllegalArgumentException("training does not support layer type " + l.type());
        };
    }

    /** Runs forward (training mode), the loss and backward on {@code batch}; returns the summed loss. */
    double forwardBackward(Batch batch, Loss loss, double scale) {
        int n = requireSize(batch.size());
        Tensor x = batch.x();
        int last = layers.size();
        Tensor[] a = new Tensor[last + 1];
        a[0] = x;
        for (int i = 0; i < last; i++) i = forwardLayer(i, a, n, true);
        Tensor dOut = grads[last].slice(0, 0, n);
        double value = loss.forwardBackward(a[last], batch, scale, dOut);
        if (!Double.isFinite(value)) return value;
        for (int i = last - 1; i >= 0; i--) {
            Tensor dy = grads[i + 1].slice(0, 0, n);
            if (i >= 1 && reluBeforeMaxPool(i)) {
                // Both gradients in one pass: only argmax positions receive a gradient, and there the ReLU's output
                // is the pool's output, so masking the pool's (4x smaller) dy by its output is the ReLU's
                // backward, bit for bit, and the pool writes straight into the ReLU's dx.
                if (i >= 2) {
                    ops.reluBackward(a[i + 1], dy, dy);
                    layers.get(i).backward(a[i], a[i + 1], dy, grads[i - 1].slice(0, 0, n));
                }
                i--;
                continue;
            }
            layers.get(i).backward(a[i], a[i + 1], dy, i == 0 ? null : grads[i].slice(0, 0, n));
        }
        return value;
    }

    /**
     * Runs layer i on a[i] into a[i + 1] (views of the first n examples), or, where its ReLU is fused, layers i and
     * i + 1 at once into a[i + 2] (a[i + 1] then names the same view). Returns the last layer index it ran.
     */
    private int forwardLayer(int i, Tensor[] a, int n, boolean training) {
        if (fusedRelu[i]) {
            a[i + 2] = acts[i + 2].slice(0, 0, n);
            a[i + 1] = a[i + 2];
            ((ConvBackprop) layers.get(i)).forward(a[i], a[i + 2], Activation.RELU);
            return i + 1;
        }
        a[i + 1] = acts[i + 1].slice(0, 0, n);
        layers.get(i).forward(a[i], a[i + 1], training);
        return i;
    }

    /** The model's output for {@code x} in training or evaluation mode (a view of this replica's buffer). */
    Tensor forward(Tensor x, boolean training) {
        int n = requireSize((int) x.dim(0));
        Tensor[] a = new Tensor[layers.size() + 1];
        a[0] = x;
        for (int i = 0; i < layers.size(); i++) i = forwardLayer(i, a, n, training);
        return a[layers.size()];
    }

    /** The output of the last forward pass for the first n examples. */
    Tensor output(int n) {
        return acts[layers.size()].slice(0, 0, n);
    }

    /** The label ("3 relu") of the first layer whose last output holds a NaN or infinity among n examples, or null. */
    String firstNonFiniteLayer(int n) {
        for (int i = 1; i < acts.length; i++) {
            // a fused convolution's output is its ReLU's: a NaN or +infinity survives the ReLU, -infinity does not
            MemorySegment s = (acts[i] == null ? acts[i + 1] : acts[i]).slice(0, 0, n).segment();
            for (long j = 0, len = s.byteSize() / 4; j < len; j++) {
                if (!Float.isFinite(s.getAtIndex(ValueLayout.JAVA_FLOAT, j))) return labels.get(i - 1);
            }
        }
        return null;
    }

    /** Layer i is a max pool whose input is the output of a plain ReLU (layer i - 1). */
    private boolean reluBeforeMaxPool(int i) {
        return layers.get(i) instanceof PoolBackprop pool && pool.isMax()
                && layers.get(i - 1) instanceof ActivationBackprop act && act.kind() == Nonlinearity.Kind.RELU;
    }

    /** The largest batch this replica's buffers hold. */
    int maxBatch() {
        return maxBatch;
    }

    List<Param> params() {
        return params;
    }

    List<Backprop> layers() {
        return layers;
    }

    private int requireSize(int n) {
        if (n < 1 || n > maxBatch) throw new IllegalArgumentException("batch of " + n + " examples; this trainer was built for 1.." + maxBatch);
        return n;
    }

    /** (n, shape...). */
    static long[] batched(int n, long[] shape) {
        long[] s = new long[shape.length + 1];
        s[0] = n;
        System.arraycopy(shape, 0, s, 1, shape.length);
        return s;
    }

    /** The product of the dimensions. */
    static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    @Override
    public void close() {
        for (Backprop b : layers) b.close();
        for (Tensor t : acts) if (t != null) t.close();
        for (Tensor t : grads) if (t != null) t.close();
    }
}
