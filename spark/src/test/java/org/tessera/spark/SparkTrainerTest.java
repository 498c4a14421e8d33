package org.tessera.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tessera.nn.Sequential;
import org.tessera.train.Optimizer;
import org.tessera.train.Schedule;
import org.tessera.train.Trainer;

/** SparkTrainer in Spark local mode (2 task slots, tasks may fail up to 4 times): equivalence, DataFrames, a killed task. */
class SparkTrainerTest {
    private static final long SEED = System.nanoTime();
    static final int WORKERS = 2, BATCH = 6;
    private static SparkSession spark;
    private static JavaSparkContext sc;

    @BeforeAll
    static void start() {
        SparkConf conf = new SparkConf().setMaster("local[2,4]").setAppName("tessera-spark-test").set("spark.ui.enabled", "false")
                .set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1").set("spark.sql.shuffle.partitions", "2");
        spark = SparkSession.builder().config(conf).getOrCreate();
        sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    }

    @AfterAll
    static void stop() {
        if (spark != null) spark.stop();
    }

    /** SGD (Adam would blow up float noise in the bias before batch norm), in dataset order. */
    static void sgd(Trainer.Builder b) {
        b.shuffle(false).optimizer(Optimizer.sgd(0.9, true, 1e-4)).schedule(Schedule.constant(0.05));
    }

    static SparkTrainer.Builder spark(Sequential init) {
        return SparkTrainer.builder(init).batchSizePerWorker(BATCH).epochs(2).seed(SEED).options(SparkTrainerTest::sgd);
    }

    static List<float[]> singleMachine(byte[][] images, int[] labels, int replicas) throws IOException {
        try (Sequential m = Quadrants.model(); Trainer t = Trainer.builder(m).replicas(replicas).batchSize(replicas * BATCH).epochs(2).seed(SEED).prefetch(false)
                .optimizer(Optimizer.sgd(0.9, true, 1e-4)).schedule(Schedule.constant(0.05)).shuffle(false).build()) {
            t.fit(Quadrants.dataset(images, labels), null);
            return Quadrants.weights(m);
        }
    }

    static void assertClose(List<float[]> expected, List<float[]> actual, String what) {
        for (int p = 0; p < expected.size(); p++) {
            for (int i = 0; i < expected.get(p).length; i++) {
                float a = expected.get(p)[i];
                assertEquals(a, actual.get(p)[i], 1e-4 + 1e-4 * Math.abs(a), "seed " + SEED + ", " + what + ", parameter " + p + " element " + i);
            }
        }
    }

    @Test
    void workersTrainLikeOneTrainerWithAsManyReplicas() throws IOException {
        int n = WORKERS * (BATCH * 7 + 2); // 7 full global batches and a smaller one
        int[] labels = new int[n];
        byte[][] images = Quadrants.images(n, SEED, labels);
        List<float[]> expected = singleMachine(images, labels, WORKERS);
        try (Sequential init = Quadrants.model();
                SparkTrainer.Result r = spark(init).build().fit(sc.parallelize(Quadrants.partitionedLikeReplicas(images, labels, WORKERS, BATCH), WORKERS))) {
            assertEquals(16, r.steps());
            assertEquals(WORKERS, r.reports().size());
            for (WorkerReport w : r.reports()) {
                assertEquals(n / WORKERS, w.examplesUsed());
                assertEquals(0, w.examplesDropped());
                assertEquals(0, w.stageAttempt());
                assertEquals(-1, w.resumedFromStep());
                assertTrue(w.allReduceSeconds() > 0 && w.floatsPerStep() > 0, w.toString());
            }
            assertEquals(2L * n, r.reports().get(0).groupExamples());
            assertTrue(r.imagesPerSecond() > 0 && r.allReduceMillisPerStep() > 0);
            assertClose(expected, Quadrants.weights(r.model()), WORKERS + " Spark workers");
        }
    }

    @Test
    void trainsFromADataFrameAndDropsTheUnevenRemainder() throws IOException {
        int n = 61;
        int[] labels = new int[n];
        byte[][] images = Quadrants.images(n, SEED, labels);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) rows.add(RowFactory.create(images[i], labels[i]));
        StructType schema = new StructType().add("image", DataTypes.BinaryType).add("label", DataTypes.IntegerType);
        org.apache.spark.sql.Dataset<Row> frame = spark.createDataFrame(rows, schema).repartition(WORKERS);
        try (Sequential init = Quadrants.model(); SparkTrainer.Result r = spark(init).epochs(1).build().fit(frame, "image", "label")) {
            int used = r.reports().get(0).examplesUsed();
            assertEquals(30, used, "the smaller partition's count");
            assertEquals(n, r.reports().stream().mapToInt(w -> w.examplesUsed() + w.examplesDropped()).sum());
            assertEquals((used + BATCH - 1) / BATCH, r.steps());
            assertTrue(Double.isFinite(r.reports().get(0).finalTrainLoss()));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> spark(Quadrants.model()).build().fit(frame, "image", "missing"));
        assertTrue(e.getMessage().contains("no column missing"), e.getMessage());
        org.apache.spark.sql.Dataset<Row> floats = frame.selectExpr("cast(label as double) as label", "image");
        e = assertThrows(IllegalArgumentException.class, () -> spark(Quadrants.model()).build().fit(floats, "image", "label"));
        assertTrue(e.getMessage().contains("integer type"), e.getMessage());
    }

    @Test
    void aKilledTaskMakesSparkRetryTheStageWhichResumesFromTheCheckpoint(@TempDir Path dir) throws IOException {
        int n = WORKERS * BATCH * 9;
        int[] labels = new int[n];
        byte[][] images = Quadrants.images(n, SEED, labels);
        List<float[]> expected;
        try (Sequential init = Quadrants.model(); SparkTrainer.Result r = spark(init).build().fit(sc.parallelize(Quadrants.partitionedLikeReplicas(images, labels, WORKERS, BATCH), WORKERS))) {
            expected = Quadrants.weights(r.model());
        }
        Path local = Files.createDirectory(dir.resolve("shared-mount")), viaHadoop = dir.resolve("hadoop-store"); // the second does not exist yet: mkdirs
        for (SparkTrainer.Builder killedOnce : List.of(spark(Quadrants.model()).checkpointDir(local, 4), spark(Quadrants.model()).checkpointDir(viaHadoop.toUri().toString(), 4))) {
            killedOnce.options(b -> {
                sgd(b);
                b.afterStep(new KillOnce());
            });
            try (SparkTrainer.Result r = killedOnce.build().fit(sc.parallelize(Quadrants.partitionedLikeReplicas(images, labels, WORKERS, BATCH), WORKERS))) {
                assertEquals(18, r.steps());
                for (WorkerReport w : r.reports()) {
                    assertTrue(w.stageAttempt() > 0, "the stage was retried: " + w);
                    assertEquals(12, w.resumedFromStep(), "resumed from the checkpoint at step 12 (epoch 1, batch 3): " + w);
                }
                List<float[]> resumed = Quadrants.weights(r.model());
                for (int p = 0; p < expected.size(); p++) assertArrayEquals(expected.get(p), resumed.get(p), "seed " + SEED + ", parameter " + p);
            }
        }
        assertTrue(Files.size(viaHadoop.resolve(TrainingTask.CHECKPOINT_FILE)) > 0, "the Hadoop store holds the last checkpoint");
        assertTrue(Files.notExists(viaHadoop.resolve(TrainingTask.CHECKPOINT_FILE + ".uploading")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> spark(Quadrants.model()).checkpointDir("relative/dir", 4));
        assertTrue(e.getMessage().contains("needs a scheme"), e.getMessage());
    }

    @Test
    void anExampleThatDoesNotFitTheModelFailsTheFitNamingIt() {
        int[] labels = new int[24];
        byte[][] images = Quadrants.images(24, SEED, labels);
        List<Example> examples = new ArrayList<>(Quadrants.partitionedLikeReplicas(images, labels, WORKERS, BATCH));
        examples.set(17, new Example(new byte[63], 1)); // partition 1, its 5th example
        // returned by every task, not thrown: Spark would re-run the stage on the same data
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> spark(Quadrants.model()).build().fit(sc.parallelize(examples, WORKERS)).close());
        assertEquals("tessera-spark: example 5 of partition 1 has 63 pixel bytes; the model takes 8x8x1 = 64", e.getMessage());
        examples.set(17, new Example(new byte[64], 4));
        examples.set(2, new Example(new byte[64], 9));
        e = assertThrows(IllegalArgumentException.class, () -> spark(Quadrants.model()).build().fit(sc.parallelize(examples, WORKERS)).close());
        assertTrue(e.getMessage().contains("example 2 of partition 0 has label 9; the model has 4 classes") && e.getMessage().contains("example 5 of partition 1 has label 4"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> spark(Quadrants.model()).build().fit(sc.parallelize(examples.subList(0, 1), WORKERS)).close());
        assertTrue(e.getMessage().contains("partition 0 has no examples"), e.getMessage());
    }

    @Test
    void refusesSparkVersionsThatCannotRunIt() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> SparkTrainer.requireSupported("4.0.1", true, 25));
        assertTrue(e.getMessage().contains("4.1.3 or newer"), e.getMessage());
        e = assertThrows(IllegalStateException.class, () -> SparkTrainer.requireSupported("4.1.3", false, 25));
        assertTrue(e.getMessage().contains("Spark 4.2 or newer"), e.getMessage());
        SparkTrainer.requireSupported("4.1.3", true, 25); // local mode runs
        SparkTrainer.requireSupported("4.1.3", false, 21);
        SparkTrainer.requireSupported("4.2.0", false, 25);
        SparkTrainer.requireSupported("4.3.0-SNAPSHOT", false, 25);
        SparkTrainer.requireSupported(spark.version(), true, Runtime.version().feature());
    }

    /** Fails rank 1's task at its 14th step, in the first attempt of the stage only. */
    static final class KillOnce implements Runnable {
        private int steps;

        @Override
        public void run() {
            TaskContext ctx = TaskContext.get();
            if (++steps == 14 && ctx.partitionId() == 1 && ctx.stageAttemptNumber() == 0) throw new IllegalStateException("test: task 1 dies at step 14");
        }
    }
}
