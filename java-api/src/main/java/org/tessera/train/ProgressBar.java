package org.tessera.train;

import java.io.PrintStream;
import java.util.Locale;

/** A one-line progress bar per epoch (loss, accuracy, images/s), redrawn in place, then the epoch's summary. */
public final class ProgressBar implements TrainingListener {
    private static final int WIDTH = 24;
    private final PrintStream out;
    private final String name;
    private final int epochs;
    private long lastDraw;

    /** Draws to {@code out}, labelled {@code name}, for a run of {@code epochs} epochs. */
    public ProgressBar(PrintStream out, String name, int epochs) {
        this.out = out;
        this.name = name;
        this.epochs = epochs;
    }

    @Override
    public void onBatch(int epoch, int batch, int batches, double loss, double accuracy, double imagesPerSecond) {
        long now = System.nanoTime();
        if (batch + 1 < batches && now - lastDraw < 200_000_000L) return;
        lastDraw = now;
        int filled = (int) ((long) WIDTH * (batch + 1) / batches);
        out.printf(Locale.ROOT, "\r%s epoch %d/%d [%s%s] %d/%d loss %.4f acc %.4f %,.0f img/s", name, epoch + 1, epochs, "#".repeat(filled),
                ".".repeat(WIDTH - filled), batch + 1, batches, loss, accuracy, imagesPerSecond);
        out.flush();
    }

    @Override
    public void onEpoch(EpochStats s) {
        out.printf(Locale.ROOT, "\r%s epoch %d/%d: loss %.4f acc %.4f | val loss %.4f acc %.4f | %,.0f img/s, %.1f s, input stall %.2f s, lr %.2e%n", name,
                s.epoch() + 1, epochs, s.trainLoss(), s.trainAccuracy(), s.valLoss(), s.valAccuracy(), s.imagesPerSecond(), s.seconds(), s.stallSeconds(),
                s.learningRate());
    }
}
