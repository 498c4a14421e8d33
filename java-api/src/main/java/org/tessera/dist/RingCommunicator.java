package org.tessera.dist;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The collectives over a ring of sockets: this member sends to the next rank and receives from the previous
 * one. All-reduce is reduce-scatter then all-gather (each member sends and receives 2 (size - 1) / size of the
 * data), in pieces of at most {@link #PIECE} floats so that sending, receiving and adding overlap. A sender thread
 * (started once, here) writes while the caller reads, so neighbours sending to each other cannot deadlock on
 * full socket buffers; steps hand pieces to it without allocating.
 */
final class RingCommunicator implements Communicator {
    static final int PIECE = 64 * 1024;

    private final int rank, size, timeoutMs;
    private final Socket in, out;
    private final DataInputStream input;
    private final OutputStream output;
    private final byte[] sendBytes = new byte[4 * PIECE], recvBytes = new byte[4 * PIECE];
    private final FloatBuffer sendFloats, recvFloats;
    private final float[] barrierScratch;
    private final Thread sender;
    private final Semaphore sendReady = new Semaphore(0), sendDone = new Semaphore(0);
    private volatile int sendLength;
    private volatile IOException sendError;
    private volatile boolean closed;
    private String failure;

    RingCommunicator(int rank, int size, Socket in, Socket out, int timeoutMs) throws IOException {
        this.rank = rank;
        this.size = size;
        this.timeoutMs = timeoutMs;
        this.in = in;
        this.out = out;
        this.input = in == null ? null : new DataInputStream(in.getInputStream());
        this.output = out == null ? null : out.getOutputStream();
        this.sendFloats = ByteBuffer.wrap(sendBytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        this.recvFloats = ByteBuffer.wrap(recvBytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        this.barrierScratch = new float[size];
        if (size > 1) {
            sender = new Thread(this::sendLoop, "tessera-ring-sender-" + rank);
            sender.setDaemon(true);
            sender.start();
        } else {
            sender = null;
        }
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public void allReduceSum(float[] data) {
        check();
        if (size == 1) return;
        try {
            // reduce-scatter: after step s, the chunk received has s + 2 members' terms; chunk c sums in the order c, c+1, ...
            for (int s = 0; s < size - 1; s++) {
                int sendChunk = Math.floorMod(rank - s, size), recvChunk = Math.floorMod(rank - s - 1, size);
                exchange(data, sendChunk, recvChunk, true, s);
            }
            // all-gather: pass the finished chunks around
            for (int s = 0; s < size - 1; s++) {
                int sendChunk = Math.floorMod(rank + 1 - s, size), recvChunk = Math.floorMod(rank - s, size);
                exchange(data, sendChunk, recvChunk, false, size - 1 + s);
            }
        } catch (IOException e) {
            throw fail("all-reduce", e);
        }
    }

    @Override
    public void broadcast(float[] data, int root) {
        check();
        if (root < 0 || root >= size) throw new IllegalArgumentException("root " + root + " is outside [0, " + size + ")");
        if (size == 1) return;
        int next = (rank + 1) % size;
        try {
            for (int off = 0; off < data.length; off += PIECE) {
                int len = Math.min(PIECE, data.length - off);
                if (rank != root) {
                    receive(len);
                    recvFloats.get(0, data, off, len);
                }
                if (next != root) {
                    send(data, off, len);
                    awaitSend();
                }
            }
        } catch (IOException e) {
            throw fail("broadcast", e);
        }
    }

    @Override
    public void barrier() {
        allReduceSum(barrierScratch); // one float per chunk: every step carries a message
    }

    /** Step {@code step}: sends chunk {@code sendChunk} to the next rank while receiving {@code recvChunk} from the previous one. */
    private void exchange(float[] data, int sendChunk, int recvChunk, boolean add, int step) throws IOException {
        int sendFrom = chunkStart(data.length, sendChunk), sendTo = chunkStart(data.length, sendChunk + 1);
        int recvFrom = chunkStart(data.length, recvChunk), recvTo = chunkStart(data.length, recvChunk + 1);
        int pieces = Math.max(pieces(sendTo - sendFrom), pieces(recvTo - recvFrom));
        for (int p = 0; p < pieces; p++) {
            int sOff = sendFrom + p * PIECE, sLen = Math.max(0, Math.min(PIECE, sendTo - sOff));
            int rOff = recvFrom + p * PIECE, rLen = Math.max(0, Math.min(PIECE, recvTo - rOff));
            send(data, sOff, sLen);
            try {
                receive(rLen);
            } catch (IOException e) {
                throw new IOException("step " + step + ": " + e.getMessage(), e);
            }
            if (add) {
                for (int i = 0; i < rLen; i++) data[rOff + i] = recvFloats.get(i) + data[rOff + i];
            } else {
                recvFloats.get(0, data, rOff, rLen);
            }
            awaitSend();
        }
    }

    /** Chunk c of n elements split as evenly as possible among the members. */
    private int chunkStart(int n, int c) {
        return (int) ((long) n * c / size);
    }

    private static int pieces(int length) {
        return (length + PIECE - 1) / PIECE;
    }

    private void send(float[] data, int off, int len) {
        sendFloats.put(0, data, off, len);
        sendLength = len;
        sendReady.release();
    }

    private void awaitSend() throws IOException {
        try {
            if (!sendDone.tryAcquire(timeoutMs, TimeUnit.MILLISECONDS)) {
                throw new IOException("sending to rank " + (rank + 1) % size + " timed out after " + timeoutMs + " ms (the peer stopped reading)");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        IOException e = sendError;
        if (e != null) throw new IOException("sending to rank " + (rank + 1) % size + " failed: " + e.getMessage(), e);
    }

    private void receive(int len) throws IOException {
        try {
            input.readFully(recvBytes, 0, 4 * len);
        } catch (EOFException e) {
            throw new IOException("rank " + Math.floorMod(rank - 1, size) + " closed the connection (it failed or closed its communicator)", e);
        } catch (java.net.SocketTimeoutException e) {
            throw new IOException("rank " + Math.floorMod(rank - 1, size) + " sent nothing for " + timeoutMs + " ms", e);
        }
    }

    private void sendLoop() {
        while (true) {
            try {
                sendReady.acquire();
            } catch (InterruptedException e) {
                return;
            }
            if (closed) return;
            try {
                output.write(sendBytes, 0, 4 * sendLength);
                output.flush();
            } catch (IOException e) {
                sendError = e;
            }
            sendDone.release();
        }
    }

    private void check() {
        if (failure != null) throw new IllegalStateException("communicator of rank " + rank + " was closed by an earlier failure: " + failure);
        if (closed) throw new IllegalStateException("communicator of rank " + rank + " is closed");
    }

    private UncheckedIOException fail(String op, IOException e) {
        failure = op + " on rank " + rank + " of " + size + ": " + e.getMessage();
        close(); // the neighbours blocked on this member fail too, around the ring
        return new UncheckedIOException(failure, e);
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        if (sender != null) sender.interrupt();
        for (Socket s : new Socket[] {in, out}) {
            if (s == null) continue;
            try {
                s.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }
}
