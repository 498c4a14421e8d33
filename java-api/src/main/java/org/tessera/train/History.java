package org.tessera.train;

import java.util.List;

/**
 * What {@link Trainer#fit} did.
 *
 * @param epochs       every epoch run (after a resume, only the epochs run now)
 * @param bestEpoch    the epoch with the lowest validation loss (-1 without validation)
 * @param stoppedEarly whether early stopping ended training before the last epoch
 */
public record History(List<EpochStats> epochs, int bestEpoch, boolean stoppedEarly) {
    /** The last epoch's statistics. */
    public EpochStats last() {
        if (epochs.isEmpty()) throw new IllegalStateException("no epoch was run");
        return epochs.get(epochs.size() - 1);
    }
}
