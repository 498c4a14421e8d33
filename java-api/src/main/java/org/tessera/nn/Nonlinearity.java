package org.tessera.nn;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;
import java.util.Map;
import org.tessera.Ops;
import org.tessera.kernels.DType;

/** An elementwise activation layer. ReLU after a linear or convolution layer is fused into it for inference. */
public final class Nonlinearity extends Layer {
    /** The functions. */
    public enum Kind {
        /** max(x, 0). */
        RELU,
        /** min(max(x, 0), 6). */
        RELU6,
        /** x * Phi(x), the exact (erf) form PyTorch uses by default. */
        GELU,
        /** 1 / (1 + e^-x). */
        SIGMOID,
        /** tanh(x). */
        TANH;

        /** The function in double precision (the reference and the Java path). */
        public double apply(double x) {
            return switch (this) {
                case RELU -> x > 0 ? x : (Double.isNaN(x) ? x : 0);
                case RELU6 -> Double.isNaN(x) ? x : Math.min(Math.max(x, 0), 6);
                case GELU -> 0.5 * x * (1 + erf(x / Math.sqrt(2)));
                case SIGMOID -> 1 / (1 + Math.exp(-x));
                case TANH -> Math.tanh(x);
            };
        }
    }

    private final Kind kind;

    /** The activation layer computing {@code kind}. */
    public Nonlinearity(Kind kind) {
        this.kind = java.util.Objects.requireNonNull(kind, "kind");
    }

    static Nonlinearity fromType(String type) {
        return new Nonlinearity(Kind.valueOf(type.toUpperCase(Locale.ROOT)));
    }

    /** The function. */
    public Kind kind() {
        return kind;
    }

    @Override
    public String type() {
        return kind.name().toLowerCase(Locale.ROOT);
    }

    @Override
    public long[] outputShape(long[] in) {
        return in.clone();
    }

    @Override
    public Map<String, Object> config() {
        return new java.util.LinkedHashMap<>();
    }

    @Override
    Step compile(Ops ops, long[] in, String label) {
        if (kind == Kind.RELU) return new Step(label, in.clone(), DType.F32, ops::relu, null);
        return new Step(label, in.clone(), DType.F32, (x, y) -> {
            MemorySegment xs = x.segment(), ys = y.segment();
            long n = x.numel();
            for (long i = 0; i < n; i++) {
                ys.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) kind.apply(xs.getAtIndex(ValueLayout.JAVA_FLOAT, i)));
            }
        }, null);
    }

    /** erf by Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7, under float's resolution near 1). */
    static double erf(double x) {
        if (Double.isNaN(x)) return x;
        double t = 1 / (1 + 0.3275911 * Math.abs(x));
        double y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
        return x >= 0 ? y : -y;
    }
}
