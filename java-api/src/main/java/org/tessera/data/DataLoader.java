package org.tessera.data;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.tessera.Tensor;
import org.tessera.kernels.DType;
import org.tessera.train.Batch;

/**
 * Batches of a {@link Dataset}: shuffled per epoch from a seed (the order depends only on the seed and the
 * epoch, so a resumed run sees the same batches), normalized, optionally augmented, and prefetched on one
 * background thread into reused buffers so the next batch is ready while the current step runs.
 *
 * <p>A batch returned by the iterator stays valid until the iterator's next {@code next()} call. The time the
 * consumer waited for a batch is summed in {@link #stallNanos()}. Close the loader to free its buffers and
 * stop its thread.
 */
public final class DataLoader implements AutoCloseable {
    private static final int SLOTS = 3; // one in use by the step, one ready, one being filled

    private final Dataset data;
    private final int batchSize;
    private final long seed;
    private final boolean shuffle, prefetch;
    private final Augmentation augment;
    private final Slot[] slots = new Slot[SLOTS];
    private final int[] order;
    private ExecutorService producer;
    private Future<?> running;
    private volatile boolean cancel;
    private long stallNanos;

    /**
     * A loader of {@code batchSize} examples per batch (the last batch of an epoch may be smaller).
     *
     * @param shuffle  shuffle each epoch with {@code seed}
     * @param augment  training transforms, or {@link Augmentation#NONE}
     * @param prefetch fill batches on a background thread
     */
    public DataLoader(Dataset data, int batchSize, boolean shuffle, long seed, Augmentation augment, boolean prefetch) {
        if (batchSize < 1) throw new IllegalArgumentException("data loader: batch size must be >= 1, got " + batchSize);
        if (data.size() == 0) throw new IllegalArgumentException("data loader: the dataset is empty");
        this.data = data;
        this.batchSize = batchSize;
        this.shuffle = shuffle;
        this.seed = seed;
        this.augment = augment == null ? Augmentation.NONE : augment;
        this.prefetch = prefetch;
        this.order = new int[data.size()];
        long[] s = data.exampleShape();
        for (int i = 0; i < SLOTS; i++) {
            slots[i] = new Slot(Tensor.allocate(DType.F32, batchSize, s[0], s[1], s[2]), new int[batchSize],
                    data.targetWidth() == 0 ? null : Tensor.allocate(DType.F32, batchSize, data.targetWidth()));
        }
    }

    /** Batches per epoch. */
    public int batches() {
        return (data.size() + batchSize - 1) / batchSize;
    }

    /** The dataset. */
    public Dataset dataset() {
        return data;
    }

    /** Nanoseconds the consumer has waited for batches, over every epoch so far. */
    public long stallNanos() {
        return stallNanos;
    }

    /** The batches of epoch {@code epoch}; starting an epoch abandons the previous one. */
    public Iterable<Batch> epoch(int epoch) {
        return epoch(epoch, 0);
    }

    /**
     * The batches of epoch {@code epoch} from batch {@code first} on (resuming mid-epoch): the same examples in the
     * same batches as a full pass would give; augmentation draws differ from the full pass's.
     */
    public Iterable<Batch> epoch(int epoch, int first) {
        if (first < 0 || first > batches()) throw new IllegalArgumentException("data loader: first batch " + first + " is outside [0, " + batches() + "]");
        stopRunning();
        for (int i = 0; i < order.length; i++) order[i] = i;
        if (shuffle) Dataset.shuffle(order, new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch));
        SplittableRandom rng = new SplittableRandom(seed ^ (0xA5A5A5A5L * (epoch + 1)));
        int batches = batches();
        if (!prefetch) return () -> new Iterator<>() {
            int next = first;

            @Override
            public boolean hasNext() {
                return next < batches;
            }

            @Override
            public Batch next() {
                if (!hasNext()) throw new NoSuchElementException();
                long t0 = System.nanoTime();
                Batch b = fill(slots[0], next++, rng);
                stallNanos += System.nanoTime() - t0;
                return b;
            }
        };
        BlockingQueue<Slot> free = new ArrayBlockingQueue<>(SLOTS), full = new ArrayBlockingQueue<>(SLOTS);
        for (Slot s : slots) free.add(s);
        cancel = false;
        if (producer == null) {
            producer = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "tessera-data-loader");
                t.setDaemon(true);
                return t;
            });
        }
        running = producer.submit(() -> {
            for (int b = first; b < batches && !cancel; b++) {
                Slot s;
                while ((s = free.poll(20, TimeUnit.MILLISECONDS)) == null) {
                    if (cancel) return null; // the consumer abandoned the epoch
                }
                s.batch = null;
                s.failure = null;
                try {
                    s.batch = fill(s, b, rng);
                } catch (RuntimeException e) {
                    s.failure = e;
                }
                full.put(s);
            }
            return null;
        });
        return () -> new Iterator<>() {
            int next = first;
            Slot inUse;

            @Override
            public boolean hasNext() {
                return next < batches;
            }

            @Override
            public Batch next() {
                if (!hasNext()) throw new NoSuchElementException();
                if (inUse != null) free.add(inUse);
                long t0 = System.nanoTime();
                try {
                    inUse = full.take();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for a batch", e);
                }
                stallNanos += System.nanoTime() - t0;
                next++;
                if (inUse.failure != null) throw new IllegalStateException("data loader: filling batch " + (next - 1) + " failed", inUse.failure);
                return inUse.batch;
            }
        };
    }

    private Batch fill(Slot s, int b, SplittableRandom rng) {
        int from = b * batchSize, n = Math.min(batchSize, data.size() - from);
        Tensor x = s.x.slice(0, 0, n);
        Tensor t = s.targets == null ? null : s.targets.slice(0, 0, n);
        data.fill(order, from, n, x.segment(), s.labels, t == null ? null : t.segment(), augment, rng);
        return new Batch(x, s.labels, 0, t);
    }

    private void stopRunning() {
        Future<?> r = running;
        if (r == null) return;
        cancel = true;
        running = null;
        try {
            r.get(); // wait: the producer must not write a buffer the next epoch fills
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("data loader: the prefetch thread failed", e.getCause());
        }
    }

    @Override
    public void close() {
        stopRunning();
        if (producer != null) producer.shutdownNow();
        for (Slot s : slots) {
            s.x.close();
            if (s.targets != null) s.targets.close();
        }
    }

    /** One reusable batch buffer. */
    private static final class Slot {
        final Tensor x, targets;
        final int[] labels;
        volatile Batch batch;
        volatile RuntimeException failure;

        Slot(Tensor x, int[] labels, Tensor targets) {
            this.x = x;
            this.labels = labels;
            this.targets = targets;
        }
    }
}
