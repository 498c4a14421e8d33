package org.tessera;

import org.tessera.kernels.spi.PackedSparse;

/**
 * When a pruned layer runs faster on the sparse kernels than on the dense GEMM: the crossover sparsities
 * measured by {@code SparseBench} on AVX2 (bench/RESULTS.md, "Sparse"), by structure and batch width m. Below
 * the crossover a layer keeps the dense GEMM, so pruning never makes a model slower.
 *
 * <ul>
 *   <li>blocks of 4 rows (bsr4xN): m = 1: 85%; m >= 2: 60% (measured: 1.0-1.2x at 50-60%, 1.0-2.6x at 70%).</li>
 *   <li>unstructured (CSR, N:M, other blocks): m = 1: 90%; m >= 2: 85% (at m = 64 CSR wins from ~60%, at
 *       m = 256 only from ~85%: X no longer fits L2, and one threshold must hold for both).</li>
 * </ul>
 * The thresholds are deliberately on the safe side: a layer just above one gains little, one wrongly below
 * it would lose.
 */
public final class SparseCrossover {
    private SparseCrossover() {}

    /** The sparsity from which the sparse kernel wins, for blocks of br rows and batch width m. */
    public static double threshold(int br, int m) {
        boolean blocked = br >= 4;
        if (m <= 1) return blocked ? 0.85 : 0.90;
        return blocked ? 0.60 : 0.85;
    }

    /** Whether weights with this block height and sparsity should run sparse at batch width m. */
    public static boolean useSparse(int br, double sparsity, int m) {
        return sparsity >= threshold(br, m);
    }

    static boolean useSparse(PackedSparse p, int m) {
        long size = (long) p.n() * p.k();
        return useSparse(p.br(), size == 0 ? 1 : 1.0 - (double) p.nonZeros() / size, m);
    }
}
