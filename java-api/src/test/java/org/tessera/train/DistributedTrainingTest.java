package org.tessera.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;


import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;



import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tessera.Tensor;
import org.tessera.data.Dataset;
import org.tessera.dist.Communicator;
import org.tessera.dist.LoopbackRing;
import org.tessera.nn.Sequential;

/**
 * The trainer as one member of a group (members on threads of this JVM, joined by a loopback TCP ring) against
 * one trainer with as many replicas; and resuming from a checkpoint taken mid-epoch.
 */
class DistributedTrainingTest {
    private static final long SEED = System.nanoTime();
    private static final byte[] TOKEN = "distributed-training-test-token".getBytes();

    /** Batch norm (its running statistics must be summed over members) and dropout (each member its replica's stream). */
    private static Sequential model() {
        return Sequential.builder(8, 8, 1).seed(11).conv2d(4, 3, 1).batchNorm().relu().maxPool2d(2).flatten().linear(8).relu().dropout(0.25).linear(4).build();
    }

    /** No dropout: a resumed run can then match an uninterrupted one bit for bit (a checkpoint holds no dropout stream). */
    private static Sequential deterministicModel() {
        return Sequential.builder(8, 8, 1).seed(11).conv2d(4, 3, 1).batchNorm().relu().maxPool2d(2).flatten().linear(8).relu().linear(4).build();
    }

    /** SGD: Adam would blow the float noise in the near-zero gradient of the bias before batch norm up to whole steps. */
    private static Trainer.Builder options(Sequential m, int batch, int epochs) {
        return Trainer.builder(m).batchSize(batch).epochs(epochs).seed(SEED).shuffle(false).prefetch(false).optimizer(Optimizer.sgd(0.9, true, 1e-4)).schedule(Schedule.constant(0.05));
    }

    private static List<float[]> weights(Sequential m) {
        List<float[]> w = new ArrayList<>();
        for (Tensor t : m.parameters().values()) w.add(t.toFloatArray());
        return w;
    }

    /**
     * Member {@code rank}'s examples: its shard of every global batch of {@code members * batch} (the last, smaller
     * batch split the same way), as one trainer with {@code members} replicas would hand them out.
     */
    private static int[] shardOf(int rank, int members, int batch, int total) {
        List<Integer> mine = new ArrayList<>();
        for (int from = 0; from < total; from += members * batch) {
            int n = Math.min(members * batch, total - from);
            for (int i = n * rank / members; i < n * (rank + 1) / members; i++) mine.add(from + i);
        }
        return mine.stream().mapToInt(Integer::intValue).toArray();
    }

    static <T> List<T> onRing(int n, BiFunction<Integer, Communicator, T> body) throws Exception {
        return LoopbackRing.run(n, TOKEN, null, Duration.ofSeconds(20), body);
    }

    @Test
    void membersTrainLikeOneTrainerWithAsManyReplicas() throws Exception {
        for (int members : new int[] {2, 3}) {
            int batch = 7, total = members * (batch * 5 + 3); // 5 full global batches and a smaller one
            Dataset data = DataParallelTest.quadrants(total, SEED);
            List<float[]> single;
            try (Sequential m = model(); Trainer t = options(m, members * batch, 2).replicas(members).build()) {
                t.fit(data, null);
                single = weights(m);
            }
            List<List<float[]>> group = onRing(members, (rank, comm) -> {
                try (Sequential m = model(); Trainer t = options(m, batch, 2).replicas(1).communicator(comm).build()) {
                    History h = t.fit(data.subset(shardOf(rank, members, batch, total)), null);
                    assertEquals(12, t.steps());
                    assertTrue(t.communicationSeconds() > 0);
                    assertEquals(total, Math.round(h.last().imagesPerSecond() * h.last().seconds()), "images/s counts the whole group's examples");
                    return weights(m);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            for (int r = 1; r < members; r++) {
                for (int p = 0; p < single.size(); p++) assertArrayEquals(group.get(0).get(p), group.get(r).get(p), "members end with the same bits; seed " + SEED);
            }
            for (int p = 0; p < single.size(); p++) {
                for (int i = 0; i < single.get(p).length; i++) {
                    float a = single.get(p)[i];
                    assertEquals(a, group.get(0).get(p)[i], 1e-4 + 1e-4 * Math.abs(a), "seed " + SEED + ", " + members + " members, parameter " + p + " element " + i);
                }
            }
        }
    }

    @Test
    void membersWithDifferentExampleCountsAllFailClearly() throws Exception {
        Dataset data = DataParallelTest.quadrants(40, SEED);
        List<String> errors = onRing(2, (rank, comm) -> {
            try (Sequential m = model(); Trainer t = options(m, 8, 1).communicator(comm).build()) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.fit(data.head(rank == 0 ? 24 : 16), null));
                return e.getMessage();
            }
        });
        for (String e : errors) assertTrue(e.contains("same number of examples") && e.contains("[24.0, 16.0]"), e);
        ExecutionException e = assertThrows(ExecutionException.class, () -> onRing(1, (rank, comm) -> options(model(), 8, 1).communicator(comm).earlyStopping(2).build()));
        assertInstanceOf(IllegalArgumentException.class, e.getCause());
    }

    @Test
    void aMemberThatFailsMidTrainingFailsTheOthersWithoutAHang() throws Exception {
        Dataset data = DataParallelTest.quadrants(64, SEED);
        ExecutionException e = assertThrows(ExecutionException.class, () -> onRing(2, (rank, comm) -> {
            try (Sequential m = model(); Trainer t = options(m, 8, 1).communicator(comm).afterStep(() -> {
                if (rank == 1) comm.close(); // rank 1 dies after its first step
            }).build()) {
                return t.fit(data.head(32), null);
            } catch (IOException io) {
                throw new UncheckedIOException(io);
            }
        }));
        assertTrue(e.getCause() instanceof RuntimeException, String.valueOf(e.getCause()));
    }

    @Test
    void resumeFromAMidEpochCheckpointMatchesAnUninterruptedRun(@TempDir Path dir) throws IOException {
        Dataset data = DataParallelTest.quadrants(70, SEED); // 9 batches of 8 per epoch
        List<float[]> straight;
        try (Sequential m = deterministicModel(); Trainer t = options(m, 8, 2).shuffle(true).build()) {
            t.fit(data, null);
            straight = weights(m);
        }
        Path ckpt = dir.resolve("ckpt.safetensors");
        List<Path> written = new ArrayList<>();
        try (Sequential m = deterministicModel(); Trainer t = options(m, 8, 2).shuffle(true).checkpoint(ckpt).checkpointEvery(4).onCheckpoint(written::add).afterStep(new Runnable() {
            int steps;

            @Override
            public void run() {
                if (++steps == 14) throw new IllegalStateException("killed at step 14"); // after the checkpoint at step 12 (epoch 1, batch 3)
            }
        }).build()) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.fit(data, null));
            assertEquals("killed at step 14", e.getMessage());
        }
        assertEquals(List.of(ckpt, ckpt, ckpt, ckpt), written, "steps 4 and 8, the end of epoch 0 (step 9), step 12");
        assertTrue(Files.size(ckpt) > 0);
        try (Sequential m = deterministicModel(); Trainer t = options(m, 8, 2).shuffle(true).build()) {
            t.resume(ckpt);
            assertEquals(12, t.steps());
            History h = t.fit(data, null);
            assertEquals(18, t.steps());
            assertEquals(1, h.epochs().size(), "the rest of epoch 1");
            List<float[]> resumed = weights(m);
            for (int p = 0; p < straight.size(); p++) assertArrayEquals(straight.get(p), resumed.get(p), "seed " + SEED + ", parameter " + p);
        }
        assertInstanceOf(IllegalArgumentException.class, assertThrows(IllegalArgumentException.class, () -> Trainer.builder(model()).checkpointEvery(3).build()));
    }
}
