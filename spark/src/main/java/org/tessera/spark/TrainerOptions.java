package org.tessera.spark;

import java.io.Serializable;
import org.tessera.train.Trainer;

/**
 * Settings every Spark task applies to its {@link Trainer.Builder} (optimizer, schedule, loss, clipping,
 * augmentation...), shipped to the executors with the task. A lambda works: {@code b -> b.schedule(...)}; its
 * class must be on the executors' classpath. Distribution settings (communicator, batch size, epochs, seed,
 * checkpoints) are the {@link SparkTrainer}'s and are set after these.
 */
@FunctionalInterface
public interface TrainerOptions extends Serializable {
    /** Options that change nothing. */
    TrainerOptions DEFAULTS = b -> {};

    /** Applies these settings to {@code builder}. */
    void apply(Trainer.Builder builder);
}
