package org.tessera.nn;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.tessera.Ops;
import org.tessera.Pool2dParams;
import org.tessera.kernels.DType;
import org.tessera.kernels.quant.QuantizeF32U8Panama;

/** The steps a quantized plan runs between its int8 kernels: (de)quantization, and u8 max pooling and flatten. */
final class U8Steps {
    private U8Steps() {}

    /**
     * f32 to u8 with {@code r} (vectorized, bit for bit {@link U8Range#quantize}); a NaN or infinite
     * input is an error, not a silent 0 or 255.
     */
    static Step quantize(String label, long[] shape, U8Range r) {
        return new Step(label + " (quantize to u8)", shape.clone(), DType.U8, (x, y) -> {
            long bad = QuantizeF32U8Panama.run(x.segment(), y.segment(), x.numel(), r.scale(), r.zeroPoint());
            if (bad >= 0) {
                float v = x.segment().getAtIndex(ValueLayout.JAVA_FLOAT, bad);
                throw new NonFiniteException("input of layer " + label + " holds " + v + " at element " + bad);
            }
        }, null);
    }

    /** u8 to f32: scale * (q - zeroPoint). */
    static Step dequantize(String label, long[] shape, U8Range r) {
        return new Step(label + " (dequantize)", shape.clone(), DType.F32, (x, y) -> {
            MemorySegment xs = x.segment(), ys = y.segment();
            long n = x.numel();
            for (long i = 0; i < n; i++) ys.setAtIndex(ValueLayout.JAVA_FLOAT, i, r.dequantize(xs.get(ValueLayout.JAVA_BYTE, i) & 0xFF));
        }, null);
    }

    /** Max pooling of u8 codes on {@code ops}' pooling kernels: exact, because quantization is monotonic. */
    static Step maxPool(Ops ops, String label, long[] out, Pool2dParams p) {
        return new Step(label, out.clone(), DType.U8, (x, y) -> ops.maxPool2d(x, p, y, null), null);
    }

    /** Flatten of u8 codes, in PyTorch's (c, h, w) order like {@link Flatten}. */
    static Step flatten(String label, long[] in) {
        return new Step(label, new long[] {Shapes.numel(in)}, DType.U8, (x, y) -> Flatten.chwOrder(x.segment(), y.segment(), x.dim(0), in, 1), null);
    }
}
