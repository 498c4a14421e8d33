package org.tessera;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.tessera.kernels.DType;
import org.tessera.kernels.spi.Int8Input;
import org.tessera.kernels.spi.Int8Output;
import org.tessera.testing.Int8Reference;
import org.tessera.testing.SeededRandom;

/**
 * The quantized matmul through tensors on the automatic choice and on each host backend: an [out][in]
 * weight tensor read through its transposed view, strided activations, every output type, bit-exact
 * against the integer reference; dtype, shape and backend mismatches are exceptions.
 */
@ExtendWith(SeededRandom.class)
class QuantizedMatmulTest {
    static Stream<String> backends() {
        return Stream.of("auto", "java", "native");
    }

    private static Ops ops(String name) {
        if (name.equals("auto")) return Ops.auto();
        assumeTrue(Tessera.backend(name).availability().available(), name + " unavailable here");
        return Ops.on(name);
    }

    @ParameterizedTest
    @MethodSource("backends")
    void everyOutputTypeMatchesTheReference(String backend, SplittableRandom rnd) {
        Ops ops = ops(backend);
        int m = 13, k = 71, n = 37;
        byte[] wOutIn = new byte[n * k], wKn = new byte[k * n], a = new byte[m * (k + 5)];
        for (int j = 0; j < n; j++) {
            for (int p = 0; p < k; p++) wKn[p * n + j] = wOutIn[j * k + p] = (byte) (rnd.nextInt(256) - 128);
        }
        for (int i = 0; i < a.length; i++) a[i] = (byte) rnd.nextInt(256);
        float[] scales = new float[n], bias = new float[n];
        for (int j = 0; j < n; j++) {
            scales[j] = 0.001f + 0.01f * rnd.nextFloat();
            bias[j] = rnd.nextFloat() * 10 - 5;
        }
        Int8Input aq = Int8Input.u8(0.02f, 117);
        try (Tensor wt = Tensor.of(DType.S8, wOutIn, n, k); Tensor wide = Tensor.of(DType.U8, a, m, k + 5);
             Tensor biasT = Tensor.of(bias, n); PackedInt8Matrix pw = ops.packInt8(wt.t(), scales)) {
            Tensor x = wide.slice(1, 2, 2 + k); // row stride k + 5: read in place
            int[] acc = new int[m * n];
            byte[] compact = new byte[m * k];
            for (int i = 0; i < m; i++) System.arraycopy(a, i * (k + 5) + 2, compact, i * k, k);
            acc = Int8Reference.accumulate(m, n, k, compact, 0, k, aq, wKn);
            for (Int8Output out : new Int8Output[] {Int8Output.s32(), Int8Output.f32(true), Int8Output.u8(0.5f, 10, true), Int8Output.s8(0.3f, -3, false)}) {
                try (Tensor y = ops.matmul(x, aq, pw, out, out.takesBias() ? biasT : null)) {
                    assertEquals(out.type(), y.dtype());
                    for (int i = 0; i < m; i++) {
                        for (int j = 0; j < n; j++) {
                            int e = acc[i * n + j];
                            float b = out.takesBias() ? bias[j] : 0f;
                            String at = out + " at (" + i + ", " + j + ")";
                            switch (out.type()) {
                                case S32 -> assertEquals(e, y.getInt(i, j), at);
                                case F32 -> assertEquals(Int8Reference.dequantize(e, aq.scale(), scales[j], b, true), y.getFloat(i, j), 0f, at);
                                default -> assertEquals(Int8Reference.requantize(e, aq.scale(), scales[j], b, out), y.getInt(i, j), at);
                            }
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void mismatchesAreExceptions(String backend) {
        Ops ops = ops(backend);
        try (Tensor w = Tensor.allocate(DType.S8, 4, 3); Tensor a = Tensor.allocate(DType.U8, 2, 4); Tensor af = Tensor.allocate(DType.F32, 2, 4);
             Tensor a5 = Tensor.allocate(DType.U8, 2, 5); PackedInt8Matrix pw = ops.packInt8(w, 1f)) {
            Int8Input aq = Int8Input.u8(1f, 0);
            assertThrows(IllegalArgumentException.class, () -> ops.packInt8(af, 1f), "F32 weights");
            assertThrows(IllegalArgumentException.class, () -> ops.matmul(af, aq, pw, Int8Output.s32(), null), "F32 activations");
            assertThrows(IllegalArgumentException.class, () -> ops.matmul(a, Int8Input.s8(1f, 0), pw, Int8Output.s32(), null), "S8 declared, U8 given");
            assertThrows(IllegalArgumentException.class, () -> ops.matmul(a5, aq, pw, Int8Output.s32(), null), "k mismatch");
            try (Tensor wrong = Tensor.allocate(DType.F32, 2, 3)) {
                assertThrows(IllegalArgumentException.class, () -> ops.matmul(a, aq, pw, Int8Output.s32(), null, wrong), "result dtype");
            }
            String other = pw.backend().name().equals("java") ? "native" : "java";
            if (Tessera.backend(other).availability().available()) {
                assertThrows(IllegalArgumentException.class, () -> Ops.on(other).matmul(a, aq, pw, Int8Output.s32(), null), "packed elsewhere");
            }
            pw.close();
            assertThrows(IllegalStateException.class, () -> ops.matmul(a, aq, pw, Int8Output.s32(), null), "closed weights");
        }
    }
}
