package org.tessera.nn;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import org.tessera.Conv2dParams;
import org.tessera.Ops;
import org.tessera.Pool2dParams;
import org.tessera.Tensor;

/**
 * A feed-forward model: layers applied in order to NHWC activations. Built with {@link #builder}, which
 * infers every layer's input shape and names the layer and dimension on a mismatch:
 *
 * <pre>{@code
 * try (Sequential model = Sequential.builder(28, 28, 1)
 *         .conv2d(32, 3, 1).relu().maxPool2d(2)
 *         .flatten().linear(10)
 *         .build()) {
 *     try (Tensor logits = model.predict(images)) { ... }          // images (n, 28, 28, 1)
 * }
 * }</pre>
 *
 * <p>Inference compiles the model once per backend (BatchNorm folded into the layer before it, ReLU fused
 * into linear and convolution layers, weights packed) and reuses workspaces, so {@link #predict} allocates
 * only its output. It is thread-safe: one model, many threads. After changing parameters in place, call
 * {@link #parametersChanged()} so the next call recompiles. Parameter names follow PyTorch's
 * {@code nn.Sequential} ({@code 0.weight}, {@code 1.running_mean}, ...).
 */
public final class Sequential implements AutoCloseable {
    private final long[] inputShape;
    private final List<Layer> layers;
    private final Map<String, InferencePlan> plans = new ConcurrentHashMap<>();
    private volatile boolean checks;
    private volatile boolean closed;

    Sequential(long[] inputShape, List<Layer> layers) {
        this.inputShape = inputShape.clone();
        this.layers = List.copyOf(layers);
    }

    /** A builder for a model taking examples of {@code inputShape}: (h, w, c) images or (features) vectors. */
    public static Builder builder(long... inputShape) {
        return new Builder(inputShape);
    }

    /** The per-example input shape. */
    public long[] inputShape() {
        return inputShape.clone();
    }

    /** The per-example output shape. */
    public long[] outputShape() {
        long[] s = inputShape;
        for (Layer l : layers) s = l.outputShape(s);
        return s;
    }

    /** The layers, in order. */
    public List<Layer> layers() {
        return layers;
    }

    /** Every parameter by its PyTorch-style name ({@code <layer index>.<name>}), in order. Shared, not copied. */
    public Map<String, Tensor> parameters() {
        Map<String, Tensor> p = new LinkedHashMap<>();
        for (int i = 0; i < layers.size(); i++) {
            for (Map.Entry<String, Tensor> e : layers.get(i).parameters().entrySet()) p.put(i + "." + e.getKey(), e.getValue());
        }
        return p;
    }

    /** Parameters counted for size: weights and biases (BatchNorm statistics included). */
    public long parameterCount() {
        long n = 0;
        for (Layer l : layers) n += l.parameterCount();
        return n;
    }

    /** Bytes of f32 parameters. */
    public long parameterBytes() {
        return 4 * parameterCount();
    }

    /**
     * Turns the NaN/Inf debug checks on or off: with them on, {@link #predict} scans every layer's output and
     * throws {@link NonFiniteException} naming the first layer that produced a NaN or infinity (slower; for debugging).
     */
    public Sequential debugChecks(boolean on) {
        this.checks = on;
        return this;
    }

    /** Logits (or whatever the last layer gives) for a batch (n, input shape...) on the automatic backend. */
    public Tensor predict(Tensor batch) {
        return predict(batch, Ops.auto());
    }

    /**
     * The model on {@code batch} (n, input shape...), F32 host memory, run on {@code ops}' backend. Returns a
     * new (n, output shape...) tensor owned by the caller.
     *
     * @throws IllegalArgumentException for a batch of the wrong dtype or shape
     * @throws IllegalStateException    if the model is closed
     * @throws NonFiniteException       with debug checks on, naming the first layer producing NaN or infinity
     */
    public Tensor predict(Tensor batch, Ops ops) {
        return plan(ops).run(batch, checks);
    }

    InferencePlan plan(Ops ops) {
        if (closed) throw new IllegalStateException("the model is closed");
        return plans.computeIfAbsent(ops.backendName(), k -> {
            Sequential compact = ChannelCompaction.of(this); // pruned filters leave dead channels: compiled without them
            try {
                return InferencePlan.f32(compact, ops);
            } finally {
                if (compact != this) compact.close();
            }
        });
    }

    /** Drops the compiled plans; the next {@link #predict} recompiles from the current parameters. */
    public void parametersChanged() {
        for (String k : List.copyOf(plans.keySet())) {
            InferencePlan p = plans.remove(k);
            if (p != null) p.close();
        }
    }

    /**
     * Checks every parameter for NaN and infinity.
     *
     * @throws NonFiniteException naming the first parameter and element that is not finite
     */
    public void checkParameters() {
        for (Map.Entry<String, Tensor> e : parameters().entrySet()) {
            MemorySegment seg = e.getValue().segment();
            for (long i = 0; i < e.getValue().numel(); i++) {
                float v = seg.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                if (!Float.isFinite(v)) throw new NonFiniteException("parameter " + e.getKey() + " holds " + v + " at element " + i);
            }
        }
    }

    /** The architecture as JSON-ready maps: {@code {"input": [...], "layers": [{"type": ..., ...}, ...]}}. */
    public Map<String, Object> architecture() {
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("format", "tessera.sequential");
        a.put("version", 1);
        a.put("input", java.util.Arrays.stream(inputShape).boxed().toList());
        List<Object> ls = new ArrayList<>();
        for (Layer l : layers) {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("type", l.type());
            c.putAll(l.config());
            ls.add(c);
        }
        a.put("layers", ls);
        return a;
    }

    /** One line per layer: index, type, output shape, parameters. */
    public String summary() {
        StringBuilder b = new StringBuilder();
        long[] s = inputShape;
        b.append(String.format("%-4s %-14s %-18s %10s%n", "#", "layer", "output", "params"));
        for (int i = 0; i < layers.size(); i++) {
            s = layers.get(i).outputShape(s);
            b.append(String.format("%-4d %-14s %-18s %10d%n", i, layers.get(i).type(), Shapes.str(s), layers.get(i).parameterCount()));
        }
        b.append(String.format("total parameters: %d (%d bytes f32)%n", parameterCount(), parameterBytes()));
        return b.toString();
    }

    /** Frees the parameters and compiled plans. Do not close while another thread is predicting. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        parametersChanged();
        layers.forEach(Layer::close);
    }

    /** Builds a {@link Sequential}, checking each layer's input shape as it is added. */
    public static final class Builder {
        private final long[] inputShape;
        private final List<Layer> layers = new ArrayList<>();
        private long[] shape;
        private long seed = 0;
        private boolean initialize = true;

        Builder(long[] inputShape) {
            if (inputShape.length != 1 && inputShape.length != 3) {
                throw new IllegalArgumentException("the input shape per example is (features) or (h, w, c), got " + Shapes.str(inputShape));
            }
            for (long d : inputShape) if (d < 1) throw new IllegalArgumentException("input dimensions must be >= 1, got " + Shapes.str(inputShape));
            this.inputShape = inputShape.clone();
            this.shape = inputShape.clone();
        }

        /** The seed of the parameter initialization (default 0): same seed, same weights. */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Leaves parameters at their neutral values (zero weights) instead of random ones: for loading. */
        public Builder uninitialized() {
            this.initialize = false;
            return this;
        }

        /**
         * Adds a layer after checking it accepts the current shape.
         *
         * @throws IllegalArgumentException "layer i (type): ..." naming the mismatching dimension
         */
        public Builder add(Layer layer) {
            try {
                shape = layer.outputShape(shape);
            } catch (IllegalArgumentException e) {
                layer.close();
                throw new IllegalArgumentException("layer " + layers.size() + " (" + layer.type() + "): " + e.getMessage(), e);
            }
            layers.add(layer);
            return this;
        }

        /** The current output shape (per example). */
        public long[] shape() {
            return shape.clone();
        }

        /** A fully connected layer with bias, taking the current vector's features. */
        public Builder linear(int out) {
            requireVector("linear");
            return add(new Linear((int) shape[0], out, true));
        }

        /** A k x k convolution, stride 1, {@code padding} on every side, with bias. */
        public Builder conv2d(int out, int k, int padding) {
            return conv2d(out, k, Conv2dParams.builder().padding(padding).build());
        }

        /** A k x k convolution with {@code params}, with bias, taking the current image's channels. */
        public Builder conv2d(int out, int k, Conv2dParams params) {
            requireImage("conv2d");
            return add(new Conv2d((int) shape[2], out, k, k, params, true));
        }

        /** A k x k depthwise convolution (groups = channels, one filter per channel), {@code padding} on every side. */
        public Builder depthwiseConv2d(int k, int padding) {
            requireImage("depthwise conv2d");
            int c = (int) shape[2];
            return add(new Conv2d(c, c, k, k, Conv2dParams.builder().padding(padding).groups(c).build(), true));
        }

        /** BatchNorm over the current channels (eps 1e-5). */
        public Builder batchNorm() {
            return add(new BatchNorm((int) shape[shape.length - 1], 1e-5f));
        }

        /** ReLU (fused into the linear or convolution layer before it). */
        public Builder relu() {
            return add(new Nonlinearity(Nonlinearity.Kind.RELU));
        }

        /** min(max(x, 0), 6). */
        public Builder relu6() {
            return add(new Nonlinearity(Nonlinearity.Kind.RELU6));
        }

        /** GELU, exact erf form. */
        public Builder gelu() {
            return add(new Nonlinearity(Nonlinearity.Kind.GELU));
        }

        /** Logistic sigmoid. */
        public Builder sigmoid() {
            return add(new Nonlinearity(Nonlinearity.Kind.SIGMOID));
        }

        /** Hyperbolic tangent. */
        public Builder tanh() {
            return add(new Nonlinearity(Nonlinearity.Kind.TANH));
        }

        /** k x k max pooling with stride k. */
        public Builder maxPool2d(int k) {
            return add(new Pool2d(true, Pool2dParams.of(k, k, 0)));
        }

        /** k x k average pooling with stride k. */
        public Builder avgPool2d(int k) {
            return add(new Pool2d(false, Pool2dParams.of(k, k, 0)));
        }

        /** Mean over (h, w): image to vector. */
        public Builder globalAvgPool() {
            return add(new GlobalAvgPool());
        }

        /** Image to vector in PyTorch's (c, h, w) order. */
        public Builder flatten() {
            return add(new Flatten());
        }

        /** Dropout with rate p (identity at inference). */
        public Builder dropout(double p) {
            return add(new Dropout(p));
        }

        /** Softmax over the features. */
        public Builder softmax() {
            return add(new Softmax(false));
        }

        /** Log-softmax over the features. */
        public Builder logSoftmax() {
            return add(new Softmax(true));
        }

        /** The model, parameters initialized from the seed (unless {@link #uninitialized()}). */
        public Sequential build() {
            if (layers.isEmpty()) throw new IllegalStateException("a model needs at least one layer");
            if (initialize) {
                SplittableRandom rng = new SplittableRandom(seed);
                for (Layer l : layers) l.initialize(rng.split());
            }
            return new Sequential(inputShape, layers);
        }

        private void requireVector(String what) {
            if (shape.length != 1) {
                throw new IllegalArgumentException("layer " + layers.size() + " (" + what + "): expects a vector per example, the model gives "
                        + Shapes.str(shape) + "; add flatten() or globalAvgPool() first");
            }
        }

        private void requireImage(String what) {
            if (shape.length != 3) {
                throw new IllegalArgumentException("layer " + layers.size() + " (" + what + "): expects an image (h, w, c) per example, the model gives "
                        + Shapes.str(shape));
            }
        }
    }
}
