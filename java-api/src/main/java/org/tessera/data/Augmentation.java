package org.tessera.data;

/**
 * Random training-time transforms: a shift of up to {@code cropPadding} pixels each way (a random crop of the
 * zero-padded image) and a horizontal flip with probability 1/2.
 */
public record Augmentation(int cropPadding, boolean flip) {
    /** No augmentation. */
    public static final Augmentation NONE = new Augmentation(0, false);

    public Augmentation {
        if (cropPadding < 0) throw new IllegalArgumentException("augmentation: crop padding must be >= 0, got " + cropPadding);
    }

    boolean isNone() {
        return cropPadding == 0 && !flip;
    }
}
