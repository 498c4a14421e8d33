package org.tessera.nn;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.tessera.Layouts;
import org.tessera.Ops;
import org.tessera.PackedInt8Conv;
import org.tessera.PackedInt8Matrix;
import org.tessera.Tensor;
import org.tessera.kernels.DType;
import org.tessera.kernels.spi.Int8Input;
import org.tessera.kernels.spi.Int8Output;

/**
 * A {@link Sequential} model quantized after training, running int8 end to end: the input is quantized once
 * to u8, every linear and convolution layer runs the exact int8 kernels (s8 weights per output channel, BatchNorm
 * folded first, ReLU fused as the clamp at the zero point) and requantizes to the u8 range calibrated for its
 * output, max pooling and flatten work on the u8 codes, and only layers without an int8 kernel (GELU, sigmoid,
 * softmax, average pooling, ...) or the end of the model dequantize to f32. Layers whose outputs sum fewer than
 * {@link #MIN_INT8_TAPS} products (a first convolution on one image channel, depthwise filters) stay f32, where
 * they are faster; the activation is quantized after them.
 *
 * <pre>{@code
 * QuantizedModel.Builder b = QuantizedModel.builder(model).calibration(Calibration.percentile(99.99));
 * for (Tensor batch : calibrationBatches) b.calibrate(batch);     // a few hundred examples suffice
 * try (QuantizedModel q = b.build(Ops.auto())) { Tensor logits = q.predict(images); ... }
 * }</pre>
 * Thread-safe like {@link Sequential#predict}. The quantized model is independent of the original (which may be closed).
 */
public final class QuantizedModel implements AutoCloseable {
    /** The shortest sum (inputs per output: r * s * c / groups, or a linear layer's inputs) run in int8. */
    public static final int MIN_INT8_TAPS = 32;

    private final InferencePlan plan;
    private final long bytes, params;
    private final String kernels;
    private final QuantizedModelFile.Recipe recipe;

    private QuantizedModel(InferencePlan plan, long bytes, long params, String kernels, QuantizedModelFile.Recipe recipe) {
        this.plan = plan;
        this.bytes = bytes;
        this.params = params;
        this.kernels = kernels;
        this.recipe = recipe;
    }

    /**
     * Writes this model to a safetensors file (replaced atomically): the s8 weights of every int8 layer with
     * their per-channel scales and folded biases, the f32 parameters of the layers that stay f32, the activation
     * ranges (scale and zero point) and the architecture. {@link #load} gives back a model whose predictions
     * are the same to the bit, without calibration data.
     */
    public void save(java.nio.file.Path path) throws java.io.IOException {
        QuantizedModelFile.save(recipe, path);
    }

    /**
     * Reads a model written by {@link #save} and builds it on {@code ops}' backend. The caller owns (closes) it.
     *
     * @throws java.io.IOException if the file is unreadable, not a Tessera int8 model, or its tensors or ranges
     *                             do not fit its architecture (the message names what)
     */
    public static QuantizedModel load(java.nio.file.Path path, Ops ops) throws java.io.IOException {
        return QuantizedModelFile.load(path, ops);
    }

    /**
     * Where the int8 model of {@code model} uses int8 (the same rules {@link Builder#build} follows).
     *
     * @param int8Layers the linear and convolution layers that run the int8 kernels (their weights become s8)
     * @param u8Outputs  the layers whose outputs travel as u8 codes, in order (-1: the model input): where
     *                   {@link Builder#calibrate} measures a range and quantization-aware training fake-quantizes
     */
    public record Plan(int[] int8Layers, int[] u8Outputs) {}

    /** The {@link Plan} of {@code model} (its dead channels removed first, as {@link Builder#build} does). */
    public static Plan plan(Sequential model) {
        Sequential compact = ChannelCompaction.of(model);
        try {
            List<Group> groups = Group.of(compact.layers());
            List<Integer> int8 = new ArrayList<>();
            for (Group g : groups) if (g.main() instanceof WeightedLayer w && Builder.runsInt8(w)) int8.add(g.first());
            int[] slots = u8Slots(groups, compact.inputShape());
            int[] layers = new int[slots.length];
            for (int i = 0; i < slots.length; i++) layers[i] = slotLayer(groups, slots[i]);
            return new Plan(int8.stream().mapToInt(Integer::intValue).toArray(), layers);
        } finally {
            if (compact != model) compact.close();
        }
    }

    /** The layer whose output statistics slot i holds: -1 for slot 0 (the input), else the last layer of group i - 1. */
    static int slotLayer(List<Group> groups, int slot) {
        return slot == 0 ? -1 : groups.get(slot - 1).last();
    }

    /**
     * The statistics slots (0: the input, g + 1: group g's output) whose activations the int8 model encodes as u8:
     * the input of an int8 group that follows an f32 step, and the output of an int8 group read by a layer that
     * takes u8 (another int8 group, max pooling, flatten). Max pooling and flatten pass the codes on unchanged.
     */
    static int[] u8Slots(List<Group> groups, long[] inputShape) {
        List<Integer> slots = new ArrayList<>();
        long[] shape = inputShape;
        boolean u8 = false;
        for (int gi = 0; gi < groups.size(); gi++) {
            Layer main = groups.get(gi).main();
            Layer next = gi + 1 < groups.size() ? groups.get(gi + 1).main() : null;
            if (Flatten.foldsInto(main, shape, next)) {
                // a view: the codes pass on
            } else if (main instanceof WeightedLayer w && Builder.runsInt8(w)) {
                if (!u8) slots.add(gi);
                u8 = next != null && Builder.takesU8(next);
                if (u8) slots.add(gi + 1);
            } else if (!(u8 && (main instanceof Flatten || (main instanceof Pool2d p && p.isMax())))) {
                u8 = false;
            }
            shape = main.outputShape(shape);
        }
        return slots.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Starts quantizing {@code model}: run {@link Builder#calibrate} on representative batches, then {@link Builder#build}. */
    public static Builder builder(Sequential model) {
        return new Builder(model);
    }

    /** Class scores (dequantized f32) for a batch (n, input shape...), as {@link Sequential#predict}. */
    public Tensor predict(Tensor batch) {
        return plan.run(batch, false);
    }

    /** Bytes of the quantized parameters: s8 weights, f32 scales and biases, f32 parameters of float layers. */
    public long parameterBytes() {
        return bytes;
    }

    /** Parameters (weights and biases; folded BatchNorms count in the layer they were folded into). */
    public long parameterCount() {
        return params;
    }

    /** The steps, one per line, with the dtype each produces. */
    public String summary() {
        return kernels;
    }

    @Override
    public void close() {
        plan.close();
        recipe.close();
    }

    /** Collects calibration statistics, then builds the quantized model. */
    public static final class Builder {
        private final Sequential source;
        private final List<Group> groups;
        private final Calibration.Stats[] stats; // [0]: input, [i + 1]: output of group i
        private Calibration calibration = Calibration.minMax();
        private int weightBits = 8;
        // set when loading a saved model: ranges and s8 weights come from the file instead of calibration
        private Map<Integer, U8Range> fixedRanges;
        private org.tessera.io.SafetensorsFile preQuantized;
        // what build() used, for save(): ranges by statistics index, tensors by parameter name
        private final Map<Integer, U8Range> usedRanges = new TreeMap<>();
        private final Map<String, Tensor> saved = new LinkedHashMap<>();
        // ranges set by the caller (quantization-aware training), by the layer whose output they encode
        private final Map<Integer, U8Range> givenRanges = new TreeMap<>();

        Builder(Sequential model) {
            this.source = model;
            this.groups = Group.of(model.layers());
            this.stats = new Calibration.Stats[groups.size() + 1];
            for (int i = 0; i < stats.length; i++) stats[i] = new Calibration.Stats();
        }

        /**
         * Bits per weight: 8 (default; s8 in [-127, 127]) or 7 ([-63, 63]). On AVX2 without VNNI the fast int8
         * kernel ({@code vpmaddubsw}, u8 x s8 pairs summed in s16) is exact only when every pair of weights
         * fits s16 against 255-valued activations; 7-bit weights always do, so every layer runs it (the int8
         * GEMM picks it per packed matrix, see {@code Int8GemmKernels#pack}); 8-bit weights usually fall back
         * to the exact widening kernel, about 1.6x slower on the Fashion-MNIST convolution. The price is one bit of
         * weight precision (FBGEMM's "reduce range", applied to the weights); the main job measures its accuracy.
         *
         * @throws IllegalArgumentException for other bit counts
         */
        public Builder weightBits(int bits) {
            if (bits != 7 && bits != 8) throw new IllegalArgumentException("weightBits must be 7 or 8, got " + bits);
            this.weightBits = bits;
            return this;
        }

        /**
         * Uses [lo, hi] (widened to contain 0) for the output of layer {@code layer} (-1: the model input) instead of
         * a calibrated range: what quantization-aware training learned. Layers without a given range are calibrated.
         * {@link #build} rejects a layer whose output the int8 model does not encode as u8 (see {@link #plan}).
         *
         * @throws IllegalArgumentException if lo or hi is not finite or lo &gt; hi, or layer is out of range
         */
        public Builder activationRange(int layer, float lo, float hi) {
            if (!Float.isFinite(lo) || !Float.isFinite(hi) || lo > hi) throw new IllegalArgumentException("activation range of layer " + layer + " must be finite with lo <= hi, got [" + lo + ", " + hi + "]");
            if (layer < -1 || layer >= source.layers().size()) throw new IllegalArgumentException("layer " + layer + " is not in the model (-1 .. " + (source.layers().size() - 1) + ")");
            givenRanges.put(layer, U8Range.of(Math.min(0, lo), Math.max(0, hi)));
            return this;
        }

        /** The range method (default {@link Calibration#minMax()}). */
        public Builder calibration(Calibration c) {
            this.calibration = java.util.Objects.requireNonNull(c, "calibration");
            return this;
        }

        /** Runs the f32 model on {@code batch} and records every layer's activation statistics. */
        public Builder calibrate(Tensor batch) {
            Sequential model = compacted();
            try (InferencePlan f32 = InferencePlan.f32(model, Ops.auto(), false)) { // one step per group: stats[group + 1]
                f32.run(batch, false, (step, y) -> stats[step + 1].add(y.segment(), y.numel())).close();
            } finally {
                if (model != source) model.close();
            }
            return this;
        }

        /**
         * The model without its dead channels ({@link ChannelCompaction}): calibration and the int8 steps see the
         * same compacted layers. A loaded model is compact already (and its int8 layers' f32 weights are unset).
         */
        private Sequential compacted() {
            return preQuantized != null ? source : ChannelCompaction.of(source);
        }

        /**
         * The quantized model on {@code ops}' backend.
         *
         * @throws IllegalStateException if no calibration batch was run
         */
        public QuantizedModel build(Ops ops) {
            Sequential model = compacted();
            try {
                return build(ops, model);
            } finally {
                if (model != source) model.close();
            }
        }

        private QuantizedModel build(Ops ops, Sequential model) {
            List<Group> groups = Group.of(model.layers()); // as the source's, with fewer channels
            if (!givenRanges.isEmpty()) {
                java.util.Set<Integer> encoded = new java.util.TreeSet<>();
                for (int slot : u8Slots(groups, model.inputShape())) encoded.add(slotLayer(groups, slot));
                for (int layer : givenRanges.keySet()) {
                    if (!encoded.contains(layer)) {
                        throw new IllegalArgumentException("a range was given for the output of layer " + layer + ", but the int8 model encodes only the outputs of layers "
                                + encoded + " as u8 (-1: the input); see QuantizedModel.plan");
                    }
                }
            }
            usedRanges.clear();
            saved.values().forEach(Tensor::close);
            saved.clear();
            List<Step> steps = new ArrayList<>();
            java.util.Set<Integer> int8Layers = new java.util.HashSet<>();
            long bytes = 0, params = 0;
            long[] shape = model.inputShape();
            U8Range cur = null; // the u8 encoding of the current activation, null while it is f32
            long[] image = null; // the (h, w, c) input of a flatten folded into the linear layer after it
            try {
                for (int gi = 0; gi < groups.size(); gi++) {
                    Group g = groups.get(gi);
                    Layer main = g.main();
                    long[] out = main.outputShape(shape);
                    long[] in = image != null ? image : shape;
                    image = null;
                    if (Flatten.foldsInto(main, shape, gi + 1 < groups.size() ? groups.get(gi + 1).main() : null)) {
                        steps.add(Step.view(g.label(), out, cur != null ? DType.U8 : DType.F32));
                        image = shape;
                    } else if (main instanceof WeightedLayer weighted && runsInt8(weighted)) {
                        for (int l = g.first(); l <= g.last(); l++) int8Layers.add(l);
                        if (cur == null) {
                            cur = range(gi);
                            steps.add(U8Steps.quantize(g.label(), shape, cur));
                        }
                        boolean u8Out = gi + 1 < groups.size() && takesU8(groups.get(gi + 1).main());
                        U8Range next = u8Out ? range(gi + 1) : null;
                        Int8Output epilogue = u8Out ? Int8Output.u8(next.scale(), next.zeroPoint(), g.relu()) : Int8Output.f32(g.relu());
                        Step step = int8Step(ops, g, in, out, Int8Input.u8(cur.scale(), cur.zeroPoint()), epilogue);
                        steps.add(step);
                        long weights = weighted.weight().numel();
                        long channels = out[out.length - 1];
                        bytes += weights + 8 * channels; // s8 weights, f32 scale and bias per output channel
                        params += weights + channels;
                        cur = next;
                    } else if (cur != null && main instanceof Pool2d p && p.isMax()) {
                        steps.add(U8Steps.maxPool(ops, g.label(), out, p.params()));
                    } else if (cur != null && main instanceof Flatten) {
                        steps.add(U8Steps.flatten(g.label(), shape));
                    } else {
                        if (cur != null) {
                            steps.add(U8Steps.dequantize(g.label(), shape, cur));
                            cur = null;
                        }
                        Group next = gi + 1 < groups.size() ? groups.get(gi + 1) : null;
                        Step fused = in == shape ? InferencePlan.fusedConvPool(g, next, ops, shape) : null;
                        if (fused != null) { // a short-sum f32 convolution and its max pooling, one pass
                            steps.add(fused);
                            bytes += 4 * main.parameterCount();
                            params += main.parameterCount();
                            shape = fused.outShape();
                            gi++;
                            continue;
                        }
                        steps.add(InferencePlan.f32Step(g, ops, in));
                        bytes += 4 * main.parameterCount();
                        params += main.parameterCount();
                    }
                    shape = out;
                }
                if (cur != null) steps.add(U8Steps.dequantize("output", shape, cur));
                StringBuilder sum = new StringBuilder();
                for (Step s : steps) sum.append(String.format("%-44s %-4s %s%n", s.label(), s.outType(), Shapes.str(s.outShape())));
                for (Map.Entry<String, Tensor> e : model.parameters().entrySet()) { // the f32 layers' parameters, as they are
                    if (!int8Layers.contains(QuantizedModelFile.layerIndex(e.getKey()))) saved.put(e.getKey(), e.getValue().copy());
                }
                QuantizedModelFile.Recipe recipe = new QuantizedModelFile.Recipe(org.tessera.io.Json.write(model.architecture()), weightBits,
                        new TreeMap<>(usedRanges), new LinkedHashMap<>(saved));
                saved.clear(); // the recipe owns them now
                return new QuantizedModel(new InferencePlan(model.inputShape(), steps), bytes, params, sum.toString(), recipe);
            } catch (RuntimeException e) {
                steps.forEach(Step::close);
                saved.values().forEach(Tensor::close);
                saved.clear();
                throw e;
            }
        }

        /** Sets the source of a loaded model: its activation ranges and its s8 weights (see {@link QuantizedModelFile}). */
        Builder fromFile(Map<Integer, U8Range> ranges, org.tessera.io.SafetensorsFile file) {
            this.fixedRanges = ranges;
            this.preQuantized = file;
            return this;
        }

        /** The u8 encoding of statistics slot i (0: the input, i + 1: group i's output): calibrated, or the loaded one. */
        private U8Range range(int i) {
            U8Range r;
            if (fixedRanges != null) {
                r = fixedRanges.get(i);
                if (r == null) throw new IllegalArgumentException("the file has no activation range for slot " + i + " (" + QuantizedModelFile.RANGES_KEY + ")");
            } else if (givenRanges.containsKey(slotLayer(groups, i))) {
                r = givenRanges.get(slotLayer(groups, i));
            } else {
                r = calibration.range(stats[i]);
            }
            usedRanges.put(i, r);
            return r;
        }

        private static boolean takesU8(Layer next) {
            return (next instanceof WeightedLayer w && runsInt8(w)) || next instanceof Flatten || (next instanceof Pool2d p && p.isMax());
        }

        /**
         * Whether a layer runs int8: only when each output sums at least {@link #MIN_INT8_TAPS} products. Shorter
         * sums (a first convolution on 1 to 3 channels, depthwise filters) give the int8 GEMM nothing to win: on
         * the Fashion-MNIST first layer (3x3x1, 9 taps) int8 took 15 ms per 256 images against f32's 6 ms.
         */
        static boolean runsInt8(WeightedLayer layer) {
            return layer.weight().numel() / layer.outputs() >= MIN_INT8_TAPS;
        }

        /**
         * The int8 step of a linear or convolution group: folded weights quantized per output channel (or read
         * from a saved model). A linear layer given an (h, w, c) {@code in} takes its input in (h, w, c) order
         * (a folded flatten).
         */
        private Step int8Step(Ops ops, Group g, long[] in, long[] out, Int8Input xq, Int8Output epilogue) {
            boolean linear = g.main() instanceof Linear;
            WeightedLayer layer = (WeightedLayer) g.main();
            int channels = layer.outputs();
            long[] wShape = layer.weight().shape();
            String label = g.label() + " int8", name = g.first() + ".";
            QuantizedModelFile.Weights qw = preQuantized != null ? QuantizedModelFile.weights(preQuantized, name, wShape)
                    : quantize(layer, g.bn(), channels, weightBits);
            saved.put(name + "weight", Tensor.of(DType.S8, qw.q(), wShape));
            saved.put(name + QuantizedModelFile.SCALE_SUFFIX, Tensor.of(qw.scales(), channels));
            if (qw.bias() != null) saved.put(name + "bias", Tensor.of(qw.bias(), channels));
            byte[] q = linear && in.length == 3 ? Flatten.hwcColumns(qw.q(), channels, in) : qw.q();
            float[] scales = qw.scales();
            Tensor bias = qw.bias() == null ? null : Tensor.of(qw.bias(), channels);
            try {
                try (Tensor wq = Tensor.of(DType.S8, q, wShape)) {
                    if (linear) {
                        PackedInt8Matrix packed = ops.packInt8(wq.t(), scales);
                        return new Step(label, out.clone(), epilogue.type(), (x, y) -> ops.matmul(x, xq, packed, epilogue, bias, y), () -> {
                            packed.close();
                            if (bias != null) bias.close();
                        });
                    }
                    Conv2d conv = (Conv2d) g.main();
                    PackedInt8Conv packed;
                    try (Tensor krsc = Layouts.filtersFromKcrs(wq)) {
                        packed = ops.packInt8Conv(krsc, conv.params(), scales);
                    }
                    return new Step(label, out.clone(), epilogue.type(), (x, y) -> ops.conv2d(x, xq, packed, epilogue, bias, y), () -> {
                        packed.close();
                        if (bias != null) bias.close();
                    });
                }
            } catch (RuntimeException e) {
                if (bias != null) bias.close();
                throw e;
            }
        }

        /** The layer's weights with its BatchNorm folded in, quantized symmetrically per output channel to weightBits. */
        private static QuantizedModelFile.Weights quantize(WeightedLayer layer, BatchNorm bn, int channels, int weightBits) {
            Folded f = Folded.of(layer.weight(), layer.bias(), bn, channels);
            float[] w, bias;
            try (Tensor fw = f.weight(); Tensor fb = f.bias()) {
                w = fw.toFloatArray();
                bias = fb == null ? null : fb.toFloatArray();
            }
            int row = w.length / channels;
            float[] scales = new float[channels];
            byte[] q = new byte[w.length];
            float levels = (1 << (weightBits - 1)) - 1; // 127 or 63: symmetric, so -levels..levels
            for (int o = 0; o < channels; o++) {
                float max = 0;
                for (int i = 0; i < row; i++) max = Math.max(max, Math.abs(w[o * row + i]));
                scales[o] = max > 0 ? max / levels : 1f;
                for (int i = 0; i < row; i++) q[o * row + i] = (byte) Math.max(-levels, Math.min(levels, Math.rint(w[o * row + i] / scales[o])));
            }
            return new QuantizedModelFile.Weights(q, scales, bias);
        }
    }
}
