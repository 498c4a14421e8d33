package org.tessera;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.tessera.kernels.spi.Conv2dShape;
import org.tessera.testing.ConvReference;
import org.tessera.testing.KernelAssertions;
import org.tessera.testing.SeededRandom;
import org.tessera.testing.TestData;

/**
 * {@link Ops#conv2d} through tensors on the automatic choice and each host backend: each algorithm against
 * the direct reference, a strided (non-contiguous) input, and shape errors that name the dimension.
 */
@ExtendWith(SeededRandom.class)
class ConvolutionTest {
    static Stream<String> backends() {
        return Stream.of("auto", "java", "native");
    }

    private static Ops ops(String name) {
        if (name.equals("auto")) return Ops.auto();
        assumeTrue(Tessera.backend(name).availability().available(), name + " unavailable here");
        return Ops.on(name);
    }

    /** conv2dMaxPool equals conv2d then maxPool2d on a backend with the fused kernel; without one it is a clear error. */
    @ParameterizedTest
    @MethodSource("backends")
    void fusedConvolutionAndPoolingEqualsTheTwoOps(String backend, SplittableRandom rnd) {
        Ops ops = ops(backend);
        Conv2dParams p = Conv2dParams.builder().padding(1).build();
        float[] xv = TestData.floats(rnd, 3 * 13 * 10 * 2), wv = TestData.floats(rnd, 12 * 3 * 3 * 2), bv = TestData.floats(rnd, 12);
        try (Tensor x = Tensor.of(xv, 3, 13, 10, 2); Tensor w = Tensor.of(wv, 12, 3, 3, 2); Tensor b = Tensor.of(bv, 12);
             Tensor conv = ops.conv2d(x, w, b, p, Activation.RELU); Tensor pooled = ops.maxPool2d(conv, Pool2dParams.of(2, 2, 0));
             Tensor y = Tensor.allocate(org.tessera.kernels.DType.F32, 3, 6, 5, 12)) {
            String id = ops.conv2dMaxPoolKernelId(new long[] {13, 10, 2}, w, p, 2);
            if (id == null) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ops.conv2dMaxPool(x, w, b, p, Activation.RELU, 2, y));
                assertTrue(e.getMessage().contains("conv2dMaxPoolKernelId"), e.getMessage());
                return;
            }
            ops.conv2dMaxPool(x, w, b, p, Activation.RELU, 2, y);
            assertEquals(java.util.Arrays.toString(pooled.toFloatArray()), java.util.Arrays.toString(y.toFloatArray()), id);
            try (Tensor wrong = Tensor.allocate(org.tessera.kernels.DType.F32, 3, 7, 5, 12)) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ops.conv2dMaxPool(x, w, b, p, Activation.RELU, 2, wrong));
                assertTrue(e.getMessage().contains("out"), e.getMessage());
            }
            assertThrows(IllegalArgumentException.class, () -> ops.conv2dMaxPool(x, w, b, p, Activation.RELU, 0, y));
            assertEquals(null, ops.conv2dMaxPoolKernelId(new long[] {13, 10, 2}, w, p, 11), "a pool larger than the output");
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void eachAlgorithmMatchesTheReference(String backend, SplittableRandom rnd) {
        Ops ops = ops(backend);
        Object[][] cases = { // n, h, w, c, k, r, s, params, kernel id pattern
                {2, 9, 7, 12, 10, 1, 1, Conv2dParams.DEFAULT, "1x1_gemm"},
                {1, 11, 10, 24, 24, 3, 3, Conv2dParams.builder().padding(1).groups(24).build(), "dwconv2d"},
                {2, 10, 9, 6, 8, 3, 5, Conv2dParams.builder().stride(2, 1).padding(1, 2, 0, 2).dilation(1, 2).groups(2).build(), "im2col|igemm"},
        };
        for (Object[] c : cases) {
            int n = (int) c[0], h = (int) c[1], w = (int) c[2], ch = (int) c[3], k = (int) c[4], r = (int) c[5], s = (int) c[6];
            Conv2dParams p = (Conv2dParams) c[7];
            float[] xv = TestData.floats(rnd, n * h * w * ch), wv = TestData.floats(rnd, k * r * s * (ch / p.groups()));
            float[] bv = TestData.floats(rnd, k);
            try (Tensor x = Tensor.of(xv, n, h, w, ch); Tensor wt = Tensor.of(wv, k, r, s, ch / p.groups()); Tensor b = Tensor.of(bv, k);
                 Tensor y = ops.conv2d(x, wt, b, p, Activation.RELU)) {
                assertTrue(java.util.regex.Pattern.compile((String) c[8]).matcher(ops.convKernelId(x, wt, p)).find(), ops.convKernelId(x, wt, p));
                Conv2dShape shape = new Conv2dShape(n, h, w, ch, k, r, s, p.strideH(), p.strideW(), p.padTop(), p.padBottom(),
                        p.padLeft(), p.padRight(), p.dilationH(), p.dilationW(), p.groups());
                assertEquals(4, y.rank());
                KernelAssertions.assertClose(backend + " " + shape, ConvReference.conv2d(shape, xv, wv, bv, true), y.toFloatArray(), 1e-5);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void stridedInputIsReadCorrectly(String backend, SplittableRandom rnd) {
        Ops ops = ops(backend);
        float[] wide = TestData.floats(rnd, 2 * 6 * 6 * 8);
        try (Tensor all = Tensor.of(wide, 2, 6, 6, 8); Tensor w = Tensor.of(TestData.floats(rnd, 4 * 3 * 3 * 5), 4, 3, 3, 5)) {
            Tensor x = all.slice(3, 1, 6); // channels 1..5: not contiguous
            Conv2dParams p = Conv2dParams.builder().padding(1).build();
            try (Tensor y = ops.conv2d(x, w, null, p, Activation.IDENTITY); Tensor xd = x.copy()) {
                Conv2dShape s = Convolution.shape(xd, w, p);
                KernelAssertions.assertClose(backend, ConvReference.conv2d(s, xd.toFloatArray(), w.toFloatArray(), null, false),
                        y.toFloatArray(), 1e-5);
            }
        }
    }

    /** Filters packed once give conv2d's values bit for bit, on inputs of two sizes and a strided input; misuse is a clear error. */
    @ParameterizedTest
    @MethodSource("backends")
    void packedFiltersGiveTheSameValues(String backend, SplittableRandom rnd) {
        Ops ops = ops(backend);
        Conv2dParams p = Conv2dParams.builder().padding(1).stride(2, 1).build();
        try (Tensor w = Tensor.of(TestData.floats(rnd, 40 * 3 * 3 * 21), 40, 3, 3, 21); Tensor b = Tensor.of(TestData.floats(rnd, 40), 40);
             Tensor wide = Tensor.of(TestData.floats(rnd, 2 * 9 * 7 * 23), 2, 9, 7, 23);
             Tensor other = Tensor.of(TestData.floats(rnd, 1 * 17 * 12 * 21), 1, 17, 12, 21);
             Tensor mismatched = Tensor.allocate(org.tessera.kernels.DType.F32, 1, 5, 5, 20); PackedConv packed = ops.packConv(w, p)) {
            for (Tensor x : new Tensor[] {wide.slice(3, 1, 22), other}) {
                for (Activation act : new Activation[] {Activation.IDENTITY, Activation.RELU}) {
                    try (Tensor plain = ops.conv2d(x, w, b, p, act); Tensor viaPacked = ops.conv2d(x, packed, b, act)) {
                        assertEquals(java.util.Arrays.toString(plain.toFloatArray()), java.util.Arrays.toString(viaPacked.toFloatArray()),
                                backend + " " + java.util.Arrays.toString(x.shape()) + " " + act);
                    }
                }
            }
            assertEquals(40, packed.outChannels());
            message(assertThrows(IllegalArgumentException.class, () -> ops.conv2d(mismatched, packed, null, Activation.IDENTITY)), "channel mismatch");
            boolean onJava = packed.backend().name().equals("java");
            Ops elsewhere = !onJava ? Ops.on("java") : Tessera.backend("native").availability().available() ? Ops.on("native") : null;
            if (elsewhere != null) {
                message(assertThrows(IllegalArgumentException.class, () -> elsewhere.conv2d(other, packed, b, Activation.IDENTITY)), "backend");
            }
            packed.close();
            assertThrows(IllegalStateException.class, () -> ops.conv2d(other, packed, b, Activation.IDENTITY));
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void badShapesNameTheDimension(String backend) {
        Ops ops = ops(backend);
        try (Tensor x = Tensor.allocate(org.tessera.kernels.DType.F32, 1, 5, 5, 6); Tensor w = Tensor.allocate(org.tessera.kernels.DType.F32, 4, 3, 3, 4);
             Tensor big = Tensor.allocate(org.tessera.kernels.DType.F32, 4, 7, 3, 6); Tensor good = Tensor.allocate(org.tessera.kernels.DType.F32, 4, 3, 3, 6);
             Tensor flat = Tensor.allocate(org.tessera.kernels.DType.F32, 30, 6)) {
            message(assertThrows(IllegalArgumentException.class, () -> ops.conv2d(x, w, null, Conv2dParams.DEFAULT, Activation.IDENTITY)),
                    "channel mismatch");
            message(assertThrows(IllegalArgumentException.class, () -> ops.conv2d(x, big, null, Conv2dParams.DEFAULT, Activation.IDENTITY)),
                    "kernel height");
            message(assertThrows(IllegalArgumentException.class, () -> ops.conv2d(flat, good, null, Conv2dParams.DEFAULT, Activation.IDENTITY)),
                    "4-D");
            message(assertThrows(IllegalArgumentException.class,
                    () -> ops.conv2d(x, good, null, Conv2dParams.DEFAULT, Activation.IDENTITY, Tensor.allocate(org.tessera.kernels.DType.F32, 1, 3, 3, 5))),
                    "out is");
            message(assertThrows(IllegalArgumentException.class, () -> Conv2dParams.builder().stride(0).build()), "strideH");
            message(assertThrows(IllegalArgumentException.class, () -> ops.conv2d(x, good, flat, Conv2dParams.DEFAULT, Activation.IDENTITY)),
                    "bias");
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void backwardMatchesTheReferenceGradients(String backend, SplittableRandom rnd) {
        Ops ops = ops(backend);
        Conv2dParams[] params = {Conv2dParams.DEFAULT, Conv2dParams.builder().padding(1).groups(6).build(),
                Conv2dParams.builder().stride(2, 1).padding(1, 0, 2, 1).dilation(1, 2).groups(2).build()};
        int[][] dims = {{2, 5, 6, 6, 4, 1, 1}, {1, 7, 5, 6, 6, 3, 3}, {2, 8, 7, 6, 4, 3, 2}}; // n, h, w, c, k, r, s
        for (int i = 0; i < params.length; i++) {
            int[] d = dims[i];
            Conv2dParams p = params[i];
            int cg = d[3] / p.groups();
            float[] xv = TestData.floats(rnd, d[0] * d[1] * d[2] * d[3]), wv = TestData.floats(rnd, d[4] * d[5] * d[6] * cg);
            try (Tensor x = Tensor.of(xv, d[0], d[1], d[2], d[3]); Tensor w = Tensor.of(wv, d[4], d[5], d[6], cg)) {
                Conv2dShape s = Convolution.shape(x, w, p);
                float[] g = TestData.floats(rnd, s.n() * s.outH() * s.outW() * s.k());
                try (Tensor dy = Tensor.of(g, s.n(), s.outH(), s.outW(), s.k()); Tensor dx = Tensor.allocate(org.tessera.kernels.DType.F32, x.shape());
                     Tensor dw = Tensor.allocate(org.tessera.kernels.DType.F32, w.shape()); Tensor db = Tensor.allocate(org.tessera.kernels.DType.F32, s.k())) {
                    ops.conv2dBackwardData(dy, w, p, dx);
                    ops.conv2dBackwardWeights(x, dy, p, dw, db);
                    KernelAssertions.assertClose(backend + " dx " + s, ConvReference.backwardData(s, g, wv), dx.toFloatArray(), 1e-5);
                    KernelAssertions.assertClose(backend + " dw " + s, ConvReference.backwardWeights(s, xv, g), dw.toFloatArray(), 1e-5);
                    KernelAssertions.assertClose(backend + " db " + s, ConvReference.backwardBias(s, g), db.toFloatArray(), 1e-5);
                    try (Tensor wrong = Tensor.allocate(org.tessera.kernels.DType.F32, 1, 1, 1, 1)) {
                        message(assertThrows(IllegalArgumentException.class, () -> ops.conv2dBackwardData(wrong, w, p, dx)), "dy is");
                        message(assertThrows(IllegalArgumentException.class, () -> ops.conv2dBackwardWeights(x, dy, p, dw, wrong)), "db is");
                    }
                }
            }
        }
    }

    /** int8 conv through tensors: exact s32 sums (1x1, grouped, depthwise) and requantized u8, against integer references. */
    @ParameterizedTest
    @MethodSource("backends")
    void int8ConvolutionIsExact(String backend, SplittableRandom rnd) {
        Ops ops = ops(backend);
        Conv2dParams[] params = {Conv2dParams.DEFAULT, Conv2dParams.builder().padding(1).stride(2).groups(3).build(),
                Conv2dParams.builder().padding(1).groups(19).build()};
        int[][] dims = {{2, 5, 6, 19, 7, 1, 1}, {1, 9, 8, 6, 9, 3, 3}, {2, 6, 5, 19, 19, 3, 3}};
        for (int i = 0; i < params.length; i++) {
            int[] d = dims[i];
            Conv2dParams p = params[i];
            int cg = d[3] / p.groups(), za = 1 + rnd.nextInt(254);
            byte[] xb = new byte[d[0] * d[1] * d[2] * d[3]], wb = new byte[d[4] * d[5] * d[6] * cg];
            rnd.nextBytes(xb);
            rnd.nextBytes(wb);
            float[] xf = new float[xb.length], wf = new float[wb.length], scales = new float[d[4]];
            for (int j = 0; j < xb.length; j++) xf[j] = (xb[j] & 0xFF) - za;
            for (int j = 0; j < wb.length; j++) wf[j] = wb[j];
            for (int j = 0; j < scales.length; j++) scales[j] = 0.002f + rnd.nextFloat() / 100;
            org.tessera.kernels.spi.Int8Input xq = org.tessera.kernels.spi.Int8Input.u8(0.05f, za);
            org.tessera.kernels.spi.Int8Output u8 = org.tessera.kernels.spi.Int8Output.u8(0.5f, 7, true);
            try (Tensor x = Tensor.of(org.tessera.kernels.DType.U8, xb, d[0], d[1], d[2], d[3]);
                 Tensor w = Tensor.of(org.tessera.kernels.DType.S8, wb, d[4], d[5], d[6], cg);
                 PackedInt8Conv packed = ops.packInt8Conv(w, p, scales);
                 Tensor acc = ops.conv2d(x, xq, packed, org.tessera.kernels.spi.Int8Output.s32(), null);
                 Tensor q = ops.conv2d(x, xq, packed, u8, null)) {
                Conv2dShape s = Convolution.shape(x, d[4], d[5], d[6], cg, p);
                float[] exact = ConvReference.conv2d(s, xf, wf, null, false); // integers, summed in double: exact
                int[] got = acc.toIntArray();
                byte[] gotQ = q.toByteArray();
                String what = backend + " " + ops.int8ConvKernelId(x, xq, packed) + " " + s;
                for (int j = 0; j < got.length; j++) {
                    assertEquals((int) exact[j], got[j], what + " at " + j);
                    assertEquals(org.tessera.testing.Int8Reference.requantize(got[j], xq.scale(), scales[j % s.k()], 0f, u8), gotQ[j] & 0xFF,
                            what + " u8 at " + j);
                }
                Tensor fewer = x.slice(3, 0, d[3] - 1);
                message(assertThrows(IllegalArgumentException.class, () -> ops.conv2d(fewer, xq, packed, org.tessera.kernels.spi.Int8Output.s32(),
                        null)), "channel mismatch");
                message(assertThrows(IllegalArgumentException.class, () -> ops.conv2d(x, org.tessera.kernels.spi.Int8Input.s8(1f, 0), packed,
                        org.tessera.kernels.spi.Int8Output.s32(), null)), "S8");
            }
        }
    }

    private static void message(Exception e, String part) {
        assertTrue(e.getMessage().contains(part), "message should name " + part + ": " + e.getMessage());
    }
}
