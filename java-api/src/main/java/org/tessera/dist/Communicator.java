package org.tessera.dist;

/**
 * A fixed group of {@link #size()} processes, each with a {@link #rank()} in {@code [0, size)}, that take part in
 * collective operations together: every member calls the same operations in the same order with arrays of the
 * same length. A failure (a peer that died, a timeout) throws in every member that notices it and closes the
 * communicator; later calls throw {@link IllegalStateException}. Not thread-safe: one caller thread per member.
 */
public interface Communicator extends AutoCloseable {
    /** This member's index, in {@code [0, size)}. */
    int rank();

    /** Members in the group. */
    int size();

    /**
     * Replaces {@code data} in every member by the element-wise sum over all members. The sum of each element is
     * taken in one fixed order that depends only on the size, so every member gets the same bits, run after run.
     *
     * @throws java.io.UncheckedIOException naming the peer, when a peer fails or a step times out
     */
    void allReduceSum(float[] data);

    /** Copies {@code data} of member {@code root} into {@code data} of every member. */
    void broadcast(float[] data, int root);

    /** Returns once every member has called it. */
    void barrier();

    /** Closes the connections; peers blocked in an operation with this member fail (not hang). */
    @Override
    void close();
}
