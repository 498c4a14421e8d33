package org.tessera.eval;

import java.util.Arrays;
import java.util.function.IntPredicate;

/**
 * Metrics of a classifier on a labelled set, from its class probabilities: accuracy, top-k accuracy, confusion
 * matrix, per-class precision / recall / F1 / support, one-vs-rest ROC AUC and PR AUC (average precision), and
 * prediction bias (mean predicted probability minus label frequency, per class). Any slice of the data (a
 * predicate on the example index, e.g. its label or a property of the input) gets the same report via
 * {@link #slice}.
 *
 * <p>Conventions: the predicted class is the arg-max (the lowest index among ties). A metric that is undefined
 * on this data is NaN: precision of a class never predicted, recall and AUCs of a class absent from the labels
 * (AUCs also when every example is of that class). Macro averages skip NaN. ROC AUC counts tied scores as half
 * (Mann-Whitney with average ranks); PR AUC is average precision over distinct score thresholds (as scikit-learn).
 */
public final class ClassificationReport {
    private final float[] probs;
    private final int[] labels;
    private final int classes;
    private final int[] predicted;
    private final long[][] confusion;

    private ClassificationReport(float[] probs, int[] labels, int classes) {
        this.probs = probs;
        this.labels = labels;
        this.classes = classes;
        int n = labels.length;
        this.predicted = new int[n];
        this.confusion = new long[classes][classes];
        for (int i = 0; i < n; i++) {
            int best = 0;
            for (int c = 1; c < classes; c++) if (probs[i * classes + c] > probs[i * classes + best]) best = c;
            predicted[i] = best;
            confusion[labels[i]][best]++;
        }
    }

    /**
     * The report for {@code probs} (n x classes, row-major; each row a probability distribution) and labels (n).
     *
     * @throws IllegalArgumentException for mismatched lengths, a label outside [0, classes), or a row that is not a
     *                                  distribution (non-finite, negative, or not summing to 1 within 1e-3: pass
     *                                  logits through {@link #softmax} first)
     */
    public static ClassificationReport of(float[] probs, int[] labels, int classes) {
        if (classes < 2) throw new IllegalArgumentException("classes must be >= 2, got " + classes);
        if (probs.length != (long) labels.length * classes) {
            throw new IllegalArgumentException("probs has " + probs.length + " values; " + labels.length + " labels x " + classes + " classes need "
                    + (long) labels.length * classes);
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= classes) throw new IllegalArgumentException("label " + labels[i] + " at " + i + " is outside [0, " + classes + ")");
            double sum = 0;
            for (int c = 0; c < classes; c++) {
                float p = probs[i * classes + c];
                if (!(p >= 0) || !Float.isFinite(p)) throw new IllegalArgumentException("probability " + p + " at example " + i + ", class " + c + " is not in [0, 1]");
                sum += p;
            }
            if (Math.abs(sum - 1) > 1e-3) {
                throw new IllegalArgumentException("example " + i + "'s probabilities sum to " + sum + ", not 1: pass logits through ClassificationReport.softmax first");
            }
        }
        return new ClassificationReport(probs.clone(), labels.clone(), classes);
    }

    /** Row-wise softmax of logits (n x classes), computed stably. */
    public static float[] softmax(float[] logits, int classes) {
        float[] p = new float[logits.length];
        for (int r = 0; r < logits.length / classes; r++) {
            float max = Float.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) max = Math.max(max, logits[r * classes + c]);
            double sum = 0;
            for (int c = 0; c < classes; c++) sum += Math.exp(logits[r * classes + c] - max);
            for (int c = 0; c < classes; c++) p[r * classes + c] = (float) (Math.exp(logits[r * classes + c] - max) / sum);
        }
        return p;
    }

    /** The report restricted to the examples {@code keep} accepts (by index). */
    public ClassificationReport slice(IntPredicate keep) {
        int n = 0;
        for (int i = 0; i < labels.length; i++) if (keep.test(i)) n++;
        float[] p = new float[n * classes];
        int[] l = new int[n];
        for (int i = 0, j = 0; i < labels.length; i++) {
            if (!keep.test(i)) continue;
            System.arraycopy(probs, i * classes, p, j * classes, classes);
            l[j++] = labels[i];
        }
        return new ClassificationReport(p, l, classes);
    }

    /** Examples in the report. */
    public int count() {
        return labels.length;
    }

    public int classes() {
        return classes;
    }

    /** The arg-max class of each example. */
    public int[] predictions() {
        return predicted.clone();
    }

    /** The fraction of examples whose arg-max is the label (NaN for an empty report). */
    public double accuracy() {
        long hit = 0;
        for (int c = 0; c < classes; c++) hit += confusion[c][c];
        return labels.length == 0 ? Double.NaN : (double) hit / labels.length;
    }

    /** The fraction of examples whose label's probability is beaten by fewer than k others. */
    public double topK(int k) {
        if (k < 1) throw new IllegalArgumentException("k must be >= 1, got " + k);
        long hit = 0;
        for (int i = 0; i < labels.length; i++) {
            float own = probs[i * classes + labels[i]];
            int above = 0;
            for (int c = 0; c < classes; c++) if (probs[i * classes + c] > own) above++;
            if (above < k) hit++;
        }
        return labels.length == 0 ? Double.NaN : (double) hit / labels.length;
    }

    /** confusion[label][predicted] counts (a copy). */
    public long[][] confusion() {
        long[][] c = new long[classes][];
        for (int i = 0; i < classes; i++) c[i] = confusion[i].clone();
        return c;
    }

    /** Examples labelled c. */
    public long support(int c) {
        return Arrays.stream(confusion[c]).sum();
    }

    public double precision(int c) {
        long predictedC = 0;
        for (int l = 0; l < classes; l++) predictedC += confusion[l][c];
        return predictedC == 0 ? Double.NaN : (double) confusion[c][c] / predictedC;
    }

    public double recall(int c) {
        long s = support(c);
        return s == 0 ? Double.NaN : (double) confusion[c][c] / s;
    }

    /** Harmonic mean of precision and recall; 0 when both are 0, NaN when either is undefined. */
    public double f1(int c) {
        double p = precision(c), r = recall(c);
        if (Double.isNaN(p) || Double.isNaN(r)) return Double.NaN;
        return p + r == 0 ? 0 : 2 * p * r / (p + r);
    }

    /** The mean F1 over classes where it is defined. */
    public double macroF1() {
        double s = 0;
        int n = 0;
        for (int c = 0; c < classes; c++) {
            double f = f1(c);
            if (!Double.isNaN(f)) {
                s += f;
                n++;
            }
        }
        return n == 0 ? Double.NaN : s / n;
    }

    /** Mean predicted probability of class c minus the fraction of examples labelled c (0 for a calibrated model). */
    public double predictionBias(int c) {
        if (labels.length == 0) return Double.NaN;
        double mean = 0;
        for (int i = 0; i < labels.length; i++) mean += probs[i * classes + c];
        return (mean - support(c)) / labels.length;
    }

    /** One-vs-rest ROC AUC of class c: the probability a random c example scores above a random other one, ties half. */
    public double rocAuc(int c) {
        int n = labels.length;
        long pos = support(c), neg = n - pos;
        if (pos == 0 || neg == 0) return Double.NaN;
        Integer[] order = byScore(c);
        double rankSum = 0;
        for (int i = 0; i < n; ) {
            int j = i;
            float s = probs[order[i] * classes + c];
            while (j < n && probs[order[j] * classes + c] == s) j++;
            double avgRank = (i + 1 + j) / 2.0; // ranks i+1..j, ascending
            for (int q = i; q < j; q++) if (labels[order[q]] == c) rankSum += avgRank;
            i = j;
        }
        return (rankSum - pos * (pos + 1) / 2.0) / ((double) pos * neg);
    }

    /** One-vs-rest average precision of class c: sum over score thresholds of (recall step) x precision. */
    public double prAuc(int c) {
        int n = labels.length;
        long pos = support(c);
        if (pos == 0) return Double.NaN;
        Integer[] order = byScore(c);
        double ap = 0, prevRecall = 0;
        long tp = 0, seen = 0;
        for (int i = n - 1; i >= 0; ) { // descending score, tied scores as one threshold
            float s = probs[order[i] * classes + c];
            while (i >= 0 && probs[order[i] * classes + c] == s) {
                if (labels[order[i]] == c) tp++;
                seen++;
                i--;
            }
            double recall = (double) tp / pos;
            ap += (recall - prevRecall) * ((double) tp / seen);
            prevRecall = recall;
        }
        return ap;
    }

    private Integer[] byScore(int c) {
        Integer[] order = new Integer[labels.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Float.compare(probs[a * classes + c], probs[b * classes + c]));
        return order;
    }

    /** The fraction of examples where this report and {@code other} (same examples) predict the same class. */
    public double agreement(ClassificationReport other) {
        if (other.count() != count()) throw new IllegalArgumentException("reports cover " + count() + " and " + other.count() + " examples");
        long same = 0;
        for (int i = 0; i < predicted.length; i++) if (predicted[i] == other.predicted[i]) same++;
        return count() == 0 ? Double.NaN : (double) same / count();
    }

    /** A per-class table (precision, recall, F1, ROC AUC, PR AUC, bias, support) with the overall lines. */
    public String table(String... classNames) {
        StringBuilder b = new StringBuilder(String.format("%-14s %9s %7s %7s %8s %7s %8s %8s%n", "class", "precision", "recall", "f1", "roc_auc",
                "pr_auc", "bias", "support"));
        for (int c = 0; c < classes; c++) {
            String name = c < classNames.length ? classNames[c] : String.valueOf(c);
            b.append(String.format("%-14s %9.4f %7.4f %7.4f %8.4f %7.4f %+8.4f %8d%n", name, precision(c), recall(c), f1(c), rocAuc(c), prAuc(c),
                    predictionBias(c), support(c)));
        }
        b.append(String.format("accuracy %.4f  top-2 %.4f  macro-F1 %.4f  (%d examples)%n", accuracy(), topK(2), macroF1(), count()));
        return b.toString();
    }
}
