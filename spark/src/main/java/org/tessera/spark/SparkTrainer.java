package org.tessera.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.rdd.RDD;
import org.apache.spark.sql.Row;
import org.tessera.nn.ModelFile;
import org.tessera.nn.Sequential;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;

/**
 * Trains a Tessera model data-parallel on Apache Spark: one barrier stage with one task per partition; each task
 * holds a replica, trains on its partition with the single-machine {@link org.tessera.train.Trainer}'s step code
 * and sums gradients with the other tasks over a {@link org.tessera.dist.TcpRing} every step. N partitions with
 * {@link Builder#batchSizePerWorker batch B} train like one trainer with N replicas and batch N&middot;B.
 *
 * <pre>{@code
 * try (Sequential init = Sequential.builder(28, 28, 1).conv2d(32, 3, 1).relu().maxPool2d(2).flatten().linear(10).build();
 *      SparkTrainer.Result r = SparkTrainer.builder(init).batchSizePerWorker(64).epochs(3)
 *              .options(b -> b.schedule(Schedule.constant(1e-3))).build().fit(examples.repartition(2))) {
 *     Sequential trained = r.model();
 * }
 * }</pre>
 *
 * <p>Rules it follows, and asks of the cluster:
 * <ul>
 *   <li>Every partition must be scheduled at once (barrier mode), so the job needs as many free task slots as
 *       partitions. Spark checks this and fails fast when the cluster is too small; while executors are still
 *       registering it re-checks every {@code spark.scheduler.barrier.maxConcurrentTasksCheck.interval} (15 s by
 *       default), so {@link #fit} first waits for enough executors.
 *   <li>Each partition trains on the same number of examples (the smallest partition's); the rest are dropped and
 *       reported in {@link WorkerReport#examplesDropped}. Repartition the data evenly first.
 *   <li>Tasks meet once, through {@code BarrierTaskContext.allGather}; the ring binds to the task's executor
 *       address and accepts only peers presenting a random token the driver made for this fit.
 *   <li>A failed task fails the stage; Spark then re-runs every task (a shuffle follows the barrier stage, so it is
 *       a retryable map stage) and, with {@link Builder#checkpointDir}, training continues from the last
 *       checkpoint. The directory must be visible to every executor (a shared mount in a cluster); a checkpoint
 *       already there is resumed, so use a fresh directory per training run.
 * </ul>
 */
public final class SparkTrainer {
    private final Sequential initial;
    private final TrainingTask.Settings settings;
    private final Duration executorWait;

    private SparkTrainer(Builder b) {
        this.initial = b.initial;
        this.settings = new TrainingTask.Settings(b.batchSize, b.epochs, b.seed, b.mean, b.std, b.checkpointDir != null ? b.checkpointDir.toString() : b.checkpointUri,
                b.checkpointEvery, b.timeout, b.options);
        this.executorWait = b.executorWait;
    }

    /** A builder for training a copy of {@code initial} (its weights are the starting point; it is not modified). */
    public static Builder builder(Sequential initial) {
        return new Builder(initial);
    }

    /**
     * Trains on {@code examples}, one worker per partition.
     *
     * @throws IllegalArgumentException naming the partition and example, when an example does not fit the model
     *                                  or a partition is empty (checked in the tasks before any training)
     */
    public Result fit(JavaRDD<Example> examples) {
        Objects.requireNonNull(examples, "examples");
        int workers = examples.getNumPartitions();
        if (workers < 1) throw new IllegalArgumentException("tessera-spark: the data has no partitions");
        SparkContext sc = examples.context();
        requireSupported(sc.version(), sc.isLocal(), Runtime.version().feature());
        waitForSlots(sc, workers);
        byte[] token = new byte[32];
        new SecureRandom().nextBytes(token);
        TrainingTask task = new TrainingTask(bytesOf(initial), token, settings);
        ClassTag<WorkerReport> tag = ClassTag$.MODULE$.apply(WorkerReport.class);
        RDD<WorkerReport> trained = examples.rdd().barrier().mapPartitions(task, false, tag);
        // The shuffle after the barrier stage makes it a map stage, which Spark re-runs when a task fails; a failed
        // barrier *result* stage is not retried. The reports are small (the model rides on rank 0's).
        List<WorkerReport> reports = JavaRDD.fromRDD(trained, tag).repartition(1).collect();
        return Result.of(reports);
    }

    /**
     * Trains on a DataFrame with a binary (or integer array, values 0..255) column {@code imageColumn} of
     * (h, w, c) pixels and an integer column {@code labelColumn}; one worker per partition.
     */
    public Result fit(org.apache.spark.sql.Dataset<Row> frame, String imageColumn, String labelColumn) {
        return fit(RowExamples.of(frame, imageColumn, labelColumn));
    }

    /**
     * Spark 4.1.3 or newer; on JDK 24+ with executor JVMs, 4.2 or newer: older Spark's Hadoop calls
     * {@code Subject.getSubject}, which those JDKs removed, and its executors die at start.
     */
    static void requireSupported(String sparkVersion, boolean local, int jdk) {
        int[] v = new int[3];
        String[] parts = sparkVersion.split("[.-]");
        for (int i = 0; i < 3 && i < parts.length; i++) {
            try {
                v[i] = Integer.parseInt(parts[i]);
            } catch (NumberFormatException e) {
                break; // "4.2.0-SNAPSHOT" and the like: compare what parses
            }
        }
        long n = v[0] * 1_000_000L + v[1] * 1_000L + v[2];
        if (n < 4_001_003L) throw new IllegalStateException("tessera-spark needs Spark 4.1.3 or newer (4.2+ on JDK 24+ clusters); this is Spark " + sparkVersion);
        if (n < 4_002_000L && !local && jdk >= 24) {
            throw new IllegalStateException("Spark " + sparkVersion + " on JDK " + jdk + ": its executors die at start (Hadoop 3.4 calls Subject.getSubject, removed in JDK 24)."
                    + " Use Spark 4.2 or newer, or JDK 21 on the cluster; local mode works.");
        }
    }

    /**
     * Waits (up to the executor wait) until the cluster offers a slot per worker, so Spark's barrier check passes at
     * once instead of re-checking every 15 s, and fails clearly when it never does.
     */
    private void waitForSlots(SparkContext sc, int workers) {
        if (sc.isLocal()) return;
        int taskCpus = sc.conf().getInt("spark.task.cpus", 1), executorCores = sc.conf().getInt("spark.executor.cores", 1);
        long deadline = System.nanoTime() + executorWait.toNanos();
        int slots;
        while ((slots = (sc.getExecutorMemoryStatus().size() - 1) * Math.max(1, executorCores / taskCpus)) < workers) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("tessera-spark: " + workers + " workers need " + workers + " task slots at once, but after " + executorWait.toSeconds()
                        + " s the cluster offers " + slots + ". Add executors, use fewer partitions, or wait longer (executorWait); if executors keep failing at"
                        + " start, read their logs (on JDK 24+ Spark 4.1's Hadoop 3.4 fails in UserGroupInformation: use Spark 4.2+).");
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("tessera-spark: interrupted while waiting for executors", e);
            }
        }
    }

    private static byte[] bytesOf(Sequential model) {
        try {
            Path f = Files.createTempFile("tessera-spark-initial", ".safetensors");
            try {
                ModelFile.save(model, f);
                return Files.readAllBytes(f);
            } finally {
                Files.deleteIfExists(f);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("tessera-spark: could not serialize the initial model", e);
        }
    }

    /**
     * The trained model and what every worker reported. Close it to free the model.
     *
     * @param model   the trained model (from rank 0; every rank ends with the same parameters)
     * @param reports one per worker, by rank
     */
    public record Result(Sequential model, List<WorkerReport> reports) implements AutoCloseable {
        static Result of(List<WorkerReport> reports) {
            List<WorkerReport> byRank = reports.stream().sorted(Comparator.comparingInt(WorkerReport::rank)).toList();
            if (byRank.get(0).error() != null) throw new IllegalArgumentException(byRank.get(0).error());
            try {
                Path f = Files.createTempFile("tessera-spark-result", ".safetensors");
                try {
                    Files.write(f, byRank.get(0).model());
                    return new Result(ModelFile.load(f), byRank);
                } finally {
                    Files.deleteIfExists(f);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("tessera-spark: the trained model from rank 0 does not load", e);
            }
        }

        /** Optimizer steps taken. */
        public long steps() {
            return reports.get(0).steps();
        }

        /** Training images per second of the whole group: the examples it trained on over the slowest task's time. */
        public double imagesPerSecond() {
            double slowest = reports.stream().mapToDouble(WorkerReport::trainSeconds).max().orElse(Double.NaN);
            return reports.get(0).groupExamples() / slowest;
        }

        /** The group's training images per second in the last epoch (after the JIT has warmed up), by the slowest task. */
        public double lastEpochImagesPerSecond() {
            return reports.stream().mapToDouble(WorkerReport::lastEpochImagesPerSecond).min().orElse(Double.NaN);
        }

        /** Mean time per step in the gradient all-reduce, over the workers, in milliseconds. */
        public double allReduceMillisPerStep() {
            return reports.stream().mapToDouble(r -> r.allReduceSeconds() * 1e3 / Math.max(1, r.steps() - Math.max(0, r.resumedFromStep()))).average().orElse(Double.NaN);
        }

        @Override
        public void close() {
            model.close();
        }
    }

    /** Options; defaults: batch 64 per worker, 1 epoch, seed 0, no normalization, no checkpoints, 60 s timeouts. */
    public static final class Builder {
        private final Sequential initial;
        private int batchSize = 64, epochs = 1, checkpointEvery;
        private long seed;
        private float mean = 0f, std = 1f;
        private Path checkpointDir;
        private String checkpointUri;
        private Duration timeout = Duration.ofSeconds(60), executorWait = Duration.ofSeconds(60);
        private TrainerOptions options = TrainerOptions.DEFAULTS;

        private Builder(Sequential initial) {
            this.initial = Objects.requireNonNull(initial, "initial model");
        }

        /** Examples per worker per step (the global batch is this times the partitions). */
        public Builder batchSizePerWorker(int batchSize) {
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

        /** Seed of shuffling and dropout (each worker takes its own stream, as a replica of one trainer would). */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Pixels are fed as {@code (pixel / 255 - mean) / std}, as {@link org.tessera.data.Dataset#normalized}. */
        public Builder normalize(float mean, float std) {
            if (!(std > 0) || !Float.isFinite(mean)) throw new IllegalArgumentException("normalization needs a finite mean and std > 0, got " + mean + ", " + std);
            this.mean = mean;
            this.std = std;
            return this;
        }

        /**
         * Writes a checkpoint into {@code dir} after every epoch and every {@code everySteps} steps (0: epochs only);
         * a re-run task (Spark retried the stage) resumes from it. {@code dir} must exist and be visible to every
         * executor.
         */
        public Builder checkpointDir(Path dir, int everySteps) {
            if (everySteps < 0) throw new IllegalArgumentException("checkpoint interval must be >= 0 steps, got " + everySteps);
            if (!Files.isDirectory(Objects.requireNonNull(dir, "dir"))) throw new IllegalArgumentException("checkpoint directory " + dir + " does not exist");
            this.checkpointDir = dir.toAbsolutePath();
            this.checkpointUri = null;
            this.checkpointEvery = everySteps;
            return this;
        }

        /**
         * As {@link #checkpointDir(Path, int)}, on any Hadoop FileSystem: {@code hdfs://namenode/jobs/ckpt},
         * {@code s3a://bucket/ckpt}, {@code file:///mnt/shared/ckpt}. Rank 0 uploads each checkpoint (to a temporary
         * name, renamed over the last); re-run tasks download it. Executors read Hadoop's configuration from
         * their classpath.
         */
        public Builder checkpointDir(String hadoopUri, int everySteps) {
            if (everySteps < 0) throw new IllegalArgumentException("checkpoint interval must be >= 0 steps, got " + everySteps);
            java.net.URI uri;
            try {
                uri = new java.net.URI(Objects.requireNonNull(hadoopUri, "hadoopUri"));
            } catch (java.net.URISyntaxException e) {
                throw new IllegalArgumentException("checkpoint location " + hadoopUri + " is not a URI: " + e.getMessage(), e);
            }
            if (uri.getScheme() == null || !hadoopUri.contains("://")) {
                throw new IllegalArgumentException("checkpoint location " + hadoopUri + " needs a scheme (hdfs://, s3a://, file://); for a plain directory pass a Path");
            }
            this.checkpointDir = null;
            this.checkpointUri = hadoopUri;
            this.checkpointEvery = everySteps;
            return this;
        }

        /** How long a worker waits for a peer at any step (joining included) before failing the stage. */
        public Builder timeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) throw new IllegalArgumentException("timeout must be positive, got " + timeout);
            this.timeout = timeout;
            return this;
        }

        /** How long {@link #fit} waits for executors to offer a slot per worker (cluster masters only). */
        public Builder executorWait(Duration wait) {
            this.executorWait = Objects.requireNonNull(wait, "wait");
            return this;
        }

        /** Trainer settings (optimizer, schedule, loss...) every worker applies; see {@link TrainerOptions}. */
        public Builder options(TrainerOptions options) {
            this.options = Objects.requireNonNull(options, "options");
            return this;
        }

        /** The trainer. */
        public SparkTrainer build() {
            return new SparkTrainer(this);
        }
    }
}
