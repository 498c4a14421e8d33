package org.tessera.spark;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.tessera.Tessera;
import org.tessera.data.Dataset;
import org.tessera.data.FashionMnist;
import org.tessera.nn.Sequential;
import org.tessera.train.History;
import org.tessera.train.Optimizer;
import org.tessera.train.Schedule;
import org.tessera.train.Trainer;

/**
 * {@code ./toolchain/run --spark MASTER}: trains the Fashion-MNIST CNN of the main job on Spark, one worker per
 * task slot, and next to it with the single-machine data-parallel trainer on the same global batch; prints
 * images/s, all-reduce time per step and test accuracy of both, and writes {@code spark-summary.json}.
 * Options: {@code --workers N} (default: the slots of {@code local[N]}, else 2), {@code --epochs N} (default 2),
 * {@code --quick} (a 6,000-image subset), {@code --data DIR}, {@code --out DIR}, {@code --seed N}.
 */
public final class FashionSparkJob {
    private static final int GLOBAL_BATCH = 128;

    private FashionSparkJob() {}

    public static void main(String[] args) throws IOException {
        String master = null;
        Path data = FashionMnist.DEBIAN_DIR, out = Path.of("out");
        int epochs = 2, workers = -1;
        long seed = 42;
        boolean quick = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--spark" -> master = value(args, ++i);
                case "--workers" -> workers = Integer.parseInt(value(args, ++i));
                case "--epochs" -> epochs = Integer.parseInt(value(args, ++i));
                case "--data" -> data = Path.of(value(args, ++i));
                case "--out" -> out = Path.of(value(args, ++i));
                case "--seed" -> seed = Long.parseLong(value(args, ++i));
                case "--quick" -> quick = true;
                default -> throw new IllegalArgumentException("unknown argument " + args[i] + "\n" + usage());
            }
        }
        if (master == null) throw new IllegalArgumentException("--spark MASTER is required\n" + usage());
        if (workers < 0) workers = master.matches("local\\[\\d+]") ? Integer.parseInt(master.replaceAll("\\D", "")) : 2;
        if (workers < 1 || epochs < 1 || GLOBAL_BATCH % workers != 0) throw new IllegalArgumentException("need workers >= 1 dividing " + GLOBAL_BATCH + " and epochs >= 1\n" + usage());
        Files.createDirectories(out);

        FashionMnist.Sets sets = FashionMnist.load(data);
        Dataset train = quick ? sets.train().head(6000) : sets.train();
        float[] st = train.pixelStatistics();
        Dataset test = (quick ? sets.test().head(2000) : sets.test()).normalized(st[0], st[1]);
        train = train.head(train.size() / workers * workers); // equal partitions: the Spark run drops nothing
        System.out.printf(Locale.ROOT, "tessera: Fashion-MNIST on Spark %s: %,d training images, %d workers x batch %d, %d epochs%n", master, train.size(), workers,
                GLOBAL_BATCH / workers, epochs);

        // single machine first: the same model, optimizer, global batch and epochs, one replica per thread
        double singleIps, singleAcc;
        try (Sequential m = model(seed); Trainer t = options(Trainer.builder(m)).replicas(Tessera.threads()).batchSize(GLOBAL_BATCH).epochs(epochs).seed(seed).build()) {
            History h = t.fit(train.normalized(st[0], st[1]), null);
            singleIps = h.last().imagesPerSecond(); // both sides: the last epoch, warmed up
            singleAcc = t.evaluate(test)[1];
        }
        System.out.printf(Locale.ROOT, "single machine (%d replicas): %,.0f images/s in the last epoch, test accuracy %.4f%n", Tessera.threads(), singleIps, singleAcc);

        List<Example> examples = new ArrayList<>(train.size());
        int pixels = 28 * 28;
        for (int i = 0; i < train.size(); i++) {
            byte[] px = new byte[pixels];
            for (int j = 0; j < pixels; j++) px[j] = (byte) train.pixel(i, j);
            examples.add(new Example(px, train.label(i)));
        }
        SparkConf conf = new SparkConf().setMaster(master).setAppName("tessera-fashion-mnist").set("spark.ui.enabled", "false")
                .set("spark.scheduler.barrier.maxConcurrentTasksCheck.interval", "1s");
        long t0 = System.nanoTime();
        try (JavaSparkContext sc = new JavaSparkContext(conf); Sequential init = model(seed);
                SparkTrainer.Result r = SparkTrainer.builder(init).batchSizePerWorker(GLOBAL_BATCH / workers).epochs(epochs).seed(seed).normalize(st[0], st[1])
                        .timeout(Duration.ofMinutes(2)).options(FashionSparkJob::optionsOnWorker).build().fit(sc.parallelize(examples, workers))) {
            double wall = (System.nanoTime() - t0) / 1e9, sparkIps = r.lastEpochImagesPerSecond(), ms = r.allReduceMillisPerStep();
            double sparkAcc;
            try (Trainer t = Trainer.builder(r.model()).build()) {
                sparkAcc = t.evaluate(test)[1];
            }
            int floats = r.reports().get(0).floatsPerStep();
            System.out.printf(Locale.ROOT, "spark %s (%d workers): %,.0f images/s in the last epoch (%.2fx the single machine; target >= 0.80x: %s), %.1f s end to end with Spark's start%n",
                    master, workers, sparkIps, sparkIps / singleIps, sparkIps >= 0.8 * singleIps ? "PASS" : "FAIL", wall);
            System.out.printf(Locale.ROOT, "  all-reduce: %.2f ms per step for %,d floats (%.2f MB; waiting for the slower worker included), %.1f%% of the step; test accuracy %.4f (single machine %.4f)%n", ms, floats,
                    floats * 4 / 1e6, 100 * ms * r.steps() / 1e3 / r.reports().get(0).trainSeconds(), sparkAcc, singleAcc);
            String json = String.format(Locale.ROOT, "{\"master\": \"%s\", \"workers\": %d, \"epochs\": %d, \"train_images\": %d, \"single_machine_images_per_second\": %.1f,"
                    + " \"spark_images_per_second\": %.1f, \"ratio\": %.3f, \"allreduce_ms_per_step\": %.3f, \"floats_per_step\": %d, \"spark_wall_seconds\": %.1f,"
                    + " \"single_machine_test_accuracy\": %.4f, \"spark_test_accuracy\": %.4f}%n", master, workers, epochs, train.size(), singleIps, sparkIps, sparkIps / singleIps, ms,
                    floats, wall, singleAcc, sparkAcc);
            Files.writeString(out.resolve("spark-summary.json"), json);
            System.out.println("tessera: wrote " + out.resolve("spark-summary.json"));
        }
    }

    /** The main job's teacher CNN (bench's Models.teacher). */
    static Sequential model(long seed) {
        return Sequential.builder(28, 28, 1).seed(seed).conv2d(32, 3, 1).relu().maxPool2d(2).conv2d(64, 3, 1).relu().maxPool2d(2).flatten()
                .linear(128).relu().dropout(0.3).linear(10).build();
    }

    private static Trainer.Builder options(Trainer.Builder b) {
        return b.optimizer(Optimizer.adam(0)).schedule(Schedule.constant(1e-3));
    }

    private static void optionsOnWorker(Trainer.Builder b) {
        options(b);
    }

    private static String value(String[] args, int i) {
        if (i >= args.length) throw new IllegalArgumentException(args[i - 1] + " needs a value\n" + usage());
        return args[i];
    }

    private static String usage() {
        return "usage: ./toolchain/run --spark MASTER [--workers N] [--epochs N] [--quick] [--data DIR] [--out DIR] [--seed N]";
    }
}
