package org.tessera.data;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.tessera.Tensor;
import org.tessera.kernels.DType;

/**
 * Labelled images held compactly as unsigned bytes (NHWC), normalized to floats only when a batch is filled:
 * {@code (pixel / 255 - mean) / std}. Optional float targets per example (e.g. a teacher's logits for
 * distillation). Immutable; subsets share the pixel array.
 */
public final class Dataset {
    private final byte[] pixels;
    private final int[] index; // example i is pixels[index[i] * stride ...]
    private final int h, w, c, classes;
    private final int[] labels; // by index[i]
    private final float mean, std;
    private final float[] targets; // (size, targetWidth) by position i, or null
    private final int targetWidth;

    private Dataset(byte[] pixels, int[] index, int h, int w, int c, int[] labels, int classes, float mean, float std, float[] targets, int targetWidth) {
        this.pixels = pixels;
        this.index = index;
        this.h = h;
        this.w = w;
        this.c = c;
        this.labels = labels;
        this.classes = classes;
        this.mean = mean;
        this.std = std;
        this.targets = targets;
        this.targetWidth = targetWidth;
    }

    /**
     * Images (n, h, w, c) of unsigned bytes with labels in [0, classes); normalization starts at mean 0, std 1
     * (pixels scaled to [0, 1]).
     *
     * @throws IllegalArgumentException if the sizes disagree or a label is out of range
     */
    public static Dataset ofImages(byte[] pixels, int n, int h, int w, int c, int[] labels, int classes) {
        if (n < 0 || h < 1 || w < 1 || c < 1) throw new IllegalArgumentException("dataset: bad shape (" + n + ", " + h + ", " + w + ", " + c + ")");
        if ((long) n * h * w * c != pixels.length) {
            throw new IllegalArgumentException("dataset: " + pixels.length + " pixel bytes for " + n + " images of " + h + "x" + w + "x" + c);
        }
        if (labels.length != n) throw new IllegalArgumentException("dataset: " + labels.length + " labels for " + n + " images");
        if (classes < 1) throw new IllegalArgumentException("dataset: classes must be >= 1, got " + classes);
        for (int i = 0; i < n; i++) {
            if (labels[i] < 0 || labels[i] >= classes) throw new IllegalArgumentException("dataset: label " + labels[i] + " of example " + i + " is outside [0, " + classes + ")");
        }
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) idx[i] = i;
        return new Dataset(pixels, idx, h, w, c, labels, classes, 0f, 1f, null, 0);
    }

    /** This data normalized as {@code (pixel / 255 - mean) / std}. */
    public Dataset normalized(float mean, float std) {
        if (!Float.isFinite(mean) || !(std > 0) || !Float.isFinite(std)) throw new IllegalArgumentException("dataset: need finite mean and std > 0, got " + mean + ", " + std);
        return new Dataset(pixels, index, h, w, c, labels, classes, mean, std, targets, targetWidth);
    }

    /** The mean and standard deviation of pixel / 255 over this data (for {@link #normalized}). */
    public float[] pixelStatistics() {
        int stride = h * w * c;
        double s = 0, s2 = 0;
        for (int i : index) {
            for (int j = 0, base = i * stride; j < stride; j++) {
                double v = (pixels[base + j] & 0xff) / 255.0;
                s += v;
                s2 += v * v;
            }
        }
        double n = Math.max(1.0, (double) index.length * stride), m = s / n;
        return new float[] {(float) m, (float) Math.sqrt(Math.max(1e-12, s2 / n - m * m))};
    }

    /** This data with float targets (size, width) attached, row i for example i. */
    public Dataset withTargets(float[] targets, int width) {
        if (width < 1 || targets.length != (long) index.length * width) {
            throw new IllegalArgumentException("dataset: " + targets.length + " targets for " + index.length + " examples of width " + width);
        }
        return new Dataset(pixels, index, h, w, c, labels, classes, mean, std, targets.clone(), width);
    }

    /** The examples at {@code positions} (of this dataset), in that order. */
    public Dataset subset(int[] positions) {
        int[] idx = new int[positions.length];
        float[] t = targets == null ? null : new float[positions.length * targetWidth];
        for (int i = 0; i < positions.length; i++) {
            int p = positions[i];
            if (p < 0 || p >= index.length) throw new IndexOutOfBoundsException("dataset: position " + p + " outside [0, " + index.length + ")");
            idx[i] = index[p];
            if (t != null) System.arraycopy(targets, p * targetWidth, t, i * targetWidth, targetWidth);
        }
        return new Dataset(pixels, idx, h, w, c, labels, classes, mean, std, t, targetWidth);
    }

    /** The first {@code count} examples (all if fewer). */
    public Dataset head(int count) {
        int n = Math.min(Math.max(0, count), index.length);
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        return subset(p);
    }

    /** A seeded random split: {@code validationFraction} of the examples for validation, the rest for training. */
    public Split split(double validationFraction, long seed) {
        if (!(validationFraction >= 0 && validationFraction < 1)) throw new IllegalArgumentException("dataset: validation fraction must be in [0, 1), got " + validationFraction);
        int[] order = new int[index.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        shuffle(order, new SplittableRandom(seed));
        int nv = (int) Math.round(order.length * validationFraction);
        return new Split(subset(Arrays.copyOfRange(order, nv, order.length)), subset(Arrays.copyOfRange(order, 0, nv)));
    }

    /** A training part and a validation part. */
    public record Split(Dataset train, Dataset validation) {}

    /** Examples. */
    public int size() {
        return index.length;
    }

    /** Label classes. */
    public int classes() {
        return classes;
    }

    /** Shape of one example: (h, w, c). */
    public long[] exampleShape() {
        return new long[] {h, w, c};
    }

    /** Width of the targets, 0 without. */
    public int targetWidth() {
        return targetWidth;
    }

    /** The label of example i. */
    public int label(int i) {
        return labels[index[i]];
    }

    /** All labels, in order (a copy). */
    public int[] labels() {
        int[] l = new int[index.length];
        for (int i = 0; i < l.length; i++) l[i] = labels[index[i]];
        return l;
    }

    /** The targets of examples [from, to), row-major (a copy). */
    public float[] targets(int from, int to) {
        if (targets == null) throw new IllegalStateException("dataset: no targets attached (see withTargets)");
        if (from < 0 || to < from || to > index.length) throw new IndexOutOfBoundsException("dataset: range [" + from + ", " + to + ") of " + index.length);
        return java.util.Arrays.copyOfRange(targets, from * targetWidth, to * targetWidth);
    }

    /** Raw pixel byte j (0..h*w*c) of example i. */
    public int pixel(int i, int j) {
        return pixels[index[i] * h * w * c + j] & 0xff;
    }

    /** Examples [from, to) normalized into a new (to - from, h, w, c) tensor, owned by the caller. */
    public Tensor images(int from, int to) {
        if (from < 0 || to < from || to > index.length) throw new IndexOutOfBoundsException("dataset: range [" + from + ", " + to + ") of " + index.length);
        Tensor x = Tensor.allocate(DType.F32, to - from, h, w, c);
        int[] pos = new int[to - from];
        for (int i = 0; i < pos.length; i++) pos[i] = from + i;
        fill(pos, 0, pos.length, x.segment(), null, null, null, null);
        return x;
    }

    /**
     * Writes examples {@code order[from .. from + n)} into x (n * h * w * c floats), their labels into
     * {@code labelsOut} and targets into {@code targetsOut} (either may be null), applying {@code augment}
     * (may be null) with {@code rng}.
     */
    void fill(int[] order, int from, int n, MemorySegment x, int[] labelsOut, MemorySegment targetsOut, Augmentation augment, SplittableRandom rng) {
        int stride = h * w * c;
        float scale = 1f / (255f * std), shift = -mean / std;
        for (int e = 0; e < n; e++) {
            int pos = order[from + e], src = index[pos] * stride;
            long dst = (long) e * stride;
            if (labelsOut != null) labelsOut[e] = labels[index[pos]];
            if (targetsOut != null) {
                MemorySegment.copy(targets, pos * targetWidth, targetsOut, ValueLayout.JAVA_FLOAT, (long) e * targetWidth * 4, targetWidth);
            }
            if (augment == null || augment.isNone()) {
                for (int j = 0; j < stride; j++) x.setAtIndex(ValueLayout.JAVA_FLOAT, dst + j, (pixels[src + j] & 0xff) * scale + shift);
                continue;
            }
            int dy = augment.cropPadding() == 0 ? 0 : rng.nextInt(-augment.cropPadding(), augment.cropPadding() + 1);
            int dx = augment.cropPadding() == 0 ? 0 : rng.nextInt(-augment.cropPadding(), augment.cropPadding() + 1);
            boolean flip = augment.flip() && rng.nextBoolean();
            for (int y = 0; y < h; y++) {
                for (int xx = 0; xx < w; xx++) {
                    int sy = y + dy, sx0 = flip ? w - 1 - xx : xx, sx = sx0 + dx;
                    boolean inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
                    for (int ch = 0; ch < c; ch++) {
                        float v = inside ? (pixels[src + (sy * w + sx) * c + ch] & 0xff) * scale + shift : shift;
                        x.setAtIndex(ValueLayout.JAVA_FLOAT, dst + ((long) y * w + xx) * c + ch, v);
                    }
                }
            }
        }
    }

    static void shuffle(int[] a, SplittableRandom rng) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1), t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }
}
