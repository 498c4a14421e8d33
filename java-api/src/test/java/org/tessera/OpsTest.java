package org.tessera;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.tessera.kernels.DType;
import org.tessera.kernels.MemoryKind;
import org.tessera.kernels.spi.Backend;
import org.tessera.kernels.spi.BinaryOp;
import org.tessera.kernels.spi.OpFamily;
import org.tessera.kernels.spi.UnaryOp;
import org.tessera.testing.KernelAssertions;
import org.tessera.testing.Reference;
import org.tessera.testing.SeededRandom;
import org.tessera.testing.TestData;

/**
 * Tensor ops on every host backend and on the automatic choice, against the references: contiguous,
 * strided, transposed and in-place operands; shape, dtype and memory errors.
 */
@ExtendWith(SeededRandom.class)
class OpsTest {
    static Stream<String> backends() {
        return Stream.of("auto", "native", "java");
    }

    /** Ops on the named backend; skips (with the reason) when it cannot run {@code family} here. */
    private static Ops ops(String name, OpFamily<?> family) {
        if (name.equals("auto")) return Ops.auto();
        Backend b = Tessera.backend(name);
        assumeTrue(b.availability().available(), name + " " + b.availability());
        assumeTrue(b.kernels(family).supported(), () -> name + ": " + b.kernels(family).reason());
        return Ops.on(b);
    }

    @ParameterizedTest
    @MethodSource("backends")
    void elementwiseOnContiguousTensors(String backend, SplittableRandom rnd) {
        Ops ops = ops(backend, OpFamily.ELEMENTWISE);
        for (long[] shape : List.of(new long[] {}, new long[] {1}, new long[] {17}, new long[] {3, 5, 33}, new long[] {2, 1, 70_001})) {
            int n = (int) Stream.of(shape).mapToLong(s -> java.util.Arrays.stream(s).reduce(1, (p, q) -> p * q)).sum();
            float[] x = TestData.floats(rnd, n), y = TestData.floats(rnd, n);
            try (Tensor tx = Tensor.of(x, shape); Tensor ty = Tensor.of(y, shape);
                 Tensor relu = ops.relu(tx); Tensor sum = ops.add(tx, ty); Tensor prod = ops.mul(tx, ty); Tensor sc = ops.scale(tx, -2f);
                 Tensor grad = ops.reluBackward(tx, ty, Tensor.allocate(DType.F32, shape))) {
                float[] e = new float[n];
                Reference.relu(1, n, x, 0, n, e, 0, n);
                KernelAssertions.assertExact("relu", e, relu.toFloatArray());
                Reference.binary(BinaryOp.ADD, 1, n, x, 0, n, y, 0, n, e, 0, n);
                KernelAssertions.assertExact("add", e, sum.toFloatArray());
                Reference.binary(BinaryOp.MUL, 1, n, x, 0, n, y, 0, n, e, 0, n);
                KernelAssertions.assertExact("mul", e, prod.toFloatArray());
                Reference.binary(BinaryOp.RELU_GRAD, 1, n, x, 0, n, y, 0, n, e, 0, n);
                KernelAssertions.assertExact("relu gradient", e, grad.toFloatArray());
                Reference.scale(1, n, -2f, x, 0, n, e, 0, n);
                KernelAssertions.assertExact("scale", e, sc.toFloatArray());
            }
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void elementwiseOnStridedAndTransposedViews(String backend, SplittableRandom rnd) {
        Ops ops = ops(backend, OpFamily.ELEMENTWISE);
        try (Tensor big = Tensor.of(TestData.floats(rnd, 6 * 9 * 11), 6, 9, 11); Tensor out = Tensor.allocate(DType.F32, 6, 9, 11)) {
            // Sub-blocks in all three dims: rows cannot merge across dim 0, so the op loops over slabs.
            Tensor a = big.slice(0, 1, 5).slice(1, 2, 8).slice(2, 3, 10);
            Tensor b = big.slice(0, 0, 4).slice(1, 1, 7).slice(2, 0, 7);
            Tensor o = out.slice(0, 2, 6).slice(1, 0, 6).slice(2, 4, 11);
            ops.add(a, b, o);
            float[] e = new float[a.toFloatArray().length];
            Reference.binary(BinaryOp.ADD, 1, e.length, a.toFloatArray(), 0, e.length, b.toFloatArray(), 0, e.length, e, 0, e.length);
            KernelAssertions.assertExact("strided add", e, o.toFloatArray());
            assertEquals(0f, out.getFloat(0, 0, 0), "outside the output view untouched");
            // A transposed input (unit stride on no axis) and a transposed output.
            Tensor at = big.select(0, 0).t(), ot = out.select(0, 0).t();
            ops.relu(at, ot);
            float[] x = at.toFloatArray(), r = new float[x.length];
            Reference.relu(1, x.length, x, 0, x.length, r, 0, x.length);
            KernelAssertions.assertExact("transposed relu", r, ot.toFloatArray());
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void inPlaceOps(String backend, SplittableRandom rnd) {
        Ops ops = ops(backend, OpFamily.ELEMENTWISE);
        float[] x = TestData.floats(rnd, 100);
        try (Tensor t = Tensor.of(x, 10, 10)) {
            assertSame(t, ops.relu(t, t));
            float[] e = new float[100];
            Reference.relu(1, 100, x, 0, 100, e, 0, 100);
            KernelAssertions.assertExact("in-place relu", e, t.toFloatArray());
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void matmulAgainstTheReference(String backend, SplittableRandom rnd) {
        Ops ops = ops(backend, OpFamily.F32_GEMM);
        int[][] shapes = {{1, 1, 1}, {7, 5, 3}, {17, 31, 64}, {1, 257, 33}, {65, 1, 127}};
        for (int[] s : shapes) {
            int m = s[0], n = s[1], k = s[2];
            float[] a = TestData.floats(rnd, m * k), b = TestData.floats(rnd, k * n);
            float[] e = new float[m * n];
            Reference.sgemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, e, 0, n);
            try (Tensor ta = Tensor.of(a, m, k); Tensor tb = Tensor.of(b, k, n); Tensor c = ops.matmul(ta, tb);
                 Tensor at = ta.t().copy(); Tensor bt = tb.t().copy(); Tensor c2 = ops.matmul(at.t(), bt.t())) {
                KernelAssertions.assertClose("matmul " + m + "x" + n + "x" + k, e, c.toFloatArray(), 1e-5);
                KernelAssertions.assertClose("matmul of transposed views", e, c2.toFloatArray(), 1e-5);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void fusedBiasReluAndPackedWeights(String backend, SplittableRandom rnd) {
        Ops ops = ops(backend, OpFamily.F32_GEMM);
        int[][] shapes = {{1, 10, 784}, {5, 37, 64}, {64, 128, 300}, {7, 300, 5}};
        for (int[] s : shapes) {
            int m = s[0], n = s[1], k = s[2];
            float[] x = TestData.floats(rnd, m * k), w = TestData.floats(rnd, n * k), bias = TestData.floats(rnd, n);
            float[] e = new float[m * n];
            // w stored (n, k) like a Linear layer's weight; the product uses its transpose
            Reference.gemm(false, true, m, n, k, 1f, x, 0, k, w, 0, k, 0f, e, 0, n, bias, true);
            try (Tensor tx = Tensor.of(x, m, k); Tensor tw = Tensor.of(w, n, k); Tensor tb = Tensor.of(bias, n);
                 Tensor y = ops.matmul(tx, tw.t(), tb, Activation.RELU); PackedMatrix packed = ops.pack(tw.t());
                 Tensor yp = ops.matmul(tx, packed, tb, Activation.RELU)) {
                KernelAssertions.assertClose("fused " + m + "x" + n + "x" + k, e, y.toFloatArray(), 1e-5);
                KernelAssertions.assertClose("packed " + m + "x" + n + "x" + k, e, yp.toFloatArray(), 1e-5);
                for (float v : y.toFloatArray()) assertTrue(v >= 0f, "ReLU output must be >= 0");
            }
        }
    }

    @Test
    void packedWeightsAreCheckedAgainstTheirBackendAndShape(SplittableRandom rnd) {
        Backend nativeBackend = Tessera.backend("native");
        assumeTrue(nativeBackend.availability().available(), "native " + nativeBackend.availability());
        try (Tensor w = Tensor.of(TestData.floats(rnd, 12), 3, 4); Tensor x = Tensor.of(TestData.floats(rnd, 6), 2, 3);
             PackedMatrix packed = Ops.on("java").pack(w)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Ops.on(nativeBackend).matmul(x, packed, null, Activation.IDENTITY));
            assertTrue(e.getMessage().contains("packed for the java backend"), e.getMessage());
            try (Tensor wrong = Tensor.allocate(DType.F32, 2, 4)) {
                e = assertThrows(IllegalArgumentException.class, () -> Ops.on("java").matmul(wrong, packed, null, Activation.IDENTITY));
                assertTrue(e.getMessage().contains("a's columns (4) must equal b's rows (3)"), e.getMessage());
            }
            try (Tensor badBias = Tensor.allocate(DType.F32, 5)) {
                e = assertThrows(IllegalArgumentException.class, () -> Ops.on("java").matmul(x, packed, badBias, Activation.RELU));
                assertTrue(e.getMessage().contains("bias is [5], expected [4]"), e.getMessage());
            }
        }
    }

    @Test
    void matmulIntoAStridedOutput(SplittableRandom rnd) {
        float[] a = TestData.floats(rnd, 12), b = TestData.floats(rnd, 20);
        float[] e = new float[15];
        Reference.sgemm(false, false, 3, 5, 4, 1f, a, 0, 4, b, 0, 5, 0f, e, 0, 5);
        try (Tensor ta = Tensor.of(a, 3, 4); Tensor tb = Tensor.of(b, 4, 5); Tensor out = Tensor.allocate(DType.F32, 8, 9)) {
            Tensor view = out.slice(0, 2, 5).slice(1, 3, 8);
            Ops.auto().matmul(ta, tb, view);
            KernelAssertions.assertClose("matmul into view", e, view.toFloatArray(), 1e-5);
            Tensor tview = out.slice(0, 0, 5).slice(1, 0, 3).t(); // 3x5 with unit stride on dim 0
            Ops.auto().matmul(ta, tb, tview);
            KernelAssertions.assertClose("matmul into transposed view", e, tview.toFloatArray(), 1e-5);
        }
    }

    @Test
    void shapeDtypeAndMemoryErrorsAreClear() {
        try (Tensor a = Tensor.allocate(DType.F32, 2, 3); Tensor b = Tensor.allocate(DType.F32, 3, 2);
             Tensor i = Tensor.allocate(DType.S32, 2, 3); Tensor v = Tensor.allocate(DType.F32, 6)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ops.auto().add(a, b));
            assertTrue(e.getMessage().contains("shape mismatch") && e.getMessage().contains("[2, 3]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Ops.auto().relu(i));
            assertTrue(e.getMessage().contains("F32"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Ops.auto().matmul(a, a));
            assertTrue(e.getMessage().contains("a's columns (3) must equal b's rows (2)"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Ops.auto().matmul(v, b));
            assertTrue(e.getMessage().contains("2-D"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Ops.auto().matmul(a, b, a));
            assertTrue(e.getMessage().contains("out is [2, 3], expected [2, 2]"), e.getMessage());
        }
    }

    @Test
    void unavailableBackendSaysWhy() {
        Backend cuda = Tessera.backend("cuda");
        assumeTrue(!cuda.availability().available(), "a GPU is present");
        try (Tensor a = Tensor.allocate(DType.F32, 2)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> Ops.on(cuda).relu(a));
            assertTrue(e.getMessage().contains("cuda"), e.getMessage());
            e = assertThrows(IllegalStateException.class, () -> a.to(cuda));
            assertTrue(e.getMessage().contains("not available"), e.getMessage());
        }
    }

    @Test
    void kernelIdNamesTheChosenKernel() {
        String id = Ops.auto().kernelId(UnaryOp.RELU, MemoryKind.HOST);
        assertTrue(id.startsWith("f32_vrelu__"), id);
        String expected = Tessera.backend("native").availability().available() ? "__avx2" : "__panama";
        if (System.getProperty("tessera.backend", "").equals("java") || !Tessera.backend("native").availability().available()) {
            expected = "__";
        }
        assertTrue(id.contains(expected), id + " should contain " + expected);
    }
}
