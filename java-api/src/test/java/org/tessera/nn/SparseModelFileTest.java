package org.tessera.nn;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.tessera.Tensor;
import org.tessera.io.Json;
import org.tessera.io.SafetensorsFile;
import org.tessera.io.SafetensorsWriter;
import org.tessera.kernels.DType;
import org.tessera.testing.KernelAssertions;
import org.tessera.testing.SeededRandom;

/** Pruned weights stored as CSR: bit-exact round trips, smaller files, and corrupt index arrays rejected. */
@ExtendWith(SeededRandom.class)
class SparseModelFileTest {
    @TempDir
    Path dir;

    /** Conv 60% zeros, hidden linear 90%, last linear all zeros but one row, and one dense weight. */
    private static Sequential pruned(SplittableRandom rnd) {
        Sequential m = Sequential.builder(9, 7, 3).seed(rnd.nextLong()).conv2d(8, 3, 1).relu().flatten().linear(37).relu().linear(5).relu().linear(4).build();
        zero(m.parameters().get("0.weight"), 0.6, rnd);
        zero(m.parameters().get("3.weight"), 0.9, rnd);
        zero(m.parameters().get("5.weight"), 1.0, rnd);
        return m;
    }

    private static void zero(Tensor w, double fraction, SplittableRandom rnd) {
        float[] v = w.toFloatArray();
        for (int i = 0; i < v.length; i++) if (fraction >= 1 || rnd.nextDouble() < fraction) v[i] = 0f;
        if (fraction >= 1) v[v.length - 1] = 0.5f; // one value in the last row
        w.copyFrom(v);
    }

    @Test
    void prunedWeightsRoundTripBitExactInAFractionOfTheBytes(SplittableRandom rnd) throws IOException {
        Path dense = dir.resolve("dense.safetensors"), sparse = dir.resolve("sparse.safetensors");
        try (Sequential m = pruned(rnd)) {
            ModelFile.save(m, dense);
            ModelFile.saveSparse(m, sparse);
            try (SafetensorsFile f = SafetensorsFile.open(sparse)) {
                Object listed = Json.parse(f.metadata().get(ModelFile.SPARSE_KEY));
                assertTrue(listed instanceof Map<?, ?> l && l.keySet().equals(java.util.Set.of("0.weight", "3.weight", "5.weight")), String.valueOf(listed));
                assertTrue(f.contains("7.weight") && !f.contains("3.weight") && f.contains("3.weight" + CsrWeights.VALUES));
            }
            assertTrue(Files.size(sparse) < 0.4 * Files.size(dense), Files.size(sparse) + " vs " + Files.size(dense) + " bytes");
            for (Path p : new Path[] {sparse, dense}) {
                try (Sequential back = ModelFile.load(p)) {
                    for (var e : m.parameters().entrySet()) KernelAssertions.assertExact(p + " " + e.getKey(), e.getValue().toFloatArray(), back.parameters().get(e.getKey()).toFloatArray());
                }
            }
            try (Sequential other = pruned(new SplittableRandom(1))) {
                ModelFile.loadWeights(other, sparse);
                for (var e : m.parameters().entrySet()) KernelAssertions.assertExact(e.getKey(), e.getValue().toFloatArray(), other.parameters().get(e.getKey()).toFloatArray());
            }
        }
    }

    /** A file holding one 3 x 4 sparse weight "w" with these index arrays. */
    private Path csrFile(float[] values, int[] columns, int[] offsets) throws IOException {
        Path p = dir.resolve("hostile.safetensors");
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("w" + CsrWeights.VALUES, Tensor.of(values, values.length));
        t.put("w" + CsrWeights.COLUMNS, ints(columns));
        t.put("w" + CsrWeights.OFFSETS, ints(offsets));
        SafetensorsWriter.write(p, t, Map.of());
        t.values().forEach(Tensor::close);
        return p;
    }

    private static Tensor ints(int[] a) {
        Tensor t = Tensor.allocate(DType.S32, a.length);
        for (int i = 0; i < a.length; i++) t.segment().setAtIndex(ValueLayout.JAVA_INT, i, a[i]);
        return t;
    }

    private String decodeError(float[] values, int[] columns, int[] offsets) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(csrFile(values, columns, offsets))) {
            return assertThrows(IOException.class, () -> CsrWeights.decode(f, "w", new long[] {3, 4})).getMessage();
        }
    }

    @Test
    void corruptIndexArraysAreErrorsNotOutOfBoundsWrites() throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(csrFile(new float[] {1, 2, 3}, new int[] {0, 3, 1}, new int[] {0, 2, 2, 3}))) {
            KernelAssertions.assertExact("a good file", new float[] {1, 0, 0, 2, 0, 0, 0, 0, 0, 3, 0, 0}, CsrWeights.decode(f, "w", new long[] {3, 4}));
        }
        assertTrue(decodeError(new float[] {1, 2, 3}, new int[] {0, 4, 1}, new int[] {0, 2, 2, 3}).contains("column index 4"));
        assertTrue(decodeError(new float[] {1, 2, 3}, new int[] {0, -1, 1}, new int[] {0, 2, 2, 3}).contains("column index -1"));
        assertTrue(decodeError(new float[] {1, 2, 3}, new int[] {2, 1, 1}, new int[] {0, 2, 2, 3}).contains("out of order"));
        assertTrue(decodeError(new float[] {1, 2, 3}, new int[] {0, 3, 1}, new int[] {0, 2, 1, 3}).contains("decrease or pass 3 at row 1"));
        assertTrue(decodeError(new float[] {1, 2, 3}, new int[] {0, 3, 1}, new int[] {0, 5, 1, 3}).contains("decrease or pass 3 at row 0"));
        assertTrue(decodeError(new float[] {1, 2, 3}, new int[] {0, 3, 1}, new int[] {0, 2, 2, 2}).contains("from 0 to 3"));
        assertTrue(decodeError(new float[] {1, 2, 3}, new int[] {0, 3, 1}, new int[] {0, 2, 3}).contains("do not describe a 3 x 4 matrix"));
        assertTrue(decodeError(new float[] {1, 2}, new int[] {0, 3, 1}, new int[] {0, 2, 2, 3}).contains("do not describe"));
        try (SafetensorsFile f = SafetensorsFile.open(csrFile(new float[] {1, 2, 3}, new int[] {0, 3, 1}, new int[] {0, 2, 2, 3}))) {
            IOException e = assertThrows(IOException.class, () -> CsrWeights.decodeInt8(f, "w", new long[] {3, 4}));
            assertTrue(e.getMessage().contains("values are F32, expected I8"), e.getMessage());
        }
    }

    @Test
    void aSparseEntryThatDoesNotFitTheModelSaysSo(SplittableRandom rnd) throws IOException {
        Path p = dir.resolve("sparse.safetensors");
        try (Sequential m = pruned(rnd)) {
            ModelFile.saveSparse(m, p);
        }
        try (Sequential wider = Sequential.builder(9, 7, 3).conv2d(8, 3, 1).relu().flatten().linear(38).relu().linear(5).relu().linear(4).build()) {
            IOException e = assertThrows(IOException.class, () -> ModelFile.loadWeights(wider, p));
            assertTrue(e.getMessage().contains("3.weight") && e.getMessage().contains("[37, "), e.getMessage());
        }
    }
}
