package org.tessera.dist;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;

/**
 * Starts a TCP ring {@link Communicator} in two steps, so that any rendezvous can sit between them: {@link #listen}
 * binds this member's port (port 0: any free one) and tells its {@link #address()}; the members exchange their
 * addresses (a static host list, or a scheduler's all-gather); {@link #join} then connects each member to the next
 * one in rank order and accepts the previous one.
 *
 * <p>Only peers that present the group's secret token are accepted (compared in constant time); a connection with
 * a wrong token, rank or group size is refused and the member goes on waiting for the right peer. Every wait has
 * the given timeout, so a missing peer is an error, not a hang.
 *
 * <pre>{@code
 * try (TcpRing ring = TcpRing.listen(new InetSocketAddress(host, 0))) {
 *     List<InetSocketAddress> all = exchange(ring.address());   // the rendezvous: every member's address by rank
 *     try (Communicator c = ring.join(rank, all, token, Duration.ofSeconds(30))) {
 *         c.allReduceSum(gradients);
 *     }
 * }
 * }</pre>
 */
public final class TcpRing implements AutoCloseable {
    private static final int MAGIC = 0x54535252; // "TSRR"
    private final ServerSocket server;

    private TcpRing(ServerSocket server) {
        this.server = server;
    }

    /** Binds this member's listening socket (the task's own address; never a wildcard unless asked). */
    public static TcpRing listen(InetSocketAddress bind) {
        try {
            ServerSocket s = new ServerSocket();
            s.bind(bind);
            return new TcpRing(s);
        } catch (IOException e) {
            throw new UncheckedIOException("TcpRing: cannot listen on " + bind + ": " + e.getMessage(), e);
        }
    }

    /** The address the others connect to. */
    public InetSocketAddress address() {
        return new InetSocketAddress(server.getInetAddress(), server.getLocalPort());
    }

    /**
     * Connects the ring: member {@code rank} of {@code addresses.size()}, whose own address is
     * {@code addresses.get(rank)}. Consumes the listener (closed when this returns or throws).
     *
     * @param token   the group's secret, the same in every member, at least 16 bytes
     * @param timeout for connecting and for every later step of every operation
     * @throws IllegalArgumentException for a bad rank, token or timeout
     * @throws UncheckedIOException     when a peer cannot be reached or does not join in time
     */
    public Communicator join(int rank, List<InetSocketAddress> addresses, byte[] token, Duration timeout) {
        int size = addresses.size();
        if (rank < 0 || rank >= size) throw new IllegalArgumentException("rank " + rank + " is outside [0, " + size + ")");
        if (token == null || token.length < 16) throw new IllegalArgumentException("the token must have at least 16 bytes (a random secret shared by the group)");
        if (timeout.isNegative() || timeout.isZero() || timeout.toMillis() > Integer.MAX_VALUE) throw new IllegalArgumentException("timeout must be positive, got " + timeout);
        int ms = (int) timeout.toMillis();
        try (server) {
            if (size == 1) return new RingCommunicator(0, 1, null, null, ms);
            int next = (rank + 1) % size, prev = (rank + size - 1) % size;
            long deadline = System.nanoTime() + timeout.toNanos();
            Socket out = connect(addresses.get(next), deadline, next);
            try {
                DataOutputStream hello = new DataOutputStream(out.getOutputStream());
                hello.writeInt(MAGIC);
                hello.writeInt(rank);
                hello.writeInt(size);
                hello.writeInt(token.length);
                hello.write(token);
                hello.flush();
                // accept the previous member before reading the next one's answer: with two members each waits on the other
                Socket in = accept(prev, size, token, deadline);
                try {
                    out.setSoTimeout(remainingMs(deadline, next));
                    int ack = out.getInputStream().read();
                    if (ack != 1) throw new IOException("rank " + next + " at " + addresses.get(next) + " refused this member (token, rank or group size differ)");
                    out.setSoTimeout(ms);
                    in.setSoTimeout(ms);
                    out.setTcpNoDelay(true);
                    return new RingCommunicator(rank, size, in, out, ms);
                } catch (IOException | RuntimeException e) {
                    in.close();
                    throw e;
                }
            } catch (IOException | RuntimeException e) {
                out.close();
                throw e;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("TcpRing: rank " + rank + " of " + size + " could not join: " + e.getMessage(), e);
        }
    }

    private static Socket connect(InetSocketAddress to, long deadline, int peer) throws IOException {
        while (true) {
            Socket s = new Socket();
            try {
                s.connect(to, remainingMs(deadline, peer));
                return s;
            } catch (IOException e) {
                s.close();
                if (e instanceof SocketTimeoutException || System.nanoTime() > deadline) throw new IOException("rank " + peer + " at " + to + " did not answer in time", e);
                try {
                    Thread.sleep(50); // not listening yet: try again until the deadline
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while connecting to rank " + peer, ie);
                }
            }
        }
    }

    /** The previous member's connection; connections that do not present the group's token, rank and size are refused. */
    private Socket accept(int prev, int size, byte[] token, long deadline) throws IOException {
        while (true) {
            server.setSoTimeout(remainingMs(deadline, prev));
            Socket s;
            try {
                s = server.accept();
            } catch (SocketTimeoutException e) {
                throw new IOException("rank " + prev + " did not connect in time", e);
            }
            try {
                s.setSoTimeout(remainingMs(deadline, prev));
                DataInputStream in = new DataInputStream(s.getInputStream());
                boolean ok = in.readInt() == MAGIC & in.readInt() == prev & in.readInt() == size;
                int length = in.readInt();
                ok &= length == token.length;
                byte[] presented = ok ? in.readNBytes(length) : new byte[0];
                ok &= MessageDigest.isEqual(presented, token);
                if (ok) {
                    s.getOutputStream().write(1);
                    s.getOutputStream().flush();
                    return s;
                }
                s.getOutputStream().write(0);
            } catch (IOException e) {
                // a stranger or a broken hello: refuse it and keep waiting for the previous member
            }
            s.close();
        }
    }

    private static int remainingMs(long deadline, int peer) throws IOException {
        long left = (deadline - System.nanoTime()) / 1_000_000;
        if (left <= 0) throw new IOException("timed out waiting for rank " + peer);
        return (int) Math.min(Integer.MAX_VALUE, left);
    }

    /** Closes the listening socket (a member that never joins). */
    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException e) {
            // nothing left to release
        }
    }
}
