package org.tessera.nn;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.tessera.Tensor;

/**
 * The intermediate activations of a plan, one set per concurrent call and batch size, reused across calls:
 * a thread takes a set, runs, and gives it back, so predict allocates only its output once warm. At most
 * {@value #MAX_SIZES} batch sizes are kept; a new size beyond that drops the idle sets.
 */
final class Workspaces implements AutoCloseable {
    static final int MAX_SIZES = 8;

    private final List<Step> steps;
    private final Map<Long, ConcurrentLinkedQueue<Tensor[]>> idle = new ConcurrentHashMap<>();

    Workspaces(List<Step> steps) {
        this.steps = steps;
    }

    /**
     * For batch n: [i] the output of step i (all but the last step and views), [steps + i] step i's scratch
     * (or null).
     */
    Tensor[] take(long n) {
        ConcurrentLinkedQueue<Tensor[]> q = idle.get(n);
        Tensor[] set = q == null ? null : q.poll();
        if (set != null) return set;
        if (q == null && idle.size() >= MAX_SIZES) clearIdle();
        set = new Tensor[2 * steps.size()];
        try {
            for (int i = 0; i < steps.size(); i++) {
                Step s = steps.get(i);
                if (i < steps.size() - 1 && !s.isView()) set[i] = Tensor.allocate(s.outType(), Shapes.withBatch(n, s.outShape()));
                if (s.scratch() > 0) set[steps.size() + i] = Tensor.allocate(org.tessera.kernels.DType.F32, n * s.scratch());
            }
        } catch (RuntimeException e) {
            release(set);
            throw e;
        }
        return set;
    }

    void giveBack(long n, Tensor[] set) {
        idle.computeIfAbsent(n, k -> new ConcurrentLinkedQueue<>()).add(set);
    }

    private void clearIdle() {
        for (ConcurrentLinkedQueue<Tensor[]> q : idle.values()) {
            for (Tensor[] set; (set = q.poll()) != null; ) release(set);
        }
        idle.clear();
    }

    private static void release(Tensor[] set) {
        for (Tensor t : set) if (t != null) t.close();
    }

    @Override
    public void close() {
        clearIdle();
    }
}
