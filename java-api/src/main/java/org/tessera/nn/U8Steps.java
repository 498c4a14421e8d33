package org.tessera.nn;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.tessera.Pool2dParams;
import org.tessera.kernels.DType;

/** The steps a quantized plan runs between its int8 kernels: (de)quantization, and u8 max pooling and flatten. */
final class U8Steps {
    private U8Steps() {}

    /** f32 to u8 with {@code r}; a NaN or infinite input is an error, not a silent 0 or 255. */
    static Step quantize(String label, long[] shape, Calibration.Int8Range r) {
        return new Step(label + " (quantize to u8)", shape.clone(), DType.U8, (x, y) -> {
            MemorySegment xs = x.segment(), ys = y.segment();
            long n = x.numel();
            for (long i = 0; i < n; i++) {
                float v = xs.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                if (!Float.isFinite(v)) throw new NonFiniteException("input of layer " + label + " holds " + v + " at element " + i);
                ys.set(ValueLayout.JAVA_BYTE, i, (byte) r.quantize(v));
            }
        }, null);
    }

    /** u8 to f32: scale * (q - zeroPoint). */
    static Step dequantize(String label, long[] shape, Calibration.Int8Range r) {
        return new Step(label + " (dequantize)", shape.clone(), DType.F32, (x, y) -> {
            MemorySegment xs = x.segment(), ys = y.segment();
            long n = x.numel();
            for (long i = 0; i < n; i++) ys.setAtIndex(ValueLayout.JAVA_FLOAT, i, r.dequantize(xs.get(ValueLayout.JAVA_BYTE, i) & 0xFF));
        }, null);
    }

    /** Max pooling of u8 codes: exact, because quantization is monotonic. */
    static Step maxPool(String label, long[] in, long[] out, Pool2dParams p) {
        int h = (int) in[0], w = (int) in[1], c = (int) in[2], oh = (int) out[0], ow = (int) out[1];
        return new Step(label, out.clone(), DType.U8, (x, y) -> {
            MemorySegment xs = x.segment(), ys = y.segment();
            long n = x.dim(0);
            for (long b = 0; b < n; b++) {
                long xb = b * h * w * c, yb = b * oh * ow * c;
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        for (int ch = 0; ch < c; ch++) {
                            int best = 0;
                            for (int r = 0; r < p.kh(); r++) {
                                int iy = oy * p.strideH() - p.padTop() + r;
                                if (iy < 0 || iy >= h) continue;
                                for (int q = 0; q < p.kw(); q++) {
                                    int ix = ox * p.strideW() - p.padLeft() + q;
                                    if (ix < 0 || ix >= w) continue;
                                    best = Math.max(best, xs.get(ValueLayout.JAVA_BYTE, xb + ((long) iy * w + ix) * c + ch) & 0xFF);
                                }
                            }
                            ys.set(ValueLayout.JAVA_BYTE, yb + ((long) oy * ow + ox) * c + ch, (byte) best);
                        }
                    }
                }
            }
        }, null);
    }

    /** Flatten of u8 codes, in PyTorch's (c, h, w) order like {@link Flatten}. */
    static Step flatten(String label, long[] in) {
        return new Step(label, new long[] {Shapes.numel(in)}, DType.U8, (x, y) -> Flatten.chwOrder(x.segment(), y.segment(), x.dim(0), in, 1), null);
    }
}
