package org.tessera.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class WorkerPoolTest {
    @Test
    void everyIndexRunsExactlyOnce() {
        WorkerPool pool = new WorkerPool(3);
        for (int count : new int[] {0, 1, 2, 3, 7, 100}) {
            AtomicIntegerArray hits = new AtomicIntegerArray(Math.max(count, 1));
            pool.parallelFor(count, hits::incrementAndGet);
            for (int i = 0; i < count; i++) assertEquals(1, hits.get(i), "index " + i + " of " + count);
        }
    }

    @Test
    void workersActuallyShareTheWork() throws InterruptedException {
        WorkerPool pool = new WorkerPool(2);
        Set<String> threads = ConcurrentHashMap.newKeySet();
        for (int attempt = 0; attempt < 50 && threads.size() < 2; attempt++) {
            pool.parallelFor(2, i -> {
                threads.add(Thread.currentThread().getName());
                try {
                    Thread.sleep(20); // long enough that one thread cannot take both tasks
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }
        assertEquals(2, threads.size(), "tasks ran on " + threads);
        assertTrue(threads.stream().anyMatch(n -> n.startsWith("tessera-worker-")), threads.toString());
    }

    @Test
    void inlineKeepsEveryParallelCallOnTheCallingThreadAndThenLetsGo() throws Exception {
        WorkerPool pool = new WorkerPool(2);
        Thread me = Thread.currentThread();
        Set<Thread> ran = ConcurrentHashMap.newKeySet();
        int result = WorkerPool.inline(() -> {
            for (int attempt = 0; attempt < 20; attempt++) {
                pool.parallelFor(2, i -> {
                    ran.add(Thread.currentThread());
                    try {
                        Thread.sleep(5);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
            }
            return 7;
        });
        assertEquals(7, result);
        assertEquals(Set.of(me), ran, "inside inline, only the caller runs tasks");
        assertThrows(java.io.IOException.class, () -> WorkerPool.inline(() -> {
            throw new java.io.IOException("checked exceptions pass through");
        }));
        Set<String> after = ConcurrentHashMap.newKeySet();
        for (int attempt = 0; attempt < 50 && after.size() < 2; attempt++) {
            pool.parallelFor(2, i -> {
                after.add(Thread.currentThread().getName());
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }
        assertEquals(2, after.size(), "after inline the pool shares work again: " + after);
    }

    @Test
    void firstExceptionIsRethrownAfterAllTasks() {
        WorkerPool pool = new WorkerPool(2);
        AtomicIntegerArray hits = new AtomicIntegerArray(10);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.parallelFor(10, i -> {
            hits.incrementAndGet(i);
            if (i == 3) throw new IllegalStateException("task 3");
        }));
        assertEquals("task 3", e.getMessage());
        for (int i = 0; i < 10; i++) assertEquals(1, hits.get(i));
        pool.parallelFor(4, i -> {}); // the pool still works
    }

    @Test
    void nestedCallsRunInlineWithoutDeadlock() {
        WorkerPool pool = new WorkerPool(2);
        AtomicIntegerArray hits = new AtomicIntegerArray(16);
        pool.parallelFor(4, i -> pool.parallelFor(4, j -> hits.incrementAndGet(i * 4 + j)));
        for (int i = 0; i < 16; i++) assertEquals(1, hits.get(i));
    }

    @Test
    void concurrentCallersAllComplete() throws Exception {
        WorkerPool pool = new WorkerPool(2);
        ExecutorService callers = Executors.newFixedThreadPool(8);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int c = 0; c < 64; c++) {
                results.add(callers.submit(() -> {
                    AtomicIntegerArray hits = new AtomicIntegerArray(37);
                    pool.parallelFor(37, hits::incrementAndGet);
                    int sum = 0;
                    for (int i = 0; i < 37; i++) sum += hits.get(i);
                    return sum;
                }));
            }
            for (Future<Integer> f : results) assertEquals(37, f.get());
        } finally {
            callers.shutdownNow();
        }
    }

    @Test
    void singleThreadPoolRunsOnTheCaller() {
        WorkerPool pool = new WorkerPool(1);
        Thread caller = Thread.currentThread();
        pool.parallelFor(5, i -> assertSame(caller, Thread.currentThread()));
        assertEquals(1, pool.chunks(1_000_000, 1));
    }

    @Test
    void chunksRespectTheMinimumWork() {
        WorkerPool pool = new WorkerPool(2);
        assertEquals(1, pool.chunks(100, 1000));
        assertEquals(2, pool.chunks(1_000_000, 1000));
        assertThrows(IllegalArgumentException.class, () -> new WorkerPool(0));
    }
}
