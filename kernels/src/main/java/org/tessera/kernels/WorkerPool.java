package org.tessera.kernels;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

/**
 * The library's one thread pool: {@code threads - 1} daemon workers plus the calling thread, created
 * once (size from {@code tessera.threads}) and shared by every kernel of every backend. No threads are
 * created per call.
 *
 * <p>{@link #parallelFor} runs one job at a time. A call that finds the pool busy (another Java thread's
 * job), or that comes from a worker (nested parallelism), runs its tasks on the calling thread: concurrent
 * callers never wait for each other and can never deadlock. They can oversubscribe the cores, though: two
 * application threads on two cores, one of them running a job with the pool's worker, make three busy threads.
 * Threads that each own a core (Spark tasks) run their kernels {@link #inline} instead. Each parallel call
 * allocates one small job object; nothing else.
 */
public final class WorkerPool {
    /** One unit of a parallel loop. */
    @FunctionalInterface
    public interface Task {
        /** Runs task {@code index} of {@code [0, count)}. */
        void run(int index);
    }

    /** Code that may throw a checked exception, for {@link #inline}. */
    @FunctionalInterface
    public interface Body<T, E extends Exception> {
        /** Runs the body. */
        T run() throws E;
    }

    private static volatile WorkerPool shared;
    /** Threads inside {@link #inline}: their parallel calls run on themselves. */
    private static final ThreadLocal<Boolean> INLINE = ThreadLocal.withInitial(() -> Boolean.FALSE);

    private final int threads;
    private final Thread[] workers;
    private volatile Job current;
    private volatile boolean shutdown;
    /** 0 idle, 1 running a job; guards {@link #current}. */
    private volatile int busy;

    private static final VarHandle BUSY;

    static {
        try {
            BUSY = MethodHandles.lookup().findVarHandle(WorkerPool.class, "busy", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** A pool running up to {@code threads} tasks at once (the caller counts as one). */
    public WorkerPool(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(this::workLoop, "tessera-worker-" + (i + 1));
            workers[i].start();
        }
    }

    /** The library's pool, sized by {@code tessera.threads} on first use. */
    public static WorkerPool shared() {
        WorkerPool p = shared;
        if (p == null) {
            synchronized (WorkerPool.class) {
                p = shared;
                if (p == null) shared = p = new WorkerPool(Config.fromSystemProperties().threads());
            }
        }
        return p;
    }

    /** Replaces the library's pool with one of {@code threads} threads; the old one stops when idle. */
    public static synchronized void setSharedThreads(int threads) {
        WorkerPool old = shared;
        if (old != null && old.threads == threads) return;
        shared = new WorkerPool(threads);
        if (old != null) old.shutdown();
    }

    /**
     * Runs {@code body} with every parallel call of this thread kept on this thread, for a thread that owns one
     * core while others own the rest: a Spark task with {@code spark.task.cpus=1} next to other tasks in the same
     * executor, which would otherwise add the pool's workers to the cores the tasks already fill.
     */
    public static <T, E extends Exception> T inline(Body<T, E> body) throws E {
        if (INLINE.get()) return body.run();
        INLINE.set(Boolean.TRUE);
        try {
            return body.run();
        } finally {
            INLINE.set(Boolean.FALSE);
        }
    }

    /**
     * How long a worker polls for the next job before it parks. Kernels run back to back (a model's layers, a
     * training step), and a parked worker takes tens of microseconds to wake: JMH, 2 threads, the next job
     * found spinning: depthwise 3x3 28x28x256 54 -> 60 GFLOP/s, 1x1 28x28x128 156 -> 165 (OpenMP runtimes
     * spin far longer by default).
     */
    static final long WORKER_SPIN_NANOS = 50_000;

    /**
     * How long a caller spins for its workers' last tasks before it parks (JMH, 2 threads, spinning: 1x1
     * 28x28x128 152 -> 162 GFLOP/s, depthwise 3x3 28x28x256 49-54 -> 55).
     */
    static final long CALLER_SPIN_NANOS = 50_000;

    /** How many tasks can run at once, the caller included. */
    public int threads() {
        return threads;
    }

    /**
     * Runs {@code task.run(i)} for every i in [0, count), spread over the pool; returns when all are done.
     * If tasks throw, the first exception is rethrown after every task has finished.
     */
    public void parallelFor(int count, Task task) {
        if (count <= 0) return;
        if (count == 1 || workers.length == 0 || Thread.currentThread() instanceof Worker || INLINE.get()
                || !BUSY.compareAndSet(this, 0, 1)) {
            for (int i = 0; i < count; i++) task.run(i);
            return;
        }
        Job job = new Job(task, count, Thread.currentThread());
        try {
            current = job;
            for (int i = 0, wake = Math.min(workers.length, count - 1); i < wake; i++) LockSupport.unpark(workers[i]);
            job.work();
            awaitDone(job, count);
        } finally {
            current = null;
            busy = 0;
        }
        job.rethrow();
    }

    /**
     * Waits for the workers' last tasks: spinning for up to {@link #CALLER_SPIN_NANOS} first, since they usually end
     * within microseconds of the caller's own, and a parked caller pays a second wake-up on top of the workers'.
     */
    private void awaitDone(Job job, int count) {
        long deadline = System.nanoTime() + CALLER_SPIN_NANOS;
        while (job.done() < count && System.nanoTime() - deadline < 0) Thread.onSpinWait();
        while (job.done() < count) LockSupport.park(this);
    }

    /** Splits {@code work} units into at most {@link #threads()} chunks of at least {@code minPerChunk}. */
    public int chunks(long work, long minPerChunk) {
        return (int) Math.max(1, Math.min(threads, work / Math.max(1, minPerChunk)));
    }

    private void shutdown() {
        shutdown = true;
        for (Thread t : workers) LockSupport.unpark(t);
    }

    private void workLoop() {
        Job last = null;
        long spinUntil = System.nanoTime();
        while (!shutdown) {
            Job job = current;
            if (job != null && job != last) {
                last = job;
                job.work();
                spinUntil = System.nanoTime() + WORKER_SPIN_NANOS;
            } else if (System.nanoTime() - spinUntil < 0) {
                Thread.onSpinWait();
            } else {
                LockSupport.park(this);
            }
        }
    }

    /** Marks pool threads so nested parallel calls run inline. */
    private static final class Worker extends Thread {
        Worker(Runnable body, String name) {
            super(body, name);
            setDaemon(true);
        }
    }

    /** One parallel loop. Workers that arrive late find no index left and leave. */
    private static final class Job {
        private static final VarHandle NEXT, DONE;

        static {
            try {
                MethodHandles.Lookup l = MethodHandles.lookup();
                NEXT = l.findVarHandle(Job.class, "next", int.class);
                DONE = l.findVarHandle(Job.class, "done", int.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        private final Task task;
        private final int count;
        private final Thread caller;
        @SuppressWarnings("unused") private volatile int next;
        private volatile int done;
        private volatile Throwable failure;

        Job(Task task, int count, Thread caller) {
            this.task = task;
            this.count = count;
            this.caller = caller;
        }

        int done() {
            return done;
        }

        void work() {
            int i;
            while ((i = (int) NEXT.getAndAdd(this, 1)) < count) {
                try {
                    task.run(i);
                } catch (Throwable t) {
                    if (failure == null) failure = t;
                }
                if ((int) DONE.getAndAdd(this, 1) + 1 == count) LockSupport.unpark(caller);
            }
        }

        void rethrow() {
            Throwable t = failure;
            if (t instanceof RuntimeException e) throw e;
            if (t instanceof Error e) throw e;
            if (t != null) throw new IllegalStateException(t);
        }
    }
}
