package org.tessera.train;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Map;
import org.tessera.Tensor;
import org.tessera.kernels.DType;
import org.tessera.nn.BatchNorm;

/**
 * BatchNorm over the last (channel) dimension. Training normalizes with this replica's batch statistics
 * (per replica, as PyTorch's DistributedDataParallel without SyncBatchNorm) and records them; the trainer
 * folds the replicas' statistics into the running mean and variance once per step (momentum 0.1, unbiased
 * variance, as PyTorch). Evaluation uses the running statistics.
 */
final class BatchNormBackprop implements Backprop, RunningStatistics {
    static final double MOMENTUM = 0.1;
    private final int c;
    private final double eps;
    private final Tensor gamma, beta, runMean, runVar, gGamma, gBeta;
    private final double[] mean, invStd, sumDy, sumDyXhat;
    private long lastCount;
    private final List<Param> params;

    private final float[] xBuf, yBuf;

    BatchNormBackprop(BatchNorm layer, String prefix, long maxElements) {
        this.xBuf = new float[Math.toIntExact(maxElements)];
        this.yBuf = new float[Math.toIntExact(maxElements)];
        this.c = layer.channels();
        this.eps = layer.eps();
        Map<String, Tensor> p = layer.parameters();
        gamma = p.get("weight");
        beta = p.get("bias");
        runMean = p.get("running_mean");
        runVar = p.get("running_var");
        gGamma = Tensor.allocate(DType.F32, c);
        gBeta = Tensor.allocate(DType.F32, c);
        mean = new double[c];
        invStd = new double[c];
        sumDy = new double[c];
        sumDyXhat = new double[c];
        params = List.of(new Param(prefix + "weight", gamma, gGamma, false), new Param(prefix + "bias", beta, gBeta, false));
    }

    @Override
    public void forward(Tensor x, Tensor y, boolean training) {
        int len = (int) x.numel(), rows = len / c;
        float[] xa = heap(x, xBuf), ya = yBuf;
        float[] g = gamma.toFloatArray(), b = beta.toFloatArray();
        if (training) {
            double[] sum = new double[c], sq = new double[c];
            for (int i = 0; i < len; i += c) {
                for (int j = 0; j < c; j++) sum[j] += xa[i + j];
            }
            for (int j = 0; j < c; j++) mean[j] = sum[j] / rows;
            for (int i = 0; i < len; i += c) {
                for (int j = 0; j < c; j++) {
                    double d = xa[i + j] - mean[j];
                    sq[j] += d * d;
                }
            }
            for (int j = 0; j < c; j++) invStd[j] = 1 / Math.sqrt(sq[j] / rows + eps);
            lastCount = rows;
        } else {
            float[] m = runMean.toFloatArray(), v = runVar.toFloatArray();
            for (int j = 0; j < c; j++) {
                mean[j] = m[j];
                invStd[j] = 1 / Math.sqrt(v[j] + eps);
            }
            lastCount = 0;
        }
        float[] scale = new float[c], shift = new float[c];
        for (int j = 0; j < c; j++) {
            scale[j] = (float) (g[j] * invStd[j]);
            shift[j] = (float) (b[j] - mean[j] * g[j] * invStd[j]);
        }
        for (int i = 0; i < len; i += c) {
            for (int j = 0; j < c; j++) ya[i + j] = xa[i + j] * scale[j] + shift[j];
        }
        MemorySegment.copy(ya, 0, y.segment(), ValueLayout.JAVA_FLOAT, 0, len);
    }

    @Override
    public void backward(Tensor x, Tensor y, Tensor dy, Tensor dx) {
        int len = (int) x.numel(), rows = len / c;
        float[] xa = heap(x, xBuf), ga = heap(dy, yBuf);
        float[] m = new float[c], is = new float[c];
        for (int j = 0; j < c; j++) {
            m[j] = (float) mean[j];
            is[j] = (float) invStd[j];
        }
        double[] sDy = sumDy, sDyX = sumDyXhat;
        java.util.Arrays.fill(sDy, 0);
        java.util.Arrays.fill(sDyX, 0);
        for (int i = 0; i < len; i += c) {
            for (int j = 0; j < c; j++) {
                float d = ga[i + j];
                sDy[j] += d;
                sDyX[j] += d * (xa[i + j] - m[j]);
            }
        }
        for (int j = 0; j < c; j++) sDyX[j] *= invStd[j];
        MemorySegment gg = gGamma.segment(), gb = gBeta.segment();
        for (int j = 0; j < c; j++) {
            gg.setAtIndex(ValueLayout.JAVA_FLOAT, j, (float) sDyX[j]);
            gb.setAtIndex(ValueLayout.JAVA_FLOAT, j, (float) sDy[j]);
        }
        if (dx == null) return;
        float[] g = gamma.toFloatArray(), out = yBuf; // overwrites dy's copy element by element, after reading it
        float[] k = new float[c], a = new float[c], bb = new float[c];
        boolean batchStats = lastCount > 0;
        for (int j = 0; j < c; j++) {
            k[j] = (float) (g[j] * invStd[j]);
            // dx = k (dy - sumDy / rows - xhat sumDyXhat / rows), xhat = (x - mean) invStd
            a[j] = batchStats ? (float) (sDyX[j] / rows * invStd[j]) : 0f;
            bb[j] = batchStats ? (float) (sDy[j] / rows) : 0f;
        }
        for (int i = 0; i < len; i += c) {
            for (int j = 0; j < c; j++) out[i + j] = k[j] * (ga[i + j] - bb[j] - (xa[i + j] - m[j]) * a[j]);
        }
        MemorySegment.copy(out, 0, dx.segment(), ValueLayout.JAVA_FLOAT, 0, len);
    }

    /** x's elements in {@code buf} (bulk copy; the loops then run on a plain array the JIT vectorizes). */
    private static float[] heap(Tensor t, float[] buf) {
        MemorySegment.copy(t.segment(), ValueLayout.JAVA_FLOAT, 0, buf, 0, (int) t.numel());
        return buf;
    }

    /** The batch mean of channel j from the last training forward. */
    double batchMean(int j) {
        return mean[j];
    }

    /** The unbiased batch variance of channel j from the last training forward. */
    double batchVarianceUnbiased(int j) {
        double biased = 1 / (invStd[j] * invStd[j]) - eps;
        return lastCount > 1 ? biased * lastCount / (lastCount - 1) : biased;
    }

    /** Rows (examples x positions) the last training forward normalized over. */
    long lastCount() {
        return lastCount;
    }

    @Override
    public int statsWidth() {
        return 2 * c + 1;
    }

    /** Adds this shard's batch means, then unbiased batch variances, per channel, and 1 to the count of shards that had a batch. */
    @Override
    public void addBatchStats(double[] sums) {
        if (lastCount == 0) return;
        for (int j = 0; j < c; j++) {
            sums[j] += batchMean(j);
            sums[c + j] += batchVarianceUnbiased(j);
        }
        sums[2 * c]++;
    }

    /** Moves the running statistics toward the mean of the shards' batch statistics summed in {@code sums}. */
    @Override
    public void updateRunning(double[] sums) {
        double used = sums[2 * c];
        if (used == 0) return;
        MemorySegment m = runMean.segment(), v = runVar.segment();
        for (int j = 0; j < c; j++) {
            m.setAtIndex(ValueLayout.JAVA_FLOAT, j, (float) ((1 - MOMENTUM) * m.getAtIndex(ValueLayout.JAVA_FLOAT, j) + MOMENTUM * sums[j] / used));
            v.setAtIndex(ValueLayout.JAVA_FLOAT, j, (float) ((1 - MOMENTUM) * v.getAtIndex(ValueLayout.JAVA_FLOAT, j) + MOMENTUM * sums[c + j] / used));
        }
    }

    @Override
    public List<Param> params() {
        return params;
    }

    @Override
    public void close() {
        gGamma.close();
        gBeta.close();
    }
}
