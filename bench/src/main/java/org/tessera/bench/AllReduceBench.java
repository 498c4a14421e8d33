package org.tessera.bench;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.tessera.dist.Communicator;
import org.tessera.dist.TcpRing;

/**
 * All-reduce (sum) of {@code mb} MiB of floats among {@code members} ring members on loopback, as data-parallel
 * training runs it once per step. The benchmark thread is rank 0; the other ranks loop on their own threads
 * ({@code where=threads}) or in their own JVMs ({@code where=processes}, {@link RingMember}: as Spark executors
 * would), so a call returns when all of them took part. {@link BenchMain} reports GB/s of data reduced.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1)
public class AllReduceBench {
    @Param({"1", "4", "16"})
    public int mb;

    @Param({"2", "3"})
    public int members;

    @Param({"threads", "processes"})
    public String where;

    private final List<Process> processes = new ArrayList<>();
    private final List<Communicator> ring = new ArrayList<>();
    private final List<Thread> others = new ArrayList<>();
    private float[] data;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        byte[] token = new byte[32];
        new java.security.SecureRandom().nextBytes(token);
        if (where.equals("processes")) {
            startProcesses(token);
            return;
        }
        List<TcpRing> listeners = new ArrayList<>();
        List<InetSocketAddress> addresses = new ArrayList<>();
        for (int r = 0; r < members; r++) {
            listeners.add(TcpRing.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)));
            addresses.add(listeners.get(r).address());
        }
        List<Thread> joins = new ArrayList<>();
        Communicator[] joined = new Communicator[members];
        for (int r = 0; r < members; r++) {
            int rank = r;
            Thread t = new Thread(() -> joined[rank] = listeners.get(rank).join(rank, addresses, token, Duration.ofSeconds(30)));
            t.start();
            joins.add(t);
        }
        for (Thread t : joins) t.join();
        for (Communicator c : joined) ring.add(java.util.Objects.requireNonNull(c, "a member did not join"));
        int floats = mb * 1024 * 1024 / 4;
        data = new float[floats];
        for (int r = 1; r < members; r++) {
            Communicator c = ring.get(r);
            Thread t = new Thread(() -> {
                float[] mine = new float[floats];
                try {
                    while (true) c.allReduceSum(mine);
                } catch (RuntimeException closed) {
                    // tear-down closed the ring
                }
            }, "all-reduce-member-" + r);
            t.setDaemon(true);
            t.start();
            others.add(t);
        }
    }

    @Benchmark
    public float[] allReduce() {
        ring.get(0).allReduceSum(data);
        return data;
    }

    /** Rank 0 here, ranks 1.. in child JVMs of the same classpath (the ring is plain Java: no JVM flags needed). */
    private void startProcesses(byte[] token) throws Exception {
        int floats = mb * 1024 * 1024 / 4;
        data = new float[floats];
        TcpRing mine = TcpRing.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        List<String> addresses = new ArrayList<>(List.of("127.0.0.1:" + mine.address().getPort()));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        for (int r = 1; r < members; r++) {
            List<String> cmd = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path")));
            cmd.addAll(List.of(RingMember.class.getName(), Integer.toString(r), HexFormat.of().formatHex(token), Integer.toString(floats)));
            Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            processes.add(p);
            String hello = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.US_ASCII)).readLine();
            if (hello == null || !hello.startsWith("PORT ")) throw new IllegalStateException("ring member " + r + " did not start: " + hello);
            addresses.add("127.0.0.1:" + hello.substring(5).trim());
        }
        for (Process p : processes) {
            p.getOutputStream().write((String.join(",", addresses) + "\n").getBytes(StandardCharsets.US_ASCII));
            p.getOutputStream().flush();
        }
        List<InetSocketAddress> all = new ArrayList<>();
        for (String a : addresses) all.add(new InetSocketAddress(InetAddress.getLoopbackAddress(), Integer.parseInt(a.substring(a.indexOf(':') + 1))));
        ring.add(mine.join(0, all, token, Duration.ofSeconds(30)));
    }

    @TearDown(Level.Trial)
    public void tearDown() throws InterruptedException {
        ring.forEach(Communicator::close);
        for (Thread t : others) t.join(10_000);
        for (Process p : processes) {
            if (!p.waitFor(10, TimeUnit.SECONDS)) p.destroyForcibly();
        }
    }

    /** Bytes reduced per call. */
    static double bytes(int mb) {
        return mb * 1024.0 * 1024.0;
    }
}
