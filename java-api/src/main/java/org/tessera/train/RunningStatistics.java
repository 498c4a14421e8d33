package org.tessera.train;

/**
 * A layer whose training forward measures batch statistics that update shared running state once per step:
 * BatchNorm's running mean and variance, a fake-quantization observer's range. The trainer sums every replica's
 * statistics (in replica order, then over the group's members) and applies the sum on one replica, since the
 * running state is shared.
 */
interface RunningStatistics {
    /** Length of the sums {@link #addBatchStats} adds to. */
    int statsWidth();

    /** Adds this replica's statistics from its last training forward; adds nothing if it had no batch. */
    void addBatchStats(double[] sums);

    /** Moves the running state with the sums over all replicas (and members). */
    void updateRunning(double[] sums);
}
