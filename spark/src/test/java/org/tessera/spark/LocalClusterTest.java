package org.tessera.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.apache.spark.SparkConf;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tessera.nn.Sequential;

/**
 * SparkTrainer across real executor JVMs: Spark's {@code local-cluster[2,1,1024]} starts two workers with one
 * core each. Executors find Spark through {@code SPARK_HOME} (the surefire configuration points it at
 * target/spark-home; this test fills its jars/ with the Maven-resolved classpath) and get Tessera and these
 * tests as one application jar.
 */
class LocalClusterTest {
    private static final long SEED = System.nanoTime();
    private static final int WORKERS = 2;

    private static JavaSparkContext sc;

    @BeforeAll
    static void start() throws IOException {
        String home = System.getenv("SPARK_HOME");
        assertTrue(home != null && System.getenv("SPARK_SCALA_VERSION") != null, "run through Maven: surefire sets SPARK_HOME and SPARK_SCALA_VERSION for this test");
        Path appJar = prepare(Path.of(home));
        SparkConf conf = new SparkConf().setMaster("local-cluster[2,1,1024]").setAppName("tessera-local-cluster-test").set("spark.ui.enabled", "false")
                .set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1")
                .set("spark.executor.extraJavaOptions", "--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED")
                .set("spark.scheduler.barrier.maxConcurrentTasksCheck.interval", "1s").setJars(new String[] {appJar.toUri().toString()});
        sc = new JavaSparkContext(conf);
    }

    @AfterAll
    static void stop() {
        if (sc != null) sc.stop();
    }

    private static List<Example> examples(int[] labels, byte[][] images) {
        return Quadrants.partitionedLikeReplicas(images, labels, WORKERS, SparkTrainerTest.BATCH);
    }

    @Test
    void workersInSeparateExecutorJvmsTrainLikeOneTrainer() throws IOException {
        int n = WORKERS * (SparkTrainerTest.BATCH * 5 + 4);
        int[] labels = new int[n];
        byte[][] images = Quadrants.images(n, SEED, labels);
        List<float[]> expected = SparkTrainerTest.singleMachine(images, labels, WORKERS);
        try (Sequential init = Quadrants.model(); SparkTrainer.Result r = SparkTrainerTest.spark(init).build().fit(sc.parallelize(examples(labels, images), WORKERS))) {
            assertEquals(12, r.steps());
            assertEquals(WORKERS, r.reports().size());
            assertNotEquals(ManagementFactory.getRuntimeMXBean().getPid(), r.reports().get(0).processId(), "rank 0 ran in an executor JVM, not the driver");
            assertNotEquals(r.reports().get(0).processId(), r.reports().get(1).processId(), "the workers ran in two executor JVMs");
            SparkTrainerTest.assertClose(expected, Quadrants.weights(r.model()), "local-cluster");
        }
    }

    @Test
    void anExecutorKilledMidTrainingIsReplacedAndTrainingResumesFromTheCheckpoint(@TempDir Path dir) throws IOException {
        int n = WORKERS * SparkTrainerTest.BATCH * 9;
        int[] labels = new int[n];
        byte[][] images = Quadrants.images(n, SEED, labels);
        List<float[]> expected = SparkTrainerTest.singleMachine(images, labels, WORKERS);
        SparkTrainer trainer = SparkTrainerTest.spark(Quadrants.model()).checkpointDir(dir, 4).options(b -> {
            SparkTrainerTest.sgd(b);
            b.afterStep(new HaltOnce());
        }).build();
        try (SparkTrainer.Result r = trainer.fit(sc.parallelize(examples(labels, images), WORKERS))) {
            assertEquals(18, r.steps());
            for (WorkerReport w : r.reports()) {
                assertTrue(w.stageAttempt() > 0, "the stage was retried: " + w);
                assertEquals(12, w.resumedFromStep(), "resumed from the checkpoint at step 12: " + w);
            }
            SparkTrainerTest.assertClose(expected, Quadrants.weights(r.model()), "after a lost executor");
        }
    }

    /** Kills rank 1's whole executor JVM at its 14th step, in the first attempt of the stage only. */
    static final class HaltOnce implements Runnable {
        private int steps;

        @Override
        public void run() {
            TaskContext ctx = TaskContext.get();
            if (++steps == 14 && ctx.partitionId() == 1 && ctx.stageAttemptNumber() == 0) Runtime.getRuntime().halt(137);
        }
    }

    /** Links every jar of this JVM's classpath into {@code home}/jars; packs the class folders into the returned app jar. */
    static Path prepare(Path home) throws IOException {
        Path jars = home.resolve("jars");
        Files.createDirectories(jars);
        try (Stream<Path> old = Files.list(jars)) { // links of an earlier build (another Spark version) must not mix in
            for (Path p : (Iterable<Path>) old::iterator) Files.delete(p);
        }
        Path app = home.resolve("tessera-app.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(app))) {
            java.util.Set<String> seen = new java.util.HashSet<>();
            for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
                Path p = Path.of(entry);
                if (Files.isDirectory(p)) {
                    pack(p, out, seen);
                } else if (entry.endsWith(".jar") && Files.exists(p)) {
                    Path link = jars.resolve(p.getFileName());
                    if (!Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) Files.createSymbolicLink(link, p.toAbsolutePath());
                }
            }
        }
        return app;
    }

    private static void pack(Path dir, JarOutputStream out, java.util.Set<String> seen) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                String name = dir.relativize(f).toString().replace(File.separatorChar, '/');
                if (!seen.add(name)) continue; // the first folder on the classpath wins, as in the JVM
                out.putNextEntry(new JarEntry(name));
                try (OutputStream o = new java.io.FilterOutputStream(out) {
                    @Override
                    public void close() {}
                }) {
                    Files.copy(f, o);
                }
                out.closeEntry();
            }
        }
    }
}
