package org.tessera.nn;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.tessera.Activation;
import org.tessera.Ops;
import org.tessera.Tensor;
import org.tessera.kernels.DType;
import org.tessera.kernels.MemoryKind;

/**
 * A model compiled for inference on one backend: a list of steps (BatchNorms folded, ReLUs fused, dropout
 * dropped, weights packed), and reusable workspaces. Immutable once built, so any number of threads may run it.
 */
final class InferencePlan implements AutoCloseable {
    /**
     * Outputs up to this size live in a GC-managed arena (closing the tensor invalidates it; the GC frees the
     * bytes): closing a shared arena costs ~20 us here (a handshake with every thread), a sixth of a batch-1
     * prediction. Larger outputs take their own shared arena, freed at once on close.
     */
    static final long MANAGED_OUTPUT_BYTES = 1 << 20;

    private final long[] inShape;
    private final List<Step> steps;
    private final Workspaces workspaces;

    InferencePlan(long[] inShape, List<Step> steps) {
        if (steps.isEmpty()) throw new IllegalArgumentException("a model needs at least one layer that computes something");
        this.inShape = inShape.clone();
        this.steps = List.copyOf(steps);
        this.workspaces = new Workspaces(this.steps);
    }

    /** The f32 plan of {@code model} on {@code ops}. */
    static InferencePlan f32(Sequential model, Ops ops) {
        return f32(model, ops, true);
    }

    /**
     * The f32 plan; {@code fuse}: a convolution and the max pooling after it run as one step where the backend
     * can. Calibration runs unfused, so its steps are the model's groups one for one.
     */
    static InferencePlan f32(Sequential model, Ops ops, boolean fuse) {
        List<Step> steps = new ArrayList<>();
        long[] shape = model.inputShape();
        try {
            List<Group> groups = Group.of(model.layers());
            long[] image = null; // the (h, w, c) input of a flatten folded into the linear layer after it
            for (int i = 0; i < groups.size(); i++) {
                Group g = groups.get(i);
                Step step, fused = fuse && image == null ? fusedConvPool(g, i + 1 < groups.size() ? groups.get(i + 1) : null, ops, shape) : null;
                if (fused != null) {
                    step = fused;
                    i++; // the pooling ran inside the step
                } else if (Flatten.foldsInto(g.main(), shape, i + 1 < groups.size() ? groups.get(i + 1).main() : null)) {
                    step = Step.view(g.label(), g.main().outputShape(shape), DType.F32);
                    image = shape;
                } else {
                    step = f32Step(g, ops, image != null ? image : shape);
                    image = null;
                }
                steps.add(step);
                shape = step.outShape();
            }
            return new InferencePlan(model.inputShape(), steps);
        } catch (RuntimeException e) {
            steps.forEach(Step::close);
            throw e;
        }
    }

    /**
     * Group g (a convolution) and {@code next} (a max pooling) as one step on a fused kernel, or null where
     * they are not such a pair or the backend has no fused kernel for them. On the native backend the
     * Fashion-MNIST first layer (3x3 on one channel, 32 filters) and its 2x2 pooling went from 3.0 + 2.2 ms
     * to ~1 ms per 256 images: the 25.7 MB activation between them no longer goes through memory.
     */
    static Step fusedConvPool(Group g, Group next, Ops ops, long[] shape) {
        if (next == null || !(g.main() instanceof Conv2d conv) || !(next.main() instanceof Pool2d pool)) return null;
        String label = g.first() + "-" + next.last() + " " + g.label().substring(g.label().indexOf(' ') + 1) + "+"
                + next.label().substring(next.label().indexOf(' ') + 1);
        return conv.compileWithMaxPool(ops, shape, label, g.bn(), g.relu() ? Activation.RELU : Activation.IDENTITY, pool);
    }

    /** The f32 step of a group; a linear layer given an (h, w, c) shape takes its input in (h, w, c) order. */
    static Step f32Step(Group g, Ops ops, long[] shape) {
        Activation act = g.relu() ? Activation.RELU : Activation.IDENTITY;
        return switch (g.main()) {
            case WeightedLayer w -> w.compile(ops, shape, g.label(), g.bn(), act);
            default -> g.main().compile(ops, shape, g.label());
        };
    }

    List<Step> steps() {
        return steps;
    }

    long[] outShape() {
        return steps.getLast().outShape();
    }

    /**
     * Runs the plan on a batch x (n, input shape...) of F32 host memory; returns a new tensor owned by the caller.
     *
     * @throws IllegalArgumentException for a wrong dtype or shape, naming the expected one
     * @throws NonFiniteException       with {@code check}, when a step first produces NaN or infinity
     */
    Tensor run(Tensor x, boolean check) {
        return run(x, check, null);
    }

    /** Sees the input (step -1) and each step's output while a plan runs (calibration). */
    @FunctionalInterface
    interface Observer {
        void see(int step, Tensor output);
    }

    /** {@link #run(Tensor, boolean)}, showing every activation to {@code observer} (may be null). */
    Tensor run(Tensor x, boolean check, Observer observer) {
        if (x.dtype() != DType.F32) throw new IllegalArgumentException("predict: the batch must be F32, got " + x.dtype());
        if (x.memoryKind() != MemoryKind.HOST) throw new IllegalArgumentException("predict: the batch must be in host memory (models run on host backends)");
        long[] s = x.shape();
        if (s.length != inShape.length + 1 || !Arrays.equals(Arrays.copyOfRange(s, 1, s.length), inShape) || s[0] < 1) {
            throw new IllegalArgumentException("predict: expected a batch of shape [n >= 1, " + Arrays.toString(inShape).substring(1)
                    + ", got " + Arrays.toString(s));
        }
        long n = s[0];
        Tensor input = x.isContiguous() ? x : x.copy();
        long[] outShape = Shapes.withBatch(n, outShape());
        long outBytes = Shapes.numel(outShape) * steps.getLast().outType().byteSize();
        Tensor out = outBytes <= MANAGED_OUTPUT_BYTES ? Tensor.managed(steps.getLast().outType(), outShape)
                : Tensor.allocate(steps.getLast().outType(), outShape);
        Tensor[] ws = workspaces.take(n);
        try {
            Tensor cur = input;
            if (observer != null) observer.see(-1, input);
            for (int i = 0; i < steps.size(); i++) {
                Step step = steps.get(i);
                if (step.isView()) {
                    cur = cur.reshape(Shapes.withBatch(n, step.outShape()));
                    if (observer != null) observer.see(i, cur);
                    continue;
                }
                Tensor y = i == steps.size() - 1 ? out : ws[i];
                step.run(cur, y, ws[steps.size() + i]);
                if (check) checkFinite(step, y);
                if (observer != null) observer.see(i, y);
                cur = y;
            }
            return out;
        } catch (RuntimeException e) {
            out.close();
            throw e;
        } finally {
            workspaces.giveBack(n, ws);
            if (input != x) input.close();
        }
    }

    private static void checkFinite(Step step, Tensor y) {
        if (y.dtype() != DType.F32) return;
        MemorySegment seg = y.segment();
        long n = y.numel();
        for (long i = 0; i < n; i++) {
            float v = seg.getAtIndex(ValueLayout.JAVA_FLOAT, i);
            if (!Float.isFinite(v)) {
                long per = n / y.dim(0);
                throw new NonFiniteException("layer " + step.label() + " produced " + v + " (example " + i / per + ", element " + i % per
                        + " of its output " + Arrays.toString(step.outShape()) + ")");
            }
        }
    }

    @Override
    public void close() {
        workspaces.close();
        steps.forEach(Step::close);
    }
}
