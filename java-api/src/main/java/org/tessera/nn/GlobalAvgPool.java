package org.tessera.nn;

import org.tessera.Ops;
import org.tessera.kernels.DType;

/** The mean over (h, w): an image (h, w, c) becomes a vector (c). */
public final class GlobalAvgPool extends Layer {
    @Override
    public String type() {
        return "globalavgpool";
    }

    @Override
    public long[] outputShape(long[] in) {
        Shapes.requireImage("globalavgpool", in);
        return new long[] {in[2]};
    }

    @Override
    Step compile(Ops ops, long[] in, String label) {
        return new Step(label, outputShape(in), DType.F32, ops::globalAvgPool, null);
    }
}
