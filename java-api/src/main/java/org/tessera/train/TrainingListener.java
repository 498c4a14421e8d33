package org.tessera.train;

/** Progress callbacks from {@link Trainer#fit}, on the training thread. */
public interface TrainingListener {
    /** After each step: running means over the epoch so far. */
    default void onBatch(int epoch, int batch, int batches, double loss, double accuracy, double imagesPerSecond) {}

    /** After each epoch (and its validation). */
    default void onEpoch(EpochStats stats) {}

    /** Does nothing. */
    static TrainingListener none() {
        return new TrainingListener() {};
    }
}
