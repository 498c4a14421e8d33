package org.tessera.spark;

import java.io.Serializable;

/**
 * What one Spark task reports when it has trained: rank 0 also carries the trained model.
 *
 * @param rank              the task's rank (its partition)
 * @param processId         the executor JVM's process id
 * @param stageAttempt      0 for the first attempt of the barrier stage, more after Spark retried it
 * @param resumedFromStep   the checkpoint's step the task resumed from, or -1 when it started afresh
 * @param steps             optimizer steps at the end (resumed ones included)
 * @param examplesUsed      examples of this partition trained on (every rank uses the same count)
 * @param examplesDropped   examples of this partition left out so every rank has the same count
 * @param groupExamples     examples the whole group trained on in this task's run (every epoch, resumed part excluded)
 * @param trainSeconds      wall time of the training loop in this task
 * @param lastEpochImagesPerSecond the whole group's training images/s in the last epoch (warmed up), by this task's clock
 * @param allReduceSeconds  time this task spent in the gradient all-reduce
 * @param floatsPerStep     floats all-reduced per step
 * @param finalTrainLoss    mean training loss of the last epoch, over the group
 * @param model             the trained model as safetensors bytes (rank 0 only, else empty)
 * @param error             why no task trained (bad data in some partition), or null
 */
public record WorkerReport(int rank, long processId, int stageAttempt, long resumedFromStep, long steps, int examplesUsed, int examplesDropped,
        long groupExamples, double trainSeconds, double lastEpochImagesPerSecond, double allReduceSeconds, int floatsPerStep, double finalTrainLoss, byte[] model, String error) implements Serializable {
    /** The report of a task that did not train because of {@code error}. */
    static WorkerReport rejected(int rank, String error) {
        return new WorkerReport(rank, ProcessHandle.current().pid(), 0, -1, 0, 0, 0, 0, 0, Double.NaN, 0, 0, Double.NaN, new byte[0], error);
    }
}
