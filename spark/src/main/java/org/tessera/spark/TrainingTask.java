package org.tessera.spark;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.BarrierTaskContext;
import org.tessera.data.Dataset;
import org.tessera.dist.Communicator;
import org.tessera.dist.TcpRing;
import org.tessera.kernels.WorkerPool;
import org.tessera.nn.ModelFile;
import org.tessera.nn.Sequential;
import org.tessera.train.History;
import org.tessera.train.Trainer;
import scala.jdk.javaapi.CollectionConverters;
import scala.runtime.AbstractFunction1;

/**
 * The body of every task of the barrier stage: read the partition, meet the other tasks once (addresses and
 * example counts through {@code allGather}), join the ring, resume from the checkpoint if there is one, train,
 * report. Every failure closes the ring first, so the other tasks fail at once instead of waiting out a timeout.
 */
final class TrainingTask extends AbstractFunction1<scala.collection.Iterator<Example>, scala.collection.Iterator<WorkerReport>> implements Serializable {
    static final String CHECKPOINT_FILE = "tessera-spark-checkpoint.safetensors";
    private static final String BAD_DATA = "bad-data ";

    private final byte[] initialModel;
    private final byte[] token;
    private final Settings settings;

    /** The driver's choices, shipped to every task. */
    record Settings(int batchSize, int epochs, long seed, float mean, float std, String checkpointDir, int checkpointEvery, Duration timeout,
            TrainerOptions options) implements Serializable {}

    TrainingTask(byte[] initialModel, byte[] token, Settings settings) {
        this.initialModel = initialModel;
        this.token = token;
        this.settings = settings;
    }

    @Override
    public scala.collection.Iterator<WorkerReport> apply(scala.collection.Iterator<Example> partition) {
        BarrierTaskContext ctx = BarrierTaskContext.get();
        int rank = ctx.partitionId(), size = ctx.getTaskInfos().length, attempt = ctx.stageAttemptNumber();
        Path modelFile = null;
        try {
            modelFile = Files.createTempFile("tessera-spark-model", ".safetensors");
            Files.write(modelFile, initialModel);
            try (Sequential model = ModelFile.load(modelFile)) {
                Dataset data;
                String problem = null;
                try {
                    data = read(CollectionConverters.asJava(partition), model, rank);
                    if (data.size() == 0) problem = "tessera-spark: partition " + rank + " has no examples; repartition the data into as many non-empty partitions as workers";
                } catch (IllegalArgumentException e) {
                    data = null;
                    problem = e.getMessage();
                }
                String host = hostOf(ctx.getTaskInfos()[rank].address());
                try (TcpRing ring = TcpRing.listen(new InetSocketAddress(InetAddress.getByName(host), 0))) {
                    // the only barrier call: Spark's barrier RPCs poll about once a second, so never one per step.
                    // Bad data travels in it too: every task then returns the error instead of failing, as a failed
                    // task would only make Spark re-run the stage on the same data.
                    String[] peers = ctx.allGather(problem != null ? BAD_DATA + problem.replace('\n', ' ')
                            : ring.address().getHostString() + " " + ring.address().getPort() + " " + data.size());
                    List<String> problems = new ArrayList<>();
                    for (String p : peers) if (p.startsWith(BAD_DATA)) problems.add(p.substring(BAD_DATA.length()));
                    if (!problems.isEmpty()) return CollectionConverters.asScala(List.of(WorkerReport.rejected(rank, String.join("; ", problems))).iterator());
                    List<InetSocketAddress> addresses = new ArrayList<>();
                    int common = Integer.MAX_VALUE;
                    for (String p : peers) {
                        String[] f = p.split(" ");
                        addresses.add(new InetSocketAddress(f[0], Integer.parseInt(f[1])));
                        common = Math.min(common, Integer.parseInt(f[2]));
                    }
                    final Dataset examples = data;
                    try (Communicator comm = ring.join(rank, addresses, attemptToken(attempt), settings.timeout())) {
                        final int count = common;
                        // a task owns spark.task.cpus cores; with one, the kernels stay on the task's thread (the
                        // library's pool would add its workers to cores the other tasks of this executor fill)
                        WorkerReport report = ctx.cpus() <= 1 ? WorkerPool.inline(() -> train(model, examples, count, comm, attempt)) : train(model, examples, count, comm, attempt);
                        return CollectionConverters.asScala(List.of(report).iterator());
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("tessera-spark: task " + rank + " of " + size + ": " + e.getMessage(), e);
        } finally {
            if (modelFile != null) modelFile.toFile().delete();
        }
    }

    private WorkerReport train(Sequential model, Dataset data, int common, Communicator comm, int attempt) throws IOException {
        CheckpointStore store = settings.checkpointDir() == null ? null : new CheckpointStore(settings.checkpointDir());
        Path checkpoint = store == null ? null : store.localFile();
        Trainer.Builder b = Trainer.builder(model);
        settings.options().apply(b);
        b.communicator(comm).replicas(Math.max(1, BarrierTaskContext.get().cpus())).batchSize(settings.batchSize()).epochs(settings.epochs()).seed(settings.seed());
        if (checkpoint != null) b.checkpoint(checkpoint).checkpointEvery(settings.checkpointEvery()).onCheckpoint(store::publish);
        try (Trainer trainer = b.build()) {
            long resumed = -1;
            if (checkpoint != null && store.fetch(checkpoint)) {
                trainer.resume(checkpoint);
                resumed = trainer.steps();
            }
            long t0 = System.nanoTime();
            History h = trainer.fit(data.head(common), null);
            double seconds = (System.nanoTime() - t0) / 1e9;
            byte[] bytes = new byte[0];
            if (comm.rank() == 0) {
                Path out = Files.createTempFile("tessera-spark-trained", ".safetensors");
                try {
                    ModelFile.save(model, out);
                    bytes = Files.readAllBytes(out);
                } finally {
                    out.toFile().delete();
                }
            }
            double loss = h.epochs().isEmpty() ? Double.NaN : h.last().trainLoss();
            long seen = Math.round(h.epochs().stream().mapToDouble(e -> e.imagesPerSecond() * e.seconds()).sum());
            return new WorkerReport(comm.rank(), ProcessHandle.current().pid(), attempt, resumed, trainer.steps(), common, data.size() - common, seen, seconds,
                    h.epochs().isEmpty() ? Double.NaN : h.last().imagesPerSecond(), trainer.communicationSeconds(), trainer.floatsPerStep(), loss, bytes, null);
        } finally {
            if (store != null) store.cleanUp(checkpoint);
        }
    }

    /** A fresh ring per stage attempt: a straggler of a failed attempt cannot join the retry's ring. */
    private byte[] attemptToken(int attempt) {
        byte[] t = Arrays.copyOf(token, token.length + 4);
        for (int i = 0; i < 4; i++) t[token.length + i] = (byte) (attempt >>> (8 * i));
        return t;
    }

    /** The partition as a Tessera dataset, every example checked against the model's input. */
    private Dataset read(Iterator<Example> it, Sequential model, int rank) {
        long[] shape = model.inputShape();
        if (shape.length != 3) throw new IllegalArgumentException("tessera-spark trains image models, (h, w, c) input; this model takes " + Arrays.toString(shape));
        int h = (int) shape[0], w = (int) shape[1], c = (int) shape[2], bytes = h * w * c, classes = (int) model.outputShape()[0];
        java.io.ByteArrayOutputStream pixels = new java.io.ByteArrayOutputStream();
        int[] labels = new int[64];
        int n = 0;
        while (it.hasNext()) {
            Example e = it.next();
            if (e.pixels().length != bytes) {
                throw new IllegalArgumentException("tessera-spark: example " + n + " of partition " + rank + " has " + e.pixels().length + " pixel bytes; the model takes "
                        + h + "x" + w + "x" + c + " = " + bytes);
            }
            if (e.label() >= classes) throw new IllegalArgumentException("tessera-spark: example " + n + " of partition " + rank + " has label " + e.label() + "; the model has " + classes + " classes");
            pixels.writeBytes(e.pixels());
            if (n == labels.length) labels = Arrays.copyOf(labels, 2 * n);
            labels[n++] = e.label();
        }
        return Dataset.ofImages(pixels.toByteArray(), n, h, w, c, Arrays.copyOf(labels, n), classes).normalized(settings.mean(), settings.std());
    }

    /** "host:port" or "host" (IPv6 in brackets) to the host. */
    static String hostOf(String address) {
        String a = address.trim();
        if (a.startsWith("[")) return a.substring(1, a.indexOf(']'));
        int colon = a.lastIndexOf(':');
        return colon > 0 && a.indexOf(':') == colon ? a.substring(0, colon) : a;
    }
}
