package org.tessera.nn;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.tessera.Ops;
import org.tessera.kernels.DType;

/**
 * An image (h, w, c) to a vector of h * w * c features in PyTorch's order (channel, then row, then column),
 * so a linear layer after it takes the same weights as in a PyTorch model (whose activations are NCHW).
 * A vector passes unchanged.
 */
public final class Flatten extends Layer {
    @Override
    public String type() {
        return "flatten";
    }

    @Override
    public long[] outputShape(long[] in) {
        return new long[] {Shapes.numel(in)};
    }

    @Override
    Step compile(Ops ops, long[] in, String label) {
        return new Step(label, outputShape(in), DType.F32, (x, y) -> chwOrder(x.segment(), y.segment(), x.dim(0), in, x.dtype().byteSize()), null);
    }

    /** Copies each (h, w, c) example of x to (c, h, w) order in y; elements of {@code bytes} bytes (1 or 4). */
    static void chwOrder(MemorySegment x, MemorySegment y, long n, long[] in, int bytes) {
        if (in.length != 3 || in[0] * in[1] == 1 || in[2] == 1) {
            MemorySegment.copy(x, 0, y, 0, x.byteSize());
            return;
        }
        int hw = (int) (in[0] * in[1]), c = (int) in[2];
        long per = (long) hw * c;
        for (long b = 0; b < n; b++) {
            long base = b * per;
            for (int p = 0; p < hw; p++) {
                for (int ch = 0; ch < c; ch++) {
                    long src = base + (long) p * c + ch, dst = base + (long) ch * hw + p;
                    if (bytes == 4) y.setAtIndex(ValueLayout.JAVA_INT, dst, x.getAtIndex(ValueLayout.JAVA_INT, src));
                    else y.set(ValueLayout.JAVA_BYTE, dst, x.get(ValueLayout.JAVA_BYTE, src));
                }
            }
        }
    }
}
