package org.tessera.train;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.tessera.Ops;
import org.tessera.Tensor;
import org.tessera.data.Augmentation;
import org.tessera.data.DataLoader;
import org.tessera.data.Dataset;
import org.tessera.dist.Communicator;
import org.tessera.kernels.WorkerPool;
import org.tessera.nn.NonFiniteException;
import org.tessera.nn.QuantizedModel;
import org.tessera.nn.Sequential;

/**
 * Trains a {@link Sequential} model with synchronous data parallelism: each step splits the global batch into
 * contiguous shards, one per replica; the replicas run forward and backward at the same time on the library's
 * worker threads (each replica's kernels then run single-threaded); their gradients are summed in replica
 * order (so a run is deterministic for a given seed and replica count) and one optimizer step updates the
 * shared parameters. With one replica the kernels use every worker thread instead (intra-op parallelism).
 *
 * <pre>{@code
 * try (Trainer t = Trainer.builder(model).optimizer(Optimizer.adam(0)).schedule(Schedule.constant(1e-3))
 *         .batchSize(128).epochs(5).build()) {
 *     History h = t.fit(train, validation);
 * }
 * }</pre>
 *
 * <p>Across processes or machines: give the builder a {@link Communicator} and every member of the group runs
 * this same step on its own data ({@link Builder#batchSize} examples per member per step); the members' gradients
 * (and BatchNorm batch statistics) are summed with one all-reduce per step, so every member takes the same
 * optimizer step. N members with batch B train like one trainer with N replicas and batch N&middot;B
 * (equal up to float summation order). {@code tessera-spark} runs this on Apache Spark.
 *
 * <p>Quantization-aware: {@link Builder#quantizationAware} rounds weights and activations in every forward pass as
 * the model's int8 version will; {@link #quantizedModel} then builds that version with the ranges training observed.
 *
 * <p>Safety: a NaN or infinite loss stops training with a {@link NonFiniteException} naming the step and the
 * first layer whose output went non-finite; a non-finite gradient names the step and the parameter.
 */
public final class Trainer implements AutoCloseable {
    private final Sequential model;
    private final Loss loss;
    private final Optimizer optimizer;
    private final Schedule schedule;
    private final int batchSize, epochs, patience;
    private final long seed;
    private final double clipNorm;
    private final Augmentation augment;
    private final boolean prefetch;
    private final Path checkpoint;
    private final int checkpointEvery;
    private final java.util.function.Consumer<Path> onCheckpoint;
    private final boolean shuffle;
    private final Communicator comm;
    private final GradientExchange exchange;
    private final TrainingListener listener;
    private final Runnable afterStep;
    private final FakeQuantization qat;
    private final Replica[] replicas;
    private final Ops ops;
    private final double[] shardLoss;
    private final int[] shardCorrect;
    private int startEpoch, startBatch;
    private long step;

    private Trainer(Builder b) {
        this.model = b.model;
        this.loss = b.loss;
        this.optimizer = b.optimizer;
        this.schedule = b.schedule;
        this.batchSize = b.batchSize;
        this.epochs = b.epochs;
        this.patience = b.patience;
        this.seed = b.seed;
        this.clipNorm = b.clipNorm;
        this.augment = b.augment;
        this.prefetch = b.prefetch;
        this.checkpoint = b.checkpoint;
        this.checkpointEvery = b.checkpointEvery;
        this.onCheckpoint = b.onCheckpoint;
        this.shuffle = b.shuffle;
        this.comm = b.comm;
        this.listener = b.listener;
        this.afterStep = b.afterStep;
        this.ops = b.ops;
        int n = b.replicas > 0 ? b.replicas : defaultReplicas();
        this.replicas = new Replica[n];
        SplittableRandom rng = new SplittableRandom(seed);
        // Member k's replicas take the random streams replicas k*n.. would take in one trainer with size*n replicas.
        for (long skip = comm == null ? 0 : (long) comm.rank() * n; skip > 0; skip--) rng.split();
        this.qat = b.weightBits == 0 ? null : new FakeQuantization(model, b.weightBits);
        GradientExchange ex = null;
        try {
            for (int r = 0; r < n; r++) replicas[r] = new Replica(model, b.ops, (batchSize + n - 1) / n, rng.split(), qat);
            if (comm != null) ex = new GradientExchange(comm, replicas[0]);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        this.exchange = ex;
        this.shardLoss = new double[n];
        this.shardCorrect = new int[n];
    }

    /**
     * The replica count when none is set: one per worker thread (data parallelism), measured faster than one
     * replica with multi-threaded kernels for the small CNNs this targets (bench/RESULTS.md, "Training").
     */
    public static int defaultReplicas() {
        return WorkerPool.shared().threads();
    }

    /** A builder for training {@code model} (whose parameters are updated in place). */
    public static Builder builder(Sequential model) {
        return new Builder(model);
    }

    /** Replicas (shards per step). */
    public int replicas() {
        return replicas.length;
    }

    /** Optimizer steps taken (including those before a resume). */
    public long steps() {
        return step;
    }

    /** Seconds spent summing gradients across the group's members (0 without a communicator). */
    public double communicationSeconds() {
        return exchange == null ? 0 : exchange.seconds();
    }

    /** Floats each step all-reduces across the group (0 without a communicator). */
    public int floatsPerStep() {
        return exchange == null ? 0 : exchange.length();
    }

    /**
     * Continues from a checkpoint written by this trainer's configuration: parameters, optimizer state, step and
     * epoch are restored; {@link #fit} then runs the remaining epochs.
     *
     * @throws IOException if the file is unreadable or does not match the model
     */
    public Trainer resume(Path file) throws IOException {
        Map<String, float[]> own = new java.util.HashMap<>();
        Checkpoint.State s = Checkpoint.load(file, model, optimizer, own);
        if (qat != null) qat.restore(own);
        boolean whole = s.batchesDone() < 0;
        startEpoch = whole ? s.epoch() + 1 : s.epoch();
        startBatch = whole ? 0 : s.batchesDone();
        step = s.step();
        model.parametersChanged();
        return this;
    }

    /**
     * Trains on {@code train} (shuffled each epoch) and, after each epoch, evaluates on {@code validation}
     * (may be null). With early stopping, training ends after {@code patience} epochs without a lower
     * validation loss and the best epoch's parameters are restored.
     */
    public History fit(Dataset train, Dataset validation) throws IOException {
        Objects.requireNonNull(train, "train");
        if (patience > 0 && validation == null) throw new IllegalArgumentException("early stopping needs a validation set");
        requireShape(train, "training");
        if (validation != null) requireShape(validation, "validation");
        if (comm != null) requireSameSize(train);
        List<EpochStats> done = new ArrayList<>();
        double bestLoss = Double.POSITIVE_INFINITY;
        int bestEpoch = -1, sinceBest = 0;
        boolean stopped = false;
        Snapshot best = null;
        int members = comm == null ? 1 : comm.size();
        try (DataLoader loader = new DataLoader(train, batchSize, shuffle, seed, augment, prefetch)) {
            if (startBatch > loader.batches()) throw new IllegalStateException("the checkpoint is at batch " + startBatch + " of an epoch, but an epoch has " + loader.batches());
            for (int epoch = startEpoch; epoch < epochs; epoch++) {
                long stall0 = loader.stallNanos(), t0 = System.nanoTime();
                double lossSum = 0;
                long correct = 0, seen = 0;
                int b = epoch == startEpoch ? startBatch : 0;
                for (Batch batch : loader.epoch(epoch, b)) {
                    double[] r = step(batch);
                    lossSum += r[0];
                    correct += (long) r[1];
                    seen += (long) batch.size() * members;
                    double secs = (System.nanoTime() - t0) / 1e9;
                    listener.onBatch(epoch, b++, loader.batches(), lossSum / seen, (double) correct / seen, seen / secs);
                    if (checkpointEvery > 0 && step % checkpointEvery == 0 && b < loader.batches()) saveCheckpoint(epoch, b);
                }
                double secs = (System.nanoTime() - t0) / 1e9;
                model.parametersChanged();
                double[] val = validation == null ? new double[] {Double.NaN, Double.NaN} : evaluate(validation);
                EpochStats stats = new EpochStats(epoch, lossSum / seen, loss instanceof MeanSquaredError ? Double.NaN : (double) correct / seen, val[0], val[1],
                        seen / secs, secs, (loader.stallNanos() - stall0) / 1e9, schedule.rate(Math.max(0, step - 1)));
                done.add(stats);
                listener.onEpoch(stats);
                saveCheckpoint(epoch, -1);
                if (validation != null && val[0] < bestLoss) {
                    bestLoss = val[0];
                    bestEpoch = epoch;
                    sinceBest = 0;
                    if (patience > 0) best = Snapshot.of(model, qat);
                } else if (patience > 0 && ++sinceBest >= patience) {
                    stopped = epoch + 1 < epochs;
                    break;
                }
            }
        }
        if (stopped && best != null) {
            best.restore(model, qat);
            model.parametersChanged();
        }
        return new History(List.copyOf(done), bestEpoch, stopped);
    }

    private void saveCheckpoint(int epoch, int batchesDone) throws IOException {
        if (checkpoint == null || (comm != null && comm.rank() != 0)) return; // members hold the same parameters
        Checkpoint.save(checkpoint, model, optimizer, epoch, step, seed, batchesDone, qat == null ? Map.of() : qat.state());
        if (onCheckpoint != null) onCheckpoint.accept(checkpoint);
    }

    /** Every member must take the same number of steps with the same batch sizes, or the all-reduces would not pair up. */
    private void requireSameSize(Dataset train) {
        float[] sizes = new float[comm.size()];
        sizes[comm.rank()] = train.size();
        comm.allReduceSum(sizes);
        for (float v : sizes) {
            if (v != sizes[0]) {
                throw new IllegalArgumentException("distributed training needs the same number of examples on every member, but they hold "
                        + java.util.Arrays.toString(sizes) + " (rank order); split the data evenly or drop the remainder");
            }
        }
    }

    /** One optimizer step on {@code batch}; returns {summed loss, correct predictions} (over the group, with a communicator). */
    double[] step(Batch batch) {
        int n = batch.size(), shards = Math.min(replicas.length, n);
        double scale = 1.0 / ((double) n * (comm == null ? 1 : comm.size()));
        if (shards == 1) {
            runShard(0, batch, scale);
        } else {
            WorkerPool.shared().parallelFor(shards, r -> runShard(r, batch.slice(n * r / shards, n * (r + 1) / shards), scale));
        }
        if (exchange != null) return finishDistributed(shards, n);
        double total = 0;
        int correct = 0;
        for (int r = 0; r < shards; r++) {
            if (!Double.isFinite(shardLoss[r])) {
                int from = n * r / shards;
                String layer = replicas[r].firstNonFiniteLayer(n * (r + 1) / shards - from);
                throw new NonFiniteException("step " + step + ": the loss is " + shardLoss[r] + (layer == null ? " (every layer's output is finite: the loss itself overflowed; check the targets)"
                        : "; the first layer with a NaN or infinite output is layer " + layer));
            }
            total += shardLoss[r];
            correct += shardCorrect[r];
        }
        List<Param> params = replicas[0].params();
        allReduce(params, shards);
        for (int i = 0; i < replicas[0].layers().size(); i++) {
            if (!(replicas[0].layers().get(i) instanceof RunningStatistics first)) continue;
            double[] sums = new double[first.statsWidth()];
            for (int r = 0; r < shards; r++) ((RunningStatistics) replicas[r].layers().get(i)).addBatchStats(sums);
            first.updateRunning(sums);
        }
        update(params);
        return new double[] {total, correct};
    }

    /** The step of a group member: sum over the group first; every member then sees the same loss and gradients. */
    private double[] finishDistributed(int shards, int n) {
        double[] sums = exchange.exchange(replicas, shards, shardLoss, shardCorrect);
        if (!Double.isFinite(sums[0])) {
            for (int r = 0; r < shards; r++) {
                if (Double.isFinite(shardLoss[r])) continue;
                int from = n * r / shards;
                String layer = replicas[r].firstNonFiniteLayer(n * (r + 1) / shards - from);
                throw new NonFiniteException("step " + step + ": the loss on member " + comm.rank() + " is " + shardLoss[r]
                        + (layer == null ? " (every layer's output is finite: the loss itself overflowed; check the targets)" : "; the first layer with a NaN or infinite output is layer " + layer));
            }
            throw new NonFiniteException("step " + step + ": the group's loss is " + sums[0] + "; this member's (" + comm.rank() + ") is finite, another member's is not (see its error)");
        }
        update(replicas[0].params());
        return sums;
    }

    private void update(List<Param> params) {
        checkGradients(params, step);
        if (clipNorm > 0) clip(params, clipNorm);
        optimizer.step(params, schedule.rate(step));
        step++;
        if (afterStep != null) afterStep.run();
    }

    private void runShard(int r, Batch shard, double scale) {
        Replica rep = replicas[r];
        shardLoss[r] = rep.forwardBackward(shard, loss, scale);
        shardCorrect[r] = shard.labels() == null ? 0 : countCorrect(rep.output(shard.size()), shard);
    }

    /**
     * Sums every replica's gradients into replica 0's, in replica order (deterministic): elementwise adds, which
     * the backend vectorizes and splits over the pool (it runs between the parallel phases of a step).
     */
    private void allReduce(List<Param> params, int shards) {
        for (int r = 1; r < shards; r++) {
            List<Param> other = replicas[r].params();
            for (int p = 0; p < params.size(); p++) ops.add(params.get(p).grad(), other.get(p).grad(), params.get(p).grad());
        }
    }

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    /** Throws naming the first non-finite gradient element (at optimizer step {@code step}); whole vectors are tested at a time. */
    static void checkGradients(List<Param> params, long step) {
        for (Param p : params) {
            MemorySegment g = p.grad().segment();
            long len = g.byteSize() / 4, i = 0;
            for (long end = len - len % F.length(); i < end; i += F.length()) {
                if (!FloatVector.fromMemorySegment(F, g, 4 * i, ByteOrder.nativeOrder()).test(VectorOperators.IS_FINITE).allTrue()) break;
            }
            for (; i < len; i++) {
                float v = g.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                if (!Float.isFinite(v)) throw new NonFiniteException("step " + step + ": the gradient of parameter " + p.name() + " is " + v + " at element " + i);
            }
        }
    }

    /** Scales all gradients so their global L2 norm is at most {@code max}. */
    static double clip(List<Param> params, double max) {
        double sq = 0;
        for (Param p : params) {
            MemorySegment g = p.grad().segment();
            for (long i = 0, len = g.byteSize() / 4; i < len; i++) {
                double v = g.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                sq += v * v;
            }
        }
        double norm = Math.sqrt(sq);
        if (norm <= max) return norm;
        float f = (float) (max / norm);
        for (Param p : params) {
            MemorySegment g = p.grad().segment();
            for (long i = 0, len = g.byteSize() / 4; i < len; i++) g.setAtIndex(ValueLayout.JAVA_FLOAT, i, g.getAtIndex(ValueLayout.JAVA_FLOAT, i) * f);
        }
        return norm;
    }

    /**
     * The int8 model of the trained model, after {@link Builder#quantizationAware quantization-aware training}:
     * weights quantized as training rounded them, activation ranges as training observed them (no calibration).
     * Its outputs match this trainer's evaluation-mode outputs up to the int8 kernels' rounding of sums. The caller
     * owns (closes) it; it does not depend on the model afterwards.
     *
     * @throws IllegalStateException if this trainer is not quantization-aware, or has not trained a step yet
     */
    public QuantizedModel quantizedModel(Ops ops) {
        if (qat == null) throw new IllegalStateException("this trainer is not quantization-aware (Builder.quantizationAware); use QuantizedModel.builder(model) to calibrate instead");
        return qat.convert(model, ops);
    }

    /** The observers' checkpoint state by name (empty without quantization-aware training). */
    Map<String, float[]> quantizationState() {
        return qat == null ? Map.of() : qat.state();
    }

    /** The model's evaluation-mode output for {@code x} as this trainer computes it (with fake quantization, if on); a new tensor. */
    Tensor predict(Tensor x) {
        int n = (int) x.dim(0), chunk = replicas[0].maxBatch();
        long[] shape = model.outputShape(), outShape = new long[shape.length + 1];
        outShape[0] = n;
        System.arraycopy(shape, 0, outShape, 1, shape.length);
        Tensor out = Tensor.allocate(org.tessera.kernels.DType.F32, outShape);
        for (int from = 0; from < n; from += chunk) {
            int to = Math.min(n, from + chunk);
            out.slice(0, from, to).copyFrom(replicas[0].forward(x.slice(0, from, to), false));
        }
        return out;
    }

    /** {mean loss, accuracy} of the model (evaluation mode) on {@code data}. */
    public double[] evaluate(Dataset data) {
        Replica rep = replicas[0];
        int chunk = (batchSize + replicas.length - 1) / replicas.length;
        double total = 0;
        long correct = 0;
        int[] labels = data.labels();
        try (Tensor grad = Tensor.allocate(org.tessera.kernels.DType.F32, chunk, model.outputShape()[0])) {
            for (int from = 0; from < data.size(); from += chunk) {
                int n = Math.min(chunk, data.size() - from);
                try (Tensor xs = data.images(from, from + n); Tensor ts = data.targetWidth() == 0 ? null : Tensor.of(data.targets(from, from + n), n, data.targetWidth())) {
                    Batch batch = new Batch(xs, labels, from, ts);
                    Tensor out = rep.forward(xs, false);
                    total += loss.forwardBackward(out, batch, 0, grad.slice(0, 0, n));
                    correct += countCorrect(out, batch);
                }
            }
        }
        return new double[] {total / data.size(), loss instanceof MeanSquaredError ? Double.NaN : (double) correct / data.size()};
    }

    private static int countCorrect(Tensor out, Batch batch) {
        MemorySegment o = out.segment();
        int n = (int) out.dim(0), k = (int) (out.numel() / Math.max(1, n)), correct = 0;
        for (int r = 0; r < n; r++) {
            int arg = 0;
            float best = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < k; j++) {
                float v = o.getAtIndex(ValueLayout.JAVA_FLOAT, (long) r * k + j);
                if (v > best) {
                    best = v;
                    arg = j;
                }
            }
            if (arg == batch.label(r)) correct++;
        }
        return correct;
    }

    private void requireShape(Dataset d, String what) {
        if (!java.util.Arrays.equals(d.exampleShape(), model.inputShape())) {
            throw new IllegalArgumentException(what + " examples are " + java.util.Arrays.toString(d.exampleShape()) + " but the model takes "
                    + java.util.Arrays.toString(model.inputShape()));
        }
    }

    /** Frees the replicas' buffers (not the model). */
    @Override
    public void close() {
        for (Replica r : replicas) if (r != null) r.close();
    }

    /** Options for a {@link Trainer}; defaults: cross-entropy, Adam at 1e-3, batch 128, 1 epoch, seed 0. */
    public static final class Builder {
        private final Sequential model;
        private Ops ops = Ops.auto();
        private Loss loss = Loss.crossEntropy();
        private Optimizer optimizer = Optimizer.adam(0);
        private Schedule schedule = Schedule.constant(1e-3);
        private int batchSize = 128, epochs = 1, replicas, patience;
        private long seed;
        private double clipNorm;
        private Augmentation augment = Augmentation.NONE;
        private boolean prefetch = true;
        private Path checkpoint;
        private int checkpointEvery;
        private java.util.function.Consumer<Path> onCheckpoint;
        private boolean shuffle = true;
        private Communicator comm;
        private TrainingListener listener = TrainingListener.none();
        private Runnable afterStep;
        private int weightBits;

        private Builder(Sequential model) {
            this.model = Objects.requireNonNull(model, "model");
        }

        /** The backend the kernels run on. */
        public Builder ops(Ops ops) {
            this.ops = Objects.requireNonNull(ops, "ops");
            return this;
        }

        /** The loss (on the model's output; end models in logits, not softmax, for cross-entropy). */
        public Builder loss(Loss loss) {
            this.loss = Objects.requireNonNull(loss, "loss");
            return this;
        }

        /** The optimizer. */
        public Builder optimizer(Optimizer optimizer) {
            this.optimizer = Objects.requireNonNull(optimizer, "optimizer");
            return this;
        }

        /** The learning rate per step. */
        public Builder schedule(Schedule schedule) {
            this.schedule = Objects.requireNonNull(schedule, "schedule");
            return this;
        }

        /** Examples per step (the global batch, split across replicas). */
        public Builder batchSize(int batchSize) {
            if (batchSize < 1) throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
            this.batchSize = batchSize;
            return this;
        }

        /** Epochs to train. */
        public Builder epochs(int epochs) {
            if (epochs < 0) throw new IllegalArgumentException("epochs must be >= 0, got " + epochs);
            this.epochs = epochs;
            return this;
        }

        /** Data-parallel replicas (default {@link #defaultReplicas()}; 1: multi-threaded kernels instead). */
        public Builder replicas(int replicas) {
            if (replicas < 1) throw new IllegalArgumentException("replicas must be >= 1, got " + replicas);
            this.replicas = replicas;
            return this;
        }

        /** Seed of shuffling, augmentation and dropout. */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Clips the global gradient norm to {@code maxNorm} (0: off). */
        public Builder clipGradientNorm(double maxNorm) {
            if (!(maxNorm >= 0)) throw new IllegalArgumentException("max norm must be >= 0, got " + maxNorm);
            this.clipNorm = maxNorm;
            return this;
        }

        /** Stops after {@code patience} epochs without a lower validation loss and restores the best parameters. */
        public Builder earlyStopping(int patience) {
            if (patience < 1) throw new IllegalArgumentException("patience must be >= 1, got " + patience);
            this.patience = patience;
            return this;
        }

        /** Training-time augmentation. */
        public Builder augmentation(Augmentation augment) {
            this.augment = Objects.requireNonNull(augment, "augment");
            return this;
        }

        /** Whether batches are prefetched on a background thread (default true). */
        public Builder prefetch(boolean prefetch) {
            this.prefetch = prefetch;
            return this;
        }

        /** Writes a checkpoint (model, optimizer state, epoch, step) to {@code file} after every epoch. */
        public Builder checkpoint(Path file) {
            this.checkpoint = file;
            return this;
        }

        /**
         * Also writes the checkpoint every {@code steps} optimizer steps within an epoch (0: only after epochs);
         * {@link Trainer#resume} then continues from that batch of that epoch.
         */
        public Builder checkpointEvery(int steps) {
            if (steps < 0) throw new IllegalArgumentException("checkpoint interval must be >= 0 steps, got " + steps);
            this.checkpointEvery = steps;
            return this;
        }

        /** Runs after each checkpoint is written, with its file (e.g. to copy it to remote storage); may throw to stop training. */
        public Builder onCheckpoint(java.util.function.Consumer<Path> hook) {
            this.onCheckpoint = hook;
            return this;
        }

        /** Whether each epoch visits the examples in a fresh random order (default true); false: in dataset order. */
        public Builder shuffle(boolean shuffle) {
            this.shuffle = shuffle;
            return this;
        }

        /**
         * Makes this trainer one member of a distributed data-parallel group: {@link #batchSize} becomes the
         * examples per member per step, every member must hold the same number of examples, gradients are summed
         * over the group each step, and only rank 0 writes checkpoints. The trainer does not close {@code comm}.
         */
        public Builder communicator(Communicator comm) {
            this.comm = comm;
            return this;
        }

        /** Progress callbacks. */
        public Builder listener(TrainingListener listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /** Runs after every optimizer step (e.g. re-applies pruning masks). */
        public Builder afterStep(Runnable hook) {
            this.afterStep = hook;
            return this;
        }

        /**
         * Quantization-aware training: every forward pass (training and evaluation) rounds what the model's int8
         * version will round ({@link QuantizedModel#plan}): the weights of its int8 layers to {@code weightBits}-bit
         * codes per output channel, and the activations it carries as u8 to ranges observed during training
         * (moving averages of the batch extremes). Gradients pass straight through the rounding, and are zero
         * where an activation was clamped to its range. {@link Trainer#quantizedModel} then builds the int8 model
         * without calibration. Start from a trained model and fine-tune for an epoch or two at a low rate.
         * The weights are rounded before BatchNorm; folding it into them scales each output channel, which
         * per-channel symmetric rounding follows, so the int8 model's weights land on the same codes (up to
         * float rounding in the fold).
         *
         * @param weightBits 8, or 7 for the fast AVX2 int8 kernel (see {@link QuantizedModel.Builder#weightBits})
         * @throws IllegalArgumentException for other bit counts
         */
        public Builder quantizationAware(int weightBits) {
            if (weightBits != 7 && weightBits != 8) throw new IllegalArgumentException("weightBits must be 7 or 8, got " + weightBits);
            this.weightBits = weightBits;
            return this;
        }

        /** The trainer; it allocates its replicas' buffers now. */
        public Trainer build() {
            if (comm != null && patience > 0) throw new IllegalArgumentException("early stopping is not supported with a communicator (members would stop at different epochs)");
            if (checkpointEvery > 0 && checkpoint == null) throw new IllegalArgumentException("checkpointEvery needs a checkpoint file (Builder.checkpoint)");
            return new Trainer(this);
        }
    }

    /** A copy of every model parameter (BatchNorm statistics included) and observed range, for early stopping. */
    private record Snapshot(List<float[]> values, Map<String, float[]> ranges) {
        static Snapshot of(Sequential model, FakeQuantization qat) {
            List<float[]> v = new ArrayList<>();
            for (Tensor t : model.parameters().values()) v.add(t.toFloatArray());
            return new Snapshot(v, qat == null ? Map.of() : qat.state());
        }

        void restore(Sequential model, FakeQuantization qat) {
            int i = 0;
            for (Tensor t : model.parameters().values()) t.copyFrom(values.get(i++));
            if (qat != null) qat.restore(ranges);
        }
    }
}
