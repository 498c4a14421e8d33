package org.tessera.train;

/**
 * One epoch of training.
 *
 * @param epoch           0-based
 * @param trainLoss       mean loss over the epoch's examples (as trained: dropout on, weights moving)
 * @param trainAccuracy   fraction of training examples whose arg-max output matched the label (NaN without labels)
 * @param valLoss         mean loss on the validation set after the epoch (NaN without one)
 * @param valAccuracy     validation accuracy after the epoch (NaN without one)
 * @param imagesPerSecond training examples per second (forward, backward, all-reduce, update; not validation)
 * @param seconds         wall time of the epoch's training steps
 * @param stallSeconds    time the steps waited for the input pipeline (0 when prefetching keeps up)
 * @param learningRate    the rate at the epoch's last step
 */
public record EpochStats(int epoch, double trainLoss, double trainAccuracy, double valLoss, double valAccuracy, double imagesPerSecond,
        double seconds, double stallSeconds, double learningRate) {}
