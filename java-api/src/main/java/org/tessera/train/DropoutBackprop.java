package org.tessera.train;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.tessera.Tensor;
import org.tessera.kernels.DType;

/** Inverted dropout: in training each element is kept with probability 1 - p and scaled by 1 / (1 - p). */
final class DropoutBackprop implements Backprop {
    private final double p;
    private final float keepScale;
    private final Tensor mask;
    private final SplittableRandom rng;

    DropoutBackprop(double p, long elementsMax, SplittableRandom rng) {
        this.p = p;
        this.keepScale = (float) (1 / (1 - p));
        this.mask = Tensor.allocate(DType.F32, Math.max(1, elementsMax));
        this.rng = rng;
    }

    @Override
    public void forward(Tensor x, Tensor y, boolean training) {
        MemorySegment xs = x.segment(), ys = y.segment(), m = mask.segment();
        long n = x.numel();
        if (!training || p == 0) {
            MemorySegment.copy(xs, 0, ys, 0, xs.byteSize());
            for (long i = 0; i < n; i++) m.setAtIndex(ValueLayout.JAVA_FLOAT, i, 1f);
            return;
        }
        for (long i = 0; i < n; i++) {
            float s = rng.nextDouble() < p ? 0f : keepScale;
            m.setAtIndex(ValueLayout.JAVA_FLOAT, i, s);
            ys.setAtIndex(ValueLayout.JAVA_FLOAT, i, xs.getAtIndex(ValueLayout.JAVA_FLOAT, i) * s);
        }
    }

    @Override
    public void backward(Tensor x, Tensor y, Tensor dy, Tensor dx) {
        if (dx == null) return;
        MemorySegment g = dy.segment(), out = dx.segment(), m = mask.segment();
        for (long i = 0, n = dy.numel(); i < n; i++) {
            out.setAtIndex(ValueLayout.JAVA_FLOAT, i, g.getAtIndex(ValueLayout.JAVA_FLOAT, i) * m.getAtIndex(ValueLayout.JAVA_FLOAT, i));
        }
    }

    @Override
    public void close() {
        mask.close();
    }
}
