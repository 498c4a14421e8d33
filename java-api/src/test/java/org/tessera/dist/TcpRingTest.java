package org.tessera.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;



import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.tessera.testing.SeededRandom;

/** The TCP ring's collectives among members on threads of this JVM (loopback), bit for bit, and its failures. */
@ExtendWith(SeededRandom.class)
class TcpRingTest {
    private static final byte[] TOKEN = "0123456789abcdef-group-secret".getBytes();
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    static <T> List<T> onRing(int n, byte[][] tokens, Duration timeout, BiFunction<Integer, Communicator, T> body) throws Exception {
        return LoopbackRing.run(n, TOKEN, tokens, timeout, body);
    }

    /** The sum the ring computes: element i of chunk c adds the members' terms in the order c, c + 1, ... (mod n). */
    static float[] ringOrderSum(float[][] terms) {
        int n = terms.length, len = terms[0].length;
        float[] sum = new float[len];
        for (int c = 0; c < n; c++) {
            for (int i = (int) ((long) len * c / n); i < (int) ((long) len * (c + 1) / n); i++) {
                float s = terms[c][i];
                for (int t = 1; t < n; t++) s = terms[(c + t) % n][i] + s;
                sum[i] = s;
            }
        }
        return sum;
    }

    @Test
    void allReduceSumsBitForBitInEveryMember(SplittableRandom rnd) throws Exception {
        int piece = RingCommunicator.PIECE;
        for (int n : new int[] {1, 2, 3}) {
            for (int len : new int[] {0, 1, 7, 10, 2 * piece + 5, 3 * piece * n + 1}) {
                long seed = rnd.nextLong();
                float[][] terms = new float[n][len];
                for (int r = 0; r < n; r++) {
                    SplittableRandom g = new SplittableRandom(seed + r);
                    for (int i = 0; i < len; i++) terms[r][i] = (float) (g.nextDouble() * 2 - 1);
                }
                float[] expected = ringOrderSum(terms);
                List<float[]> out = onRing(n, null, TIMEOUT, (rank, c) -> {
                    assertEquals(rank, c.rank());
                    assertEquals(n, c.size());
                    float[] data = terms[rank].clone();
                    c.allReduceSum(data);
                    return data;
                });
                for (int r = 0; r < n; r++) assertArrayEquals(expected, out.get(r), "n=" + n + " len=" + len + " rank " + r);
                for (int i = 0; i < len; i++) {
                    double exact = 0;
                    for (float[] t : terms) exact += t[i];
                    assertEquals(exact, expected[i], 1e-5 * n, "the ring's sum is the sum");
                }
            }
        }
    }

    @Test
    void fiftyMegabytesAmongThree() throws Exception {
        int len = 50 * 1024 * 1024 / 4;
        List<float[]> out = onRing(3, null, TIMEOUT, (rank, c) -> {
            float[] data = new float[len];
            java.util.Arrays.fill(data, rank + 1);
            data[len - 1] = 10 * rank;
            c.allReduceSum(data);
            return new float[] {data[0], data[len / 2], data[len - 1]};
        });
        for (float[] r : out) assertArrayEquals(new float[] {6, 6, 30}, r);
    }

    @Test
    void broadcastAndBarrier(SplittableRandom rnd) throws Exception {
        float[] root = new float[RingCommunicator.PIECE + 3];
        for (int i = 0; i < root.length; i++) root[i] = (float) rnd.nextDouble();
        List<float[]> out = onRing(3, null, TIMEOUT, (rank, c) -> {
            float[] data = rank == 1 ? root.clone() : new float[root.length];
            c.barrier();
            c.broadcast(data, 1);
            c.barrier();
            assertThrows(IllegalArgumentException.class, () -> c.broadcast(data, 3));
            return data;
        });
        for (float[] r : out) assertArrayEquals(root, r);
    }

    @Test
    void aWrongTokenIsRefused() {
        byte[] wrong = "0123456789abcdef-not-the-secret".getBytes();
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> onRing(2, new byte[][] {TOKEN, wrong}, Duration.ofSeconds(2), (rank, c) -> rank));
        assertInstanceOf(UncheckedIOException.class, e.getCause());
        String message = e.getCause().getMessage();
        assertTrue(message.contains("could not join") && message.contains("rank 1"), message);
    }

    @Test
    void aPeerThatDiesMidRunFailsTheOthersInsteadOfHangingThem() {
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            List<String> outcome = onRing(3, null, Duration.ofSeconds(5), (rank, c) -> {
                if (rank == 2) {
                    c.close(); // dies before the step
                    return "closed";
                }
                float[] data = new float[4 * RingCommunicator.PIECE];
                UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> c.allReduceSum(data));
                assertThrows(IllegalStateException.class, () -> c.allReduceSum(data), "unusable after a failure");
                return e.getMessage();
            });
            assertTrue(outcome.get(0).contains("all-reduce on rank 0"), outcome.get(0));
            assertTrue(outcome.get(1).contains("all-reduce on rank 1"), outcome.get(1));
        });
    }

    @Test
    void badArgumentsAreClearErrors() {
        try (TcpRing ring = TcpRing.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            List<InetSocketAddress> one = List.of(ring.address());
            assertThrows(IllegalArgumentException.class, () -> ring.join(1, one, TOKEN, TIMEOUT), "rank 1 of 1");
            assertThrows(IllegalArgumentException.class, () -> ring.join(0, one, new byte[8], TIMEOUT), "short token");
            assertThrows(IllegalArgumentException.class, () -> ring.join(0, one, TOKEN, Duration.ZERO), "no timeout");
        }
    }
}
