package org.tessera.kernels.java;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import org.tessera.kernels.WorkerPool;

/**
 * One Adam update of an f32 parameter, its gradient and its f32 moments, computed in double exactly as the
 * scalar rule writes it (same operations in the same order, each rounded once), so the vector lanes, the
 * scalar tail and any split over the worker pool give the same bits:
 * <pre>
 *   decoupled: w -= lr wd w          else: g += wd w
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g g
 *   w = w - lr (m / c1) / (sqrt(v / c2) + eps)
 * </pre>
 * with c1 = 1 - b1^t and c2 = 1 - b2^t. Arguments are trusted (the optimizer sizes the moments itself).
 */
public final class AdamStepF32Panama {
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED.withShape(VectorShape.forBitSize(D.vectorBitSize() / 2));
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final int MIN_PER_CHUNK = 1 << 15;

    /** The hyper-parameters of one step; c1 and c2 are the bias corrections. */
    public record Step(double lr, double b1, double b2, double eps, double c1, double c2, double weightDecay, boolean decoupled) {}

    private AdamStepF32Panama() {}

    /** Updates the first n elements of w, m and v from g. */
    public static void run(Step s, MemorySegment w, MemorySegment g, float[] m, float[] v, int n) {
        WorkerPool pool = WorkerPool.shared();
        int parts = pool.chunks(n, MIN_PER_CHUNK);
        if (parts == 1) {
            range(s, w, g, m, v, 0, n);
        } else {
            pool.parallelFor(parts, t -> range(s, w, g, m, v, (int) ((long) n * t / parts), (int) ((long) n * (t + 1) / parts)));
        }
    }

    private static void range(Step s, MemorySegment w, MemorySegment g, float[] m, float[] v, int from, int to) {
        double lr = s.lr(), b1 = s.b1(), b2 = s.b2(), eps = s.eps(), c1 = s.c1(), c2 = s.c2(), wd = s.weightDecay();
        double lrWd = lr * wd, a1 = 1 - b1, a2 = 1 - b2;
        int lanes = D.length(), i = from;
        for (; i + lanes <= to; i += lanes) {
            DoubleVector wv = widen(FloatVector.fromMemorySegment(F, w, 4L * i, LE)), gv = widen(FloatVector.fromMemorySegment(F, g, 4L * i, LE));
            if (s.decoupled()) wv = wv.sub(wv.mul(lrWd));
            else gv = gv.add(gv.broadcast(wd).mul(wv));
            DoubleVector mv = widen(FloatVector.fromArray(F, m, i)).mul(b1).add(gv.mul(a1));
            DoubleVector vv = widen(FloatVector.fromArray(F, v, i)).mul(b2).add(gv.mul(a2).mul(gv));
            narrow(mv).intoArray(m, i);
            narrow(vv).intoArray(v, i);
            DoubleVector step = mv.div(c1).mul(lr).div(vv.div(c2).lanewise(VectorOperators.SQRT).add(eps));
            narrow(wv.sub(step)).intoMemorySegment(w, 4L * i, LE);
        }
        for (; i < to; i++) {
            double wv = w.getAtIndex(F32, i), gv = g.getAtIndex(F32, i);
            if (s.decoupled()) wv -= lrWd * wv;
            else gv += wd * wv;
            double mv = b1 * m[i] + a1 * gv, vv = b2 * v[i] + a2 * gv * gv;
            m[i] = (float) mv;
            v[i] = (float) vv;
            w.setAtIndex(F32, i, (float) (wv - lr * (mv / c1) / (Math.sqrt(vv / c2) + eps)));
        }
    }

    private static DoubleVector widen(FloatVector f) {
        return (DoubleVector) f.convertShape(VectorOperators.F2D, D, 0);
    }

    private static FloatVector narrow(DoubleVector d) {
        return (FloatVector) d.convertShape(VectorOperators.D2F, F, 0);
    }
}
