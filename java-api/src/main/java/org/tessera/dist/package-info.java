/**
 * Communication among training processes: a {@link org.tessera.dist.Communicator} (rank, size, all-reduce,
 * broadcast, barrier) and its TCP ring implementation, {@link org.tessera.dist.TcpRing}, which any rendezvous
 * can start: a static list of addresses for tests and plain clusters, or a cluster scheduler's own exchange.
 */
package org.tessera.dist;
