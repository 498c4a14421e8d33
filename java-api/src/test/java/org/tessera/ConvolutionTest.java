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

    private static void message(Exception e, String part) {
        assertTrue(e.getMessage().contains(part), "message should name " + part + ": " + e.getMessage());
    }
}
