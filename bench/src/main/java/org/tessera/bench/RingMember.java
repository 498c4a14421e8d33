package org.tessera.bench;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.tessera.dist.Communicator;
import org.tessera.dist.TcpRing;

/**
 * One ring member in its own JVM, for {@link AllReduceBench}'s {@code processes} mode: prints the port it
 * listens on, reads every member's {@code host:port} (one line, comma-separated) from stdin, joins, then
 * all-reduces {@code floats} floats again and again until the ring closes.
 * Arguments: rank, hex token, floats.
 */
public final class RingMember {
    private RingMember() {}

    public static void main(String[] args) throws Exception {
        int rank = Integer.parseInt(args[0]), floats = Integer.parseInt(args[2]);
        byte[] token = HexFormat.of().parseHex(args[1]);
        try (TcpRing listener = TcpRing.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            System.out.println("PORT " + listener.address().getPort());
            System.out.flush();
            String line = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII)).readLine();
            List<InetSocketAddress> addresses = new ArrayList<>();
            for (String a : line.split(",")) addresses.add(new InetSocketAddress(InetAddress.getLoopbackAddress(), Integer.parseInt(a.substring(a.lastIndexOf(':') + 1))));
            try (Communicator c = listener.join(rank, addresses, token, Duration.ofSeconds(30))) {
                float[] mine = new float[floats];
                while (true) c.allReduceSum(mine);
            } catch (RuntimeException closed) {
                // rank 0 closed the ring: the benchmark is over
            }
        }
    }
}
