package org.tessera.train;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.tessera.Tensor;
import org.tessera.kernels.DType;
import org.tessera.nn.U8Range;

/**
 * Quantization-aware training around one layer: fake-quantizes the layer's input (for the first layer, when the
 * int8 model quantizes the model input) and/or its output (when the int8 model carries it as u8 codes) with the
 * shared observers' current ranges. Training forwards record the batch's range for the observers. Backward is
 * the straight-through estimator: the gradient passes where the value was inside the range and is zero where it
 * was clamped; the wrapped layer sees its own unrounded output, so e.g. ReLU's derivative is exact.
 */
final class FakeQuantBackprop implements Backprop, RunningStatistics {
    private final Backprop inner;
    private final ActivationObserver in, out;
    private final Tensor xq, raw; // the rounded input the layer reads; the layer's own output before rounding
    private final float[] buf, gbuf;
    private float inMin, inMax, outMin, outMax;
    private float min, max; // the extremes the last round() observed
    private boolean inSeen, outSeen;

    /** in and out may be null (no rounding on that side); shapes exclude the batch dimension. */
    FakeQuantBackprop(Backprop inner, ActivationObserver in, ActivationObserver out, long[] inShape, long[] outShape, int maxBatch) {
        this.inner = inner;
        this.in = in;
        this.out = out;
        long inLen = maxBatch * Replica.numel(inShape), outLen = maxBatch * Replica.numel(outShape);
        this.xq = in == null ? null : Tensor.allocate(DType.F32, Replica.batched(maxBatch, inShape));
        try {
            this.raw = out == null ? null : Tensor.allocate(DType.F32, Replica.batched(maxBatch, outShape));
        } catch (RuntimeException e) {
            if (xq != null) xq.close();
            throw e;
        }
        int len = Math.toIntExact(Math.max(in == null ? 0 : inLen, out == null ? 0 : outLen));
        this.buf = new float[len];
        this.gbuf = new float[len];
    }

    @Override
    public void forward(Tensor x, Tensor y, boolean training) {
        long n = x.dim(0);
        inSeen = outSeen = false;
        Tensor xin = x;
        if (in != null) {
            xin = xq.slice(0, 0, n);
            inSeen = round(x, xin, in.range(), training);
            inMin = min;
            inMax = max;
        }
        if (out == null) {
            inner.forward(xin, y, training);
            return;
        }
        Tensor r = raw.slice(0, 0, n);
        inner.forward(xin, r, training);
        outSeen = round(r, y, out.range(), training);
        outMin = min;
        outMax = max;
    }

    /** dst = src rounded with r (copied when r is null); with {@code observe}, sets min/max to src's finite extremes and says whether there were any. */
    private boolean round(Tensor src, Tensor dst, U8Range r, boolean observe) {
        int n = (int) src.numel();
        MemorySegment.copy(src.segment(), ValueLayout.JAVA_FLOAT, 0, buf, 0, n);
        boolean seen = false;
        if (observe) {
            float lo = Float.POSITIVE_INFINITY, hi = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) {
                float v = buf[i];
                if (v < lo) lo = v; // NaN compares false; infinities are excluded below
                if (v > hi) hi = v;
            }
            if (!Float.isFinite(lo) || !Float.isFinite(hi)) { // rare: recompute over the finite values only
                lo = Float.POSITIVE_INFINITY;
                hi = Float.NEGATIVE_INFINITY;
                for (int i = 0; i < n; i++) {
                    if (!Float.isFinite(buf[i])) continue;
                    lo = Math.min(lo, buf[i]);
                    hi = Math.max(hi, buf[i]);
                }
            }
            seen = lo <= hi;
            min = lo;
            max = hi;
        }
        if (r != null) FakeQuant.activations(buf, n, r);
        MemorySegment.copy(buf, 0, dst.segment(), ValueLayout.JAVA_FLOAT, 0, n);
        return seen;
    }

    @Override
    public void backward(Tensor x, Tensor y, Tensor dy, Tensor dx) {
        long n = x.dim(0);
        Tensor xin = in != null ? xq.slice(0, 0, n) : x;
        if (out != null) {
            Tensor r = raw.slice(0, 0, n);
            straightThrough(dy, r, out.range());
            inner.backward(xin, r, dy, dx);
        } else {
            inner.backward(xin, y, dy, dx);
        }
        if (in != null && dx != null) straightThrough(dx, x, in.range());
    }

    /** Zeroes g where v was outside r (in place). */
    private void straightThrough(Tensor g, Tensor v, U8Range r) {
        if (r == null) return;
        int n = (int) g.numel();
        MemorySegment.copy(v.segment(), ValueLayout.JAVA_FLOAT, 0, buf, 0, n);
        MemorySegment.copy(g.segment(), ValueLayout.JAVA_FLOAT, 0, gbuf, 0, n);
        FakeQuant.passInRange(gbuf, buf, n, r);
        MemorySegment.copy(gbuf, 0, g.segment(), ValueLayout.JAVA_FLOAT, 0, n);
    }

    @Override
    public java.util.List<Param> params() {
        return inner.params();
    }

    /** The wrapped layer's backprop. */
    Backprop inner() {
        return inner;
    }

    /** {input: min sum, max sum, count; output: min sum, max sum, count}, then the wrapped layer's own (a BatchNorm's). */
    @Override
    public int statsWidth() {
        return OWN + (inner instanceof RunningStatistics s ? s.statsWidth() : 0);
    }

    private static final int OWN = 6;

    @Override
    public void addBatchStats(double[] sums) {
        if (inner instanceof RunningStatistics s) {
            double[] own = new double[s.statsWidth()];
            s.addBatchStats(own);
            for (int i = 0; i < own.length; i++) sums[OWN + i] += own[i];
        }
        if (inSeen) {
            sums[0] += inMin;
            sums[1] += inMax;
            sums[2]++;
        }
        if (outSeen) {
            sums[3] += outMin;
            sums[4] += outMax;
            sums[5]++;
        }
    }

    @Override
    public void updateRunning(double[] sums) {
        if (in != null) in.update(sums[0], sums[1], sums[2]);
        if (out != null) out.update(sums[3], sums[4], sums[5]);
        if (inner instanceof RunningStatistics s) s.updateRunning(java.util.Arrays.copyOfRange(sums, OWN, sums.length));
    }

    @Override
    public void close() {
        inner.close();
        if (xq != null) xq.close();
        if (raw != null) raw.close();
    }
}
