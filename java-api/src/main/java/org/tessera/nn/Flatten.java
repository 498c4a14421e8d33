package org.tessera.nn;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.tessera.Ops;
import org.tessera.kernels.DType;

/**
 * An image (h, w, c) to a vector of h * w * c features in PyTorch's order (channel, then row, then column),
 * so a linear layer after it takes the same weights as in a PyTorch model (whose activations are NCHW).
 * A vector passes unchanged. Inference folds the reordering into a linear layer that follows: the plan
 * passes the NHWC activations on as they are (a view, no copy) and the linear layer's compiled weights
 * take their columns in (h, w, c) order ({@link #hwcColumns}); a transposing copy cost as much as the
 * linear layer itself (1.2 ms per 256 Fashion-MNIST images).
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

    /** Whether {@code layer}, a flatten of an image of shape {@code in}, is folded into {@code next} at inference. */
    static boolean foldsInto(Layer layer, long[] in, Layer next) {
        return layer instanceof Flatten && in.length == 3 && next instanceof Linear;
    }

    /**
     * The weights of a linear layer over a flattened (h, w, c) image, (rows, h w c) row-major with columns in
     * PyTorch's (c, h, w) order, reordered so column p c + ch takes what column ch h w + p held: the same layer
     * on the image's (h, w, c) order.
     */
    static float[] hwcColumns(float[] w, int rows, long[] image) {
        int hw = Math.toIntExact(image[0] * image[1]), c = Math.toIntExact(image[2]), cols = hw * c;
        if (w.length != (long) rows * cols) throw new IllegalArgumentException("weights hold " + w.length + " values, not " + rows + " x " + cols);
        float[] out = new float[w.length];
        for (int o = 0; o < rows; o++) {
            int base = o * cols;
            for (int ch = 0; ch < c; ch++) {
                for (int p = 0; p < hw; p++) out[base + p * c + ch] = w[base + ch * hw + p];
            }
        }
        return out;
    }

    /** {@link #hwcColumns(float[], int, long[])} for s8 weights. */
    static byte[] hwcColumns(byte[] w, int rows, long[] image) {
        int hw = Math.toIntExact(image[0] * image[1]), c = Math.toIntExact(image[2]), cols = hw * c;
        if (w.length != (long) rows * cols) throw new IllegalArgumentException("weights hold " + w.length + " values, not " + rows + " x " + cols);
        byte[] out = new byte[w.length];
        for (int o = 0; o < rows; o++) {
            int base = o * cols;
            for (int ch = 0; ch < c; ch++) {
                for (int p = 0; p < hw; p++) out[base + p * c + ch] = w[base + ch * hw + p];
            }
        }
        return out;
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
