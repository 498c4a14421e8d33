package org.tessera.dist;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BiFunction;

/** Test helper: ring members on threads of this JVM, joined over loopback. */
public final class LoopbackRing {
    private LoopbackRing() {}

    /**
     * Runs {@code body(rank, communicator)} on {@code n} joined members at once; returns their results by rank.
     *
     * @param tokens each member's token, or null for one shared token
     */
    public static <T> List<T> run(int n, byte[] token, byte[][] tokens, Duration timeout, BiFunction<Integer, Communicator, T> body) throws Exception {
        List<TcpRing> rings = new ArrayList<>();
        List<InetSocketAddress> addresses = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            rings.add(TcpRing.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)));
            addresses.add(rings.get(r).address());
        }
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (int r = 0; r < n; r++) {
                int rank = r;
                futures.add(pool.submit(() -> {
                    try (Communicator c = rings.get(rank).join(rank, addresses, tokens == null ? token : tokens[rank], timeout)) {
                        return body.apply(rank, c);
                    }
                }));
            }
            List<T> results = new ArrayList<>();
            for (Future<T> f : futures) results.add(f.get());
            return results;
        } finally {
            pool.shutdownNow();
            rings.forEach(TcpRing::close);
        }
    }
}
