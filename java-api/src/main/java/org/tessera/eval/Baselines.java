package org.tessera.eval;

/**
 * Baselines a model must beat to mean anything: the majority class, and a linear least-squares classifier
 * (ridge regression onto one-hot labels, solved exactly; its scores go through a softmax to form the
 * distribution the report needs, so use it for accuracy and ranking metrics, not calibration).
 */
public final class Baselines {
    private Baselines() {}

    /** The most frequent training label (the lowest among ties). */
    public static int majorityClass(int[] trainLabels, int classes) {
        long[] count = new long[classes];
        for (int l : trainLabels) count[l]++;
        int best = 0;
        for (int c = 1; c < classes; c++) if (count[c] > count[best]) best = c;
        return best;
    }

    /** Probabilities (n x classes) putting all mass on {@code cls}. */
    public static float[] constant(int n, int classes, int cls) {
        float[] p = new float[n * classes];
        for (int i = 0; i < n; i++) p[i * classes + cls] = 1f;
        return p;
    }

    /** A fitted linear classifier: {@code scores = [x, 1] W}. */
    public record Linear(int features, int classes, double[] weights) {
        /** Class probabilities (softmax of the scores) for n examples x (n x features, row-major). */
        public float[] probabilities(float[] x, int n) {
            float[] s = new float[n * classes];
            for (int i = 0; i < n; i++) {
                for (int c = 0; c < classes; c++) {
                    double acc = weights[features * classes + c];
                    for (int f = 0; f < features; f++) acc += x[i * features + f] * weights[f * classes + c];
                    s[i * classes + c] = (float) acc;
                }
            }
            for (int i = 0; i < s.length; i++) s[i] *= 10; // sharpen: least-squares scores live in about [0, 1]
            return ClassificationReport.softmax(s, classes);
        }
    }

    /**
     * Fits W minimizing ||[X, 1] W - onehot(y)||^2 + l2 ||W||^2 (bias not penalized) by the normal equations and a
     * Cholesky solve in double: exact and deterministic. Cost O(n features^2 + features^3).
     */
    public static Linear linear(float[] x, int[] y, int n, int features, int classes, double l2) {
        if (x.length != (long) n * features || y.length != n) throw new IllegalArgumentException("x must be n x features and y n long");
        int d = features + 1;
        double[] a = new double[d * d], b = new double[d * classes];
        double[] row = new double[d];
        for (int i = 0; i < n; i++) {
            for (int f = 0; f < features; f++) row[f] = x[i * features + f];
            row[features] = 1;
            for (int p = 0; p < d; p++) {
                double v = row[p];
                if (v == 0) continue;
                for (int q = 0; q <= p; q++) a[p * d + q] += v * row[q];
                b[p * classes + y[i]] += v;
            }
        }
        for (int p = 0; p < d; p++) {
            for (int q = 0; q < p; q++) a[q * d + p] = a[p * d + q];
            if (p < features) a[p * d + p] += l2;
        }
        a[features * d + features] += 1e-9;
        cholesky(a, d);
        for (int c = 0; c < classes; c++) solve(a, d, b, c, classes);
        return new Linear(features, classes, b);
    }

    /** In-place lower Cholesky factor of the symmetric positive definite d x d matrix a. */
    private static void cholesky(double[] a, int d) {
        for (int j = 0; j < d; j++) {
            double s = a[j * d + j];
            for (int k = 0; k < j; k++) s -= a[j * d + k] * a[j * d + k];
            if (!(s > 0)) throw new IllegalArgumentException("the normal equations are singular: raise l2 (features constant or duplicated)");
            double l = Math.sqrt(s);
            a[j * d + j] = l;
            for (int i = j + 1; i < d; i++) {
                double t = a[i * d + j];
                for (int k = 0; k < j; k++) t -= a[i * d + k] * a[j * d + k];
                a[i * d + j] = t / l;
            }
        }
    }

    /** Solves L L^T w = b[:, c] in place. */
    private static void solve(double[] l, int d, double[] b, int c, int stride) {
        for (int i = 0; i < d; i++) {
            double s = b[i * stride + c];
            for (int k = 0; k < i; k++) s -= l[i * d + k] * b[k * stride + c];
            b[i * stride + c] = s / l[i * d + i];
        }
        for (int i = d - 1; i >= 0; i--) {
            double s = b[i * stride + c];
            for (int k = i + 1; k < d; k++) s -= l[k * d + i] * b[k * stride + c];
            b[i * stride + c] = s / l[i * d + i];
        }
    }
}
