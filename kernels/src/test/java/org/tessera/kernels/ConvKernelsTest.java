package org.tessera.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.tessera.kernels.conv.GemmConv2d;
import org.tessera.kernels.conv.GemmConv2d.Algorithm;
import org.tessera.kernels.spi.Conv2dShape;
import org.tessera.kernels.spi.ConvKernels;
import org.tessera.kernels.spi.OpFamily;
import org.tessera.kernels.spi.PackedF32Filters;
import org.tessera.testing.ConvReference;
import org.tessera.testing.HostKernels;
import org.tessera.testing.HostKernels.Variant;
import org.tessera.testing.SeededRandom;
import org.tessera.testing.TestData;

/**
 * Every host conv variant against the direct double-accumulating reference: random geometry (N 1..3,
 * C/K 1..67 with primes, H/W 1..33, kernel 1/3/5/7, stride 1/2, asymmetric padding 0..3, dilation 1/2,
 * groups 1/2/depthwise), each algorithm's own edge cases, offsets, poisoned outputs, bad arguments.
 */
@ExtendWith(SeededRandom.class)
class ConvKernelsTest {
    private static final AtomicInteger RAN = new AtomicInteger();
    private static final double TOLERANCE = 1e-5;
    private static final int[] CHANNELS = {1, 2, 3, 5, 7, 8, 16, 17, 31, 32, 33, 64, 67};
    private static final int[] KERNELS = {1, 3, 5, 7};

    static List<Variant<ConvKernels>> variants() {
        return HostKernels.of(OpFamily.CONV, c -> c.kernelId(Conv2dShape.of(1, 3, 3, 1, 1, 3, 1, 1)));
    }

    @AfterAll
    static void atLeastOneVariantRan() {
        assertTrue(RAN.get() > 0, "no conv variant could run on this machine");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void randomGeometryMatchesTheDirectReference(Variant<ConvKernels> v, SplittableRandom rnd) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        RAN.incrementAndGet();
        Set<Algorithm> seen = EnumSet.noneOf(Algorithm.class);
        for (int i = 0; i < 60; i++) {
            Conv2dShape s = randomShape(rnd);
            seen.add(GemmConv2d.algorithm(s));
            check(v.kernels(), s, rnd.nextBoolean(), rnd.nextBoolean(), rnd);
        }
        // The targeted cases below make sure of each algorithm; this says the random ones reach past them.
        assertTrue(seen.size() >= 2, "random shapes hit only " + seen);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void eachAlgorithmAndItsEdges(Variant<ConvKernels> v, SplittableRandom rnd) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        Conv2dShape severalChunks = new Conv2dShape(3, 33, 33, 67, 8, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 1);
        Conv2dShape fmnistFirst = Conv2dShape.of(2, 28, 28, 1, 32, 3, 1, 1);
        Object[][] cases = {
                {Conv2dShape.of(2, 9, 11, 67, 31, 1, 1, 0), Algorithm.GEMM_1X1},
                {Conv2dShape.of(1, 1, 1, 1, 1, 1, 1, 0), Algorithm.GEMM_1X1},
                {Conv2dShape.of(1, 5, 7, 300, 17, 1, 1, 0), Algorithm.GEMM_1X1},                         // k blocks of 256 + 44 channels
                // implicit GEMM: k blocks that cut a tap's channels (c > 256), and many taps per block (smaller pixel blocks)
                {Conv2dShape.of(1, 4, 5, 300, 20, 3, 1, 1), Algorithm.IM2COL},
                {new Conv2dShape(2, 13, 12, 1, 18, 11, 11, 1, 1, 5, 5, 5, 5, 1, 1, 1), Algorithm.IM2COL},    // 121 taps, 2 x 156 pixels
                // implicit GEMM over the pool (2+ threads): filter panels per thread (6 panels, 11 tiles), pixel ranges
                // against filters packed by the caller (3 panels), and against filters all threads pack (216K floats)
                {Conv2dShape.of(1, 7, 9, 70, 90, 3, 1, 1), Algorithm.IM2COL},
                {Conv2dShape.of(2, 20, 20, 16, 40, 3, 1, 1), Algorithm.IM2COL},
                {Conv2dShape.of(2, 10, 10, 300, 70, 3, 1, 1), Algorithm.IM2COL},
                {new Conv2dShape(1, 17, 13, 67, 67, 5, 5, 2, 1, 2, 1, 0, 3, 2, 1, 67), Algorithm.DEPTHWISE},
                {new Conv2dShape(2, 8, 9, 40, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 40), Algorithm.DEPTHWISE}, // 32 + 8 channels
                {new Conv2dShape(1, 5, 5, 3, 3, 7, 7, 1, 1, 3, 3, 3, 3, 1, 1, 3), Algorithm.DEPTHWISE},   // taps past both edges
                // 3x3 depthwise: whole windows run along the row with the filter in registers, the rest per pixel
                {new Conv2dShape(2, 9, 10, 13, 13, 3, 3, 2, 2, 0, 1, 2, 0, 1, 1, 13), Algorithm.DEPTHWISE}, // strided, asymmetric pads, 8 + 5 channels
                {new Conv2dShape(1, 11, 12, 21, 21, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 21), Algorithm.DEPTHWISE}, // dilated, 16 + 5 channels
                {new Conv2dShape(1, 6, 7, 64, 64, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 64), Algorithm.DEPTHWISE},   // no padding: every pixel whole
                {new Conv2dShape(1, 3, 3, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 16), Algorithm.DEPTHWISE},   // one whole window only
                {new Conv2dShape(1, 2, 4, 8, 8, 3, 3, 1, 1, 1, 0, 1, 1, 1, 1, 8), Algorithm.DEPTHWISE},      // no row has all 3 filter rows
                {new Conv2dShape(1, 4, 2, 8, 8, 3, 3, 1, 1, 1, 1, 1, 0, 1, 1, 8), Algorithm.DEPTHWISE},      // no column has a whole window
                {new Conv2dShape(1, 5, 6, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3), Algorithm.DEPTHWISE},      // fewer channels than a vector
                // c a multiple of 128 (the AVX-512 kernel's 8-pixel tiles for 3x3): two tiles + single pixels per row
                {new Conv2dShape(1, 5, 21, 128, 128, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 128), Algorithm.DEPTHWISE},
                {new Conv2dShape(1, 7, 40, 256, 256, 3, 3, 2, 2, 1, 0, 1, 1, 1, 1, 256), Algorithm.DEPTHWISE}, // strided
                // 3x3 stride 1 (the AVX-512 kernel's two-row tiles): pairs never span images; 8 + 4 + 2 + 1 pixel tiles;
                // 4 x 16 + 3 masked channels; an odd number of whole rows; pads that leave 0 or 2 rows without pairs
                {new Conv2dShape(2, 9, 17, 67, 67, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 67), Algorithm.DEPTHWISE},
                {new Conv2dShape(3, 6, 22, 16, 16, 3, 3, 1, 1, 0, 2, 1, 0, 1, 1, 16), Algorithm.DEPTHWISE},
                {new Conv2dShape(1, 12, 11, 256, 256, 3, 3, 1, 1, 2, 0, 0, 2, 1, 1, 256), Algorithm.DEPTHWISE},
                {new Conv2dShape(2, 10, 12, 6, 10, 3, 3, 1, 2, 1, 0, 2, 1, 1, 2, 2), Algorithm.IM2COL},    // groups 2, dilated w
                {new Conv2dShape(1, 12, 12, 16, 8, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1), Algorithm.IM2COL},    // strided 1x1
                // more pixels x columns than one im2col chunk holds: several chunks
                {severalChunks, Algorithm.IM2COL},
                // short patches (r s c <= 32): the direct kernel where the backend has one
                {fmnistFirst, Algorithm.IM2COL},                                                         // Fashion-MNIST's first layer
                {new Conv2dShape(1, 13, 11, 3, 13, 3, 3, 2, 1, 0, 2, 1, 0, 2, 1, 1), Algorithm.IM2COL},   // strided, dilated, 8 + 5 channels
                {new Conv2dShape(3, 7, 9, 2, 41, 4, 4, 1, 1, 1, 2, 2, 1, 1, 1, 1), Algorithm.IM2COL},     // patch of 32, 32 + 8 + 1 channels
                {Conv2dShape.of(1, 5, 4, 1, 1, 3, 1, 1), Algorithm.IM2COL},                              // one filter
                {Conv2dShape.of(2, 11, 9, 1, 24, 3, 1, 1), Algorithm.IM2COL},                            // 24 channels: a 16- and an 8-channel tile
                {Conv2dShape.of(1, 7, 6, 3, 14, 3, 1, 1), Algorithm.IM2COL},                             // 16-channel tile, last vector masked
                {Conv2dShape.of(1, 6, 7, 2, 53, 3, 1, 1), Algorithm.IM2COL},                             // 16 x 3 + 5 channels
                // more than one band of 32 output rows per example (bands of input rows copied once each)
                {Conv2dShape.of(2, 75, 8, 1, 19, 3, 1, 1), Algorithm.IM2COL},
                {new Conv2dShape(1, 139, 5, 2, 8, 3, 2, 2, 1, 1, 0, 1, 0, 2, 1, 1), Algorithm.IM2COL},  // strided, dilated rows
        };
        // a backend with an implicit GEMM (native) runs the short patches on its direct kernel
        if (v.kernels().kernelId(severalChunks).contains("igemm")) {
            assertTrue(v.kernels().kernelId(fmnistFirst).contains("direct"), v.kernels().kernelId(fmnistFirst));
        }
        for (Object[] c : cases) {
            Conv2dShape s = (Conv2dShape) c[0];
            assertEquals(c[1], GemmConv2d.algorithm(s), s.toString());
            check(v.kernels(), s, true, rnd.nextBoolean(), rnd);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void backwardMatchesTheReferenceGradients(Variant<ConvKernels> v, SplittableRandom rnd) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        Set<Algorithm> seen = EnumSet.noneOf(Algorithm.class);
        Conv2dShape[] targeted = {Conv2dShape.of(2, 9, 11, 67, 31, 1, 1, 0),
                new Conv2dShape(1, 17, 13, 40, 40, 5, 5, 2, 1, 2, 1, 0, 3, 2, 1, 40),
                new Conv2dShape(2, 10, 12, 6, 10, 3, 3, 1, 2, 1, 0, 2, 1, 1, 2, 2),
                new Conv2dShape(3, 33, 33, 67, 8, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 1), // several im2col chunks
                // the native weight gradient without im2col: Fashion-MNIST's second layer (64 = 10 x 6 + 4 filters);
                // 16 + 4 channels, 13 filters, strided, dilated, asymmetric padding; a tap that reads no pixel
                Conv2dShape.of(2, 14, 14, 32, 64, 3, 1, 1),
                new Conv2dShape(2, 13, 11, 20, 13, 3, 3, 2, 1, 1, 0, 2, 1, 2, 1, 1),
                new Conv2dShape(1, 3, 3, 8, 7, 5, 5, 1, 1, 3, 1, 1, 3, 1, 1, 1),
                new Conv2dShape(1, 1, 5, 9, 1, 1, 3, 1, 1, 0, 0, 1, 1, 1, 1, 1), // one row, one filter, 8 + 1 channels
                // the few-channel weight gradient: Fashion-MNIST's first layer; 3 channels, 16 + 16 + 5 filters, strided,
                // dilated, asymmetric padding; 7 channels and a window wider than the input; 484 weights per filter,
                // past its stack block (im2col)
                Conv2dShape.of(2, 28, 28, 1, 32, 3, 1, 0),
                new Conv2dShape(1, 13, 11, 3, 37, 5, 5, 2, 1, 2, 1, 0, 3, 1, 2, 1),
                new Conv2dShape(2, 4, 5, 7, 20, 7, 7, 1, 1, 3, 3, 3, 3, 1, 1, 1),
                new Conv2dShape(1, 12, 12, 4, 5, 11, 11, 1, 1, 5, 5, 5, 5, 1, 1, 1),
                // depthwise: stride-1 dx through the forward kernel (67 channels: 4 vectors and a tail at 16 lanes);
                // strided, 256 channels (dw split over the pool by channel vectors); a pad past the window (dx
                // gathered at stride 1), 3 channels; strides 2 x 3, dilation 2 x 1, a 3x5 filter; 7x7 on 2x2 pixels
                new Conv2dShape(2, 9, 17, 67, 67, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 67),
                new Conv2dShape(1, 7, 40, 256, 256, 3, 3, 2, 2, 1, 0, 1, 1, 1, 1, 256),
                new Conv2dShape(2, 11, 10, 33, 33, 3, 3, 1, 2, 2, 1, 0, 2, 2, 1, 33),   // depthwise, dilated rows, strided columns, 16 + 16 + 1 channels
                new Conv2dShape(1, 5, 6, 3, 3, 3, 3, 1, 1, 3, 0, 1, 2, 1, 1, 3),
                new Conv2dShape(3, 8, 9, 70, 70, 3, 5, 2, 3, 1, 2, 2, 0, 2, 1, 70),
                new Conv2dShape(1, 2, 2, 5, 5, 7, 7, 1, 1, 3, 3, 3, 3, 1, 1, 5)};
        for (int i = 0; i < 30 + targeted.length; i++) {
            Conv2dShape s = i < targeted.length ? targeted[i] : randomShape(rnd);
            seen.add(GemmConv2d.algorithm(s));
            checkBackward(v.kernels(), s, rnd);
        }
        assertEquals(EnumSet.allOf(Algorithm.class), seen);
    }

    /** int8 conv (every group count) bit-exact against the integer direct convolution and the int8 epilogue formulas. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void int8MatchesTheIntegerReferenceBitExactly(Variant<ConvKernels> v, SplittableRandom rnd) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        java.util.List<Conv2dShape> shapes = new java.util.ArrayList<>(java.util.List.of(Conv2dShape.of(2, 9, 11, 67, 31, 1, 1, 0),
                new Conv2dShape(3, 33, 33, 67, 8, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 1), // several chunks
                new Conv2dShape(1, 10, 12, 6, 10, 3, 3, 2, 1, 1, 0, 2, 1, 2, 1, 1),
                new Conv2dShape(2, 10, 12, 6, 10, 3, 3, 1, 2, 1, 0, 2, 1, 1, 2, 2),      // groups 2, dilated w
                new Conv2dShape(1, 17, 13, 40, 40, 5, 5, 2, 1, 2, 1, 0, 3, 2, 1, 40),    // depthwise, strided, dilated
                new Conv2dShape(2, 7, 5, 67, 67, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 67),      // depthwise, odd channel count
                Conv2dShape.of(4, 14, 14, 32, 70, 3, 1, 1),                              // big enough to split over the pool
                Conv2dShape.of(1, 1, 1, 5, 3, 3, 1, 1)));                                // one pixel, mostly padding
        while (shapes.size() < 30) shapes.add(randomShape(rnd));
        Set<Algorithm> seen = EnumSet.noneOf(Algorithm.class);
        for (Conv2dShape s : shapes) {
            org.tessera.kernels.spi.Int8Input xq = rnd.nextBoolean()
                    ? org.tessera.kernels.spi.Int8Input.u8(0.01f + rnd.nextFloat(), new int[] {0, 128, 37, 255}[rnd.nextInt(4)])
                    : org.tessera.kernels.spi.Int8Input.s8(0.01f + rnd.nextFloat(), new int[] {0, -5, 3}[rnd.nextInt(3)]);
            org.tessera.kernels.spi.Int8Output out = switch (rnd.nextInt(4)) {
                case 0 -> org.tessera.kernels.spi.Int8Output.s32();
                case 1 -> org.tessera.kernels.spi.Int8Output.f32(rnd.nextBoolean());
                case 2 -> org.tessera.kernels.spi.Int8Output.u8(0.05f + rnd.nextFloat(), rnd.nextInt(256), rnd.nextBoolean());
                default -> org.tessera.kernels.spi.Int8Output.s8(0.05f + rnd.nextFloat(), rnd.nextInt(256) - 128, rnd.nextBoolean());
            };
            seen.add(GemmConv2d.algorithm(s));
            checkInt8(v.kernels(), s, xq, out, rnd, false);
        }
        assertEquals(EnumSet.allOf(Algorithm.class), seen);
    }

    /**
     * The int8 path that reads u8 input in place (7-bit filters, c / groups a multiple of 4): every output kind,
     * zero points at both ends, extreme values, padding and dilation, partial tiles, several pixel blocks, many taps.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void int8InPlaceInputPathIsExact(Variant<ConvKernels> v, SplittableRandom rnd) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        Conv2dShape[] shapes = {
                Conv2dShape.of(2, 14, 14, 32, 64, 3, 1, 1),                              // the Fashion-MNIST conv2, 392 pixels
                new Conv2dShape(1, 9, 11, 8, 20, 3, 3, 2, 1, 0, 2, 1, 0, 2, 1, 1),       // strided, dilated, asymmetric pads
                new Conv2dShape(2, 7, 9, 8, 10, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2),        // groups 2: 4 channels each
                new Conv2dShape(1, 13, 12, 4, 17, 11, 11, 1, 1, 5, 5, 5, 5, 1, 1, 1),    // 121 taps, 4 channels
                Conv2dShape.of(1, 1, 1, 12, 5, 3, 1, 1),                                 // one pixel, 8 of 9 taps padding
                Conv2dShape.of(3, 5, 5, 64, 33, 1, 1, 0)};                               // 1x1: the int8 GEMM itself
        org.tessera.kernels.spi.Int8Output[] outs = {org.tessera.kernels.spi.Int8Output.s32(), org.tessera.kernels.spi.Int8Output.f32(true),
                org.tessera.kernels.spi.Int8Output.u8(0.3f, 7, true), org.tessera.kernels.spi.Int8Output.s8(0.2f, -3, false)};
        int i = 0;
        for (Conv2dShape s : shapes) {
            for (org.tessera.kernels.spi.Int8Output out : outs) {
                int zp = new int[] {0, 255, 128, 37}[i++ % 4];
                checkInt8(v.kernels(), s, org.tessera.kernels.spi.Int8Input.u8(0.02f, zp), out, rnd, false, true);
                checkInt8(v.kernels(), s, org.tessera.kernels.spi.Int8Input.u8(0.02f, 0), out, rnd, true, true);
            }
        }
    }

    /**
     * int8 depthwise, every output kind with u8 and s8 input, on random and on extreme data (|x - zero point| = 255
     * against weights of -128 / 127, the largest products): channel counts around the 16-channel step, odd and
     * even tap counts (taps go in pairs), padding on every side.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void int8DepthwiseEveryOutputKindAndExtremeValues(Variant<ConvKernels> v, SplittableRandom rnd) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        Conv2dShape[] shapes = {
                new Conv2dShape(1, 6, 7, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 16),   // one whole 16-channel step
                new Conv2dShape(2, 5, 6, 33, 33, 3, 3, 2, 1, 1, 0, 0, 1, 1, 1, 33),   // 2 steps + 1, strided, asymmetric pads
                new Conv2dShape(1, 7, 5, 31, 31, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 31),   // even tap count, 16 + 15
                new Conv2dShape(1, 9, 9, 48, 48, 5, 5, 1, 1, 2, 2, 2, 2, 2, 2, 48),   // 25 taps, dilated, most taps in padding
                new Conv2dShape(1, 3, 4, 5, 5, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 5),      // one tap, fewer channels than a step
                new Conv2dShape(1, 4, 5, 17, 17, 23, 23, 1, 1, 11, 11, 11, 11, 1, 1, 17), // 529 taps: past exact float sums (java)
        };
        org.tessera.kernels.spi.Int8Output[] outs = {org.tessera.kernels.spi.Int8Output.s32(), org.tessera.kernels.spi.Int8Output.f32(true),
                org.tessera.kernels.spi.Int8Output.u8(0.3f, 7, rnd.nextBoolean()), org.tessera.kernels.spi.Int8Output.s8(0.2f, -3, rnd.nextBoolean())};
        for (Conv2dShape s : shapes) {
            for (org.tessera.kernels.spi.Int8Output out : outs) {
                for (boolean extreme : new boolean[] {false, true}) {
                    checkInt8(v.kernels(), s, org.tessera.kernels.spi.Int8Input.u8(0.02f, extreme ? 0 : 128), out, rnd, extreme);
                    checkInt8(v.kernels(), s, org.tessera.kernels.spi.Int8Input.s8(0.03f, extreme ? 127 : -5), out, rnd, extreme);
                }
            }
        }
    }

    private static void checkInt8(ConvKernels kernels, Conv2dShape s, org.tessera.kernels.spi.Int8Input xq,
                                  org.tessera.kernels.spi.Int8Output out, SplittableRandom rnd, boolean extreme) {
        checkInt8(kernels, s, xq, out, rnd, extreme, false);
    }

    /** As above; sevenBit: weights always in [-64, 63] (extremes: -64 / 63), the range of the vpmaddubsw kernels. */
    private static void checkInt8(ConvKernels kernels, Conv2dShape s, org.tessera.kernels.spi.Int8Input xq,
                                  org.tessera.kernels.spi.Int8Output out, SplittableRandom rnd, boolean extreme, boolean sevenBit) {
        int cg = s.c() / s.groups(), kg = s.k() / s.groups();
        int xLen = s.n() * s.h() * s.w() * s.c(), cols = s.r() * s.s() * cg, wLen = s.k() * cols;
        int yLen = s.n() * s.outH() * s.outW() * s.k(), yOff = rnd.nextInt(3);
        byte[] x = new byte[xLen], w = new byte[wLen];
        rnd.nextBytes(x);
        rnd.nextBytes(w);
        if (extreme) { // x the farthest from the zero point (255 - 0, or -128 - 127), weights at the ends of s8
            for (int i = 0; i < xLen; i++) x[i] = (byte) (xq.type() == DType.S8 ? -128 : 255);
            for (int i = 0; i < wLen; i++) w[i] = (byte) (rnd.nextBoolean() ? (sevenBit ? -64 : -128) : (sevenBit ? 63 : 127));
        } else if (sevenBit || rnd.nextBoolean()) {
            for (int i = 0; i < wLen; i++) w[i] >>= 1; // 7-bit: the AVX2 vpmaddubsw layout
        }
        float[] scales = new float[s.k()], bias = TestData.floats(rnd, s.k());
        for (int j = 0; j < s.k(); j++) scales[j] = 0.001f + rnd.nextFloat() / 50;
        boolean withBias = out.takesBias() && rnd.nextBoolean();
        boolean signed = xq.type() == DType.S8;
        // the direct integer convolution: padding is real zero, i.e. contributes nothing
        int[] acc = new int[yLen];
        for (int n = 0; n < s.n(); n++) {
            for (int oh = 0; oh < s.outH(); oh++) {
                for (int ow = 0; ow < s.outW(); ow++) {
                    for (int k = 0; k < s.k(); k++) {
                        long sum = 0;
                        for (int r = 0; r < s.r(); r++) {
                            int ih = oh * s.strideH() - s.padTop() + r * s.dilationH();
                            if (ih < 0 || ih >= s.h()) continue;
                            for (int t = 0; t < s.s(); t++) {
                                int iw = ow * s.strideW() - s.padLeft() + t * s.dilationW();
                                if (iw < 0 || iw >= s.w()) continue;
                                for (int c = 0; c < cg; c++) {
                                    byte xv = x[((n * s.h() + ih) * s.w() + iw) * s.c() + k / kg * cg + c];
                                    sum += (long) ((signed ? xv : xv & 0xFF) - xq.zeroPoint()) * w[((k * s.r() + r) * s.s() + t) * cg + c];
                                }
                            }
                        }
                        acc[((n * s.outH() + oh) * s.outW() + ow) * s.k() + k] = Math.toIntExact(sum);
                    }
                }
            }
        }
        int esize = out.type().byteSize();
        String what = kernels.int8KernelId(s) + " " + s + " " + xq + " -> " + out;
        try (HostStorage xs = HostStorage.allocate(xLen); HostStorage ws = HostStorage.allocate(wLen); HostStorage bs = TestData.storage(bias);
             HostStorage ys = HostStorage.allocate((long) (yOff + yLen + GUARD) * esize);
             org.tessera.kernels.spi.PackedInt8Filters packed = kernels.packInt8Filters(s, ws(ws, w), 0, scales)) {
            java.lang.foreign.MemorySegment.copy(x, 0, xs.segment(), java.lang.foreign.ValueLayout.JAVA_BYTE, 0, xLen);
            ys.segment().fill((byte) 0x5A);
            kernels.conv2dInt8(s, xq, xs, 0, packed, out, withBias ? bs : null, 0, ys, yOff);
            java.lang.foreign.MemorySegment y = ys.segment();
            for (int i = 0; i < yLen; i++) {
                int k = i % s.k();
                long at = (long) (yOff + i) * esize;
                float b = withBias ? bias[k] : 0f;
                switch (out.type()) {
                    case S32 -> assertEquals(acc[i], y.get(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, at), what + " at " + i);
                    case F32 -> assertEquals(org.tessera.testing.Int8Reference.dequantize(acc[i], xq.scale(), scales[k], b, out.relu()),
                            y.get(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, at), what + " at " + i);
                    default -> {
                        int got = out.type() == DType.S8 ? y.get(java.lang.foreign.ValueLayout.JAVA_BYTE, at) : y.get(java.lang.foreign.ValueLayout.JAVA_BYTE, at) & 0xFF;
                        assertEquals(org.tessera.testing.Int8Reference.requantize(acc[i], xq.scale(), scales[k], b, out), got, what + " at " + i);
                    }
                }
            }
            for (int i = 0; i < yOff * esize; i++) assertEquals((byte) 0x5A, y.get(java.lang.foreign.ValueLayout.JAVA_BYTE, i), what + ": wrote before y");
            for (long i = (long) (yOff + yLen) * esize; i < ys.byteSize(); i++) {
                assertEquals((byte) 0x5A, y.get(java.lang.foreign.ValueLayout.JAVA_BYTE, i), what + ": wrote past y");
            }
        }
    }

    /** Poisoned elements after y: a kernel writing past its output fails the test. */
    private static final int GUARD = 17;

    private static HostStorage ws(HostStorage s, byte[] data) {
        java.lang.foreign.MemorySegment.copy(data, 0, s.segment(), java.lang.foreign.ValueLayout.JAVA_BYTE, 0, data.length);
        return s;
    }

    /** The kernels' gradients against central differences of the kernels' own forward, on small shapes. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void backwardMatchesFiniteDifferences(Variant<ConvKernels> v, SplittableRandom rnd) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        Conv2dShape[] shapes = {Conv2dShape.of(1, 3, 3, 2, 3, 1, 1, 0), new Conv2dShape(1, 5, 4, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3),
                new Conv2dShape(2, 5, 6, 4, 6, 3, 2, 2, 1, 1, 0, 1, 1, 1, 2, 2)};
        for (Conv2dShape s : shapes) {
            int xLen = s.n() * s.h() * s.w() * s.c(), wLen = s.k() * s.r() * s.s() * (s.c() / s.groups());
            float[] x = TestData.floats(rnd, xLen), w = TestData.floats(rnd, wLen), g = TestData.floats(rnd, s.n() * s.outH() * s.outW() * s.k());
            float[] dx = run(xLen, out -> v.kernels().conv2dBackwardDataF32(s, st(g), 0, st(w), 0, out, 0));
            float[] dw = run(wLen, out -> v.kernels().conv2dBackwardWeightsF32(s, st(x), 0, st(g), 0, out, 0, null, 0));
            for (int probe = 0; probe < 6; probe++) {
                int i = rnd.nextInt(xLen), j = rnd.nextInt(wLen);
                assertFiniteDifference(s + " dx[" + i + "]", dx[i], loss(v.kernels(), s, x, w, g, i, -1));
                assertFiniteDifference(s + " dw[" + j + "]", dw[j], loss(v.kernels(), s, x, w, g, -1, j));
            }
        }
    }

    /** (L(+h) - L(-h)) / 2h of L = sum(conv(x, w) * g), perturbing x[xi] or w[wi]. */
    private static double loss(ConvKernels k, Conv2dShape s, float[] x, float[] w, float[] g, int xi, int wi) {
        final float h = 0.25f;
        double[] l = new double[2];
        for (int side = 0; side < 2; side++) {
            float[] xp = x.clone(), wp = w.clone();
            if (xi >= 0) xp[xi] += side == 0 ? h : -h;
            if (wi >= 0) wp[wi] += side == 0 ? h : -h;
            float[] y = run(g.length, out -> k.conv2dF32(s, st(xp), 0, st(wp), 0, null, 0, out, 0, false));
            for (int i = 0; i < y.length; i++) l[side] += (double) y[i] * g[i];
        }
        return (l[0] - l[1]) / (2 * h);
    }

    private static void assertFiniteDifference(String what, double analytic, double numeric) {
        assertTrue(Math.abs(analytic - numeric) <= 1e-3 * (1 + Math.abs(numeric)), what + ": gradient " + analytic + ", finite difference " + numeric);
    }

    /** A GC-freed copy of data (the finite-difference loops make many). */
    private static HostStorage st(float[] data) {
        HostStorage s = HostStorage.allocate(java.lang.foreign.Arena.ofAuto(), 4L * data.length);
        java.lang.foreign.MemorySegment.copy(data, 0, s.segment(), java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, 0, data.length);
        return s;
    }

    private static float[] run(int outLength, java.util.function.Consumer<HostStorage> kernel) {
        try (HostStorage out = TestData.poisoned(outLength)) {
            kernel.accept(out);
            return TestData.floats(out);
        }
    }

    /** dx, dw and db against the double reference, at random offsets, outputs poisoned. */
    private static void checkBackward(ConvKernels kernels, Conv2dShape s, SplittableRandom rnd) {
        int xLen = s.n() * s.h() * s.w() * s.c(), wLen = s.k() * s.r() * s.s() * (s.c() / s.groups());
        int yLen = s.n() * s.outH() * s.outW() * s.k();
        int off = rnd.nextInt(4);
        float[] x = TestData.floats(rnd, xLen), w = TestData.floats(rnd, wLen), dy = TestData.floats(rnd, yLen);
        String what = kernels.kernelId(s) + " backward " + s;
        try (HostStorage xs = TestData.storage(x); HostStorage ws = TestData.storage(w); HostStorage dys = TestData.storage(dy);
             HostStorage dx = TestData.poisoned(off + xLen); HostStorage dw = TestData.poisoned(off + wLen); HostStorage db = TestData.poisoned(off + s.k())) {
            kernels.conv2dBackwardDataF32(s, dys, 0, ws, 0, dx, off);
            kernels.conv2dBackwardWeightsF32(s, xs, 0, dys, 0, dw, off, db, off);
            // Gradients are sums over many pixels that can cancel to near zero: errors are measured against the
            // sums of absolute terms (the float accumulation's own scale), not against the cancelled result.
            float[] ax = abs(x), aw = abs(w), ady = abs(dy);
            assertCloseScaled(what + " dx", ConvReference.backwardData(s, dy, w), ConvReference.backwardData(s, ady, aw), tail(dx, off));
            assertCloseScaled(what + " dw", ConvReference.backwardWeights(s, x, dy), ConvReference.backwardWeights(s, ax, ady), tail(dw, off));
            assertCloseScaled(what + " db", ConvReference.backwardBias(s, dy), ConvReference.backwardBias(s, ady), tail(db, off));
            for (HostStorage out : new HostStorage[] {dx, dw, db}) {
                for (int i = 0; i < off; i++) assertTrue(Float.isNaN(TestData.floats(out)[i]), what + ": wrote before the output");
            }
        }
    }

    /** ||actual - expected|| <= TOLERANCE * ||scale||, scale the sums of absolute terms; NaN anywhere fails. */
    private static void assertCloseScaled(String what, float[] expected, float[] scale, float[] actual) {
        double num = 0, den = 0;
        for (int i = 0; i < expected.length; i++) {
            assertTrue(Float.isFinite(actual[i]), what + ": non-finite at " + i + ": " + actual[i]);
            num += ((double) actual[i] - expected[i]) * ((double) actual[i] - expected[i]);
            den += (double) scale[i] * scale[i];
        }
        double err = den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
        assertTrue(err <= TOLERANCE, what + ": error " + err + " of the absolute-sum scale > " + TOLERANCE);
    }

    private static float[] abs(float[] a) {
        float[] out = new float[a.length];
        for (int i = 0; i < a.length; i++) out[i] = Math.abs(a[i]);
        return out;
    }

    private static float[] tail(HostStorage s, int from) {
        float[] all = TestData.floats(s);
        return java.util.Arrays.copyOfRange(all, from, all.length);
    }

    /**
     * Depthwise output at every 64-byte line above the input modulo 4 KiB: the AVX-512 kernel walks a tile's channel
     * blocks down when y lies a block or two above x (4 KiB aliasing), so this runs both directions, with and without
     * a masked last block (c = 40), and across the row-pair tiles and the single rows and edge pixels around them.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void depthwiseAtEveryLineOfOutputAboveInput(Variant<ConvKernels> v, SplittableRandom rnd) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        for (int c : new int[] {256, 40}) {
            Conv2dShape s = new Conv2dShape(1, 7, 11, c, c, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, c);
            for (int above = 0; above < 4096; above += 64) check(v.kernels(), s, rnd.nextBoolean(), rnd.nextBoolean(), rnd, above);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void packedFiltersGiveThePlainResultBitForBit(Variant<ConvKernels> v, SplittableRandom rnd) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        ConvKernels k = v.kernels();
        // every algorithm, and each schedule of the implicit GEMM; the second of a pair reuses the first's filters
        // on another input size
        Conv2dShape[][] pairs = {
                {Conv2dShape.of(2, 9, 11, 67, 31, 1, 1, 0), Conv2dShape.of(1, 2, 3, 67, 31, 1, 1, 0)},     // 1x1: implicit, then small-m GEMM
                {Conv2dShape.of(1, 7, 9, 70, 90, 3, 1, 1), Conv2dShape.of(3, 8, 5, 70, 90, 3, 1, 1)},      // filter panels per thread, pixel ranges
                {Conv2dShape.of(2, 10, 10, 300, 70, 3, 1, 1), Conv2dShape.of(1, 3, 4, 300, 70, 3, 1, 1)},  // 216K packed floats; one thread
                {new Conv2dShape(2, 10, 12, 6, 10, 3, 3, 1, 2, 1, 0, 2, 1, 1, 2, 2), new Conv2dShape(1, 5, 5, 6, 10, 3, 3, 1, 2, 1, 0, 2, 1, 1, 2, 2)},
                {new Conv2dShape(2, 9, 10, 13, 13, 3, 3, 2, 2, 0, 1, 2, 0, 1, 1, 13), new Conv2dShape(1, 4, 4, 13, 13, 3, 3, 2, 2, 0, 1, 2, 0, 1, 1, 13)},
                // depthwise at c = 128: the AVX-512 kernel's taps lie c + 16 floats apart
                {new Conv2dShape(1, 6, 10, 128, 128, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 128), new Conv2dShape(2, 4, 5, 128, 128, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 128)},
                {Conv2dShape.of(2, 28, 28, 1, 32, 3, 1, 1), Conv2dShape.of(1, 5, 6, 1, 32, 3, 1, 1)},      // short patch: direct kernel
        };
        for (Conv2dShape[] pair : pairs) {
            int wLen = pair[0].k() * pair[0].r() * pair[0].s() * (pair[0].c() / pair[0].groups()), wOff = rnd.nextInt(4);
            try (HostStorage ws = TestData.storage(TestData.floats(rnd, wOff + wLen));
                 PackedF32Filters packed = k.packF32Filters(pair[0], ws, wOff)) {
                for (Conv2dShape s : pair) {
                    int xLen = s.n() * s.h() * s.w() * s.c(), yLen = s.n() * s.outH() * s.outW() * s.k();
                    boolean relu = rnd.nextBoolean();
                    try (HostStorage xs = TestData.storage(TestData.floats(rnd, xLen)); HostStorage bs = TestData.storage(TestData.floats(rnd, s.k()));
                         HostStorage plain = TestData.poisoned(yLen); HostStorage viaPacked = TestData.poisoned(yLen)) {
                        k.conv2dF32(s, xs, 0, ws, wOff, bs, 0, plain, 0, relu);
                        k.conv2dF32(s, xs, 0, packed, bs, 0, viaPacked, 0, relu);
                        float[] expected = TestData.floats(plain), actual = TestData.floats(viaPacked);
                        for (int i = 0; i < yLen; i++) {
                            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                                fail(k.kernelId(s) + " " + s + ": packed filters gave " + actual[i] + " at " + i + ", plain " + expected[i]);
                            }
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void badPackedFiltersAreClearExceptions(Variant<ConvKernels> v) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        Conv2dShape s = Conv2dShape.of(1, 5, 5, 3, 4, 3, 1, 1);
        ConvKernels k = v.kernels();
        try (HostStorage x = HostStorage.allocate(4L * 75); HostStorage w = HostStorage.allocate(4L * 108);
             HostStorage y = HostStorage.allocate(4L * 100); HostStorage small = HostStorage.allocate(4L * 99);
             HostStorage y5 = HostStorage.allocate(4L * 125)) {
            assertMessage(assertThrows(IllegalArgumentException.class, () -> k.packF32Filters(s, small, 0)), "w");
            PackedF32Filters f = k.packF32Filters(s, w, 0);
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> k.conv2dF32(Conv2dShape.of(1, 5, 5, 3, 5, 3, 1, 1), x, 0, f, null, 0, y5, 0, false)), "k=4");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> k.conv2dF32(s, x, 0, f, null, 0, small, 0, false)), "y");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> k.conv2dF32(s, y, 0, f, null, 0, y, 0, false)), "overlaps");
            ConvKernels other = HostKernels.of(OpFamily.CONV, c -> c.kernelId(s)).stream().map(Variant::kernels)
                    .filter(o -> o != null && o != k).findFirst().orElse(null);
            if (other != null) {
                assertMessage(assertThrows(IllegalArgumentException.class, () -> other.conv2dF32(s, x, 0, f, null, 0, y, 0, false)), "other");
            }
            f.close();
            assertThrows(IllegalStateException.class, () -> k.conv2dF32(s, x, 0, f, null, 0, y, 0, false));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void badArgumentsAreClearExceptions(Variant<ConvKernels> v) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        Conv2dShape s = Conv2dShape.of(1, 5, 5, 3, 4, 3, 1, 1);
        ConvKernels k = v.kernels();
        try (HostStorage x = HostStorage.allocate(4L * 75); HostStorage w = HostStorage.allocate(4L * 108);
             HostStorage y = HostStorage.allocate(4L * 100); HostStorage small = HostStorage.allocate(4L * 99)) {
            assertMessage(assertThrows(IllegalArgumentException.class, () -> k.conv2dF32(s, x, 0, w, 0, null, 0, small, 0, false)), "y");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> k.conv2dF32(s, x, 1, w, 0, null, 0, y, 0, false)), "x");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> k.conv2dF32(s, x, 0, small, 0, null, 0, y, 0, false)), "w");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> k.conv2dF32(s, x, 0, w, 0, small, 97, y, 0, false)), "bias");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> k.conv2dF32(s, y, 0, w, 0, null, 0, y, 0, false)), "overlaps");
            assertThrows(NullPointerException.class, () -> k.conv2dF32(null, x, 0, w, 0, null, 0, y, 0, false));
            // backward: dy is y-shaped (100), dx x-shaped (75), dw w-shaped (108)
            assertMessage(assertThrows(IllegalArgumentException.class, () -> k.conv2dBackwardDataF32(s, y, 0, w, 0, small, 40)), "dx");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> k.conv2dBackwardDataF32(s, y, 0, w, 0, y, 0)), "overlaps");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> k.conv2dBackwardWeightsF32(s, x, 0, y, 0, small, 0, null, 0)), "dw");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> k.conv2dBackwardWeightsF32(s, x, 0, y, 0, w, 0, w, 106)), "db");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> k.conv2dBackwardWeightsF32(s, x, 0, y, 0, w, 0, w, 0)), "overlaps");
            x.close();
            assertThrows(IllegalStateException.class, () -> k.conv2dF32(s, x, 0, w, 0, null, 0, y, 0, false));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void badInt8ArgumentsAreClearExceptions(Variant<ConvKernels> v) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        ConvKernels k = v.kernels();
        Conv2dShape dense = Conv2dShape.of(1, 5, 5, 4, 4, 3, 1, 1), dw = new Conv2dShape(1, 5, 5, 4, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4);
        org.tessera.kernels.spi.Int8Input xq = org.tessera.kernels.spi.Int8Input.u8(0.1f, 3);
        org.tessera.kernels.spi.Int8Output s32 = org.tessera.kernels.spi.Int8Output.s32(), f32 = org.tessera.kernels.spi.Int8Output.f32(false);
        try (HostStorage x = HostStorage.allocate(100); HostStorage w = HostStorage.allocate(144); HostStorage y = HostStorage.allocate(4L * 100);
             HostStorage bias = HostStorage.allocate(16)) {
            assertMessage(assertThrows(IllegalArgumentException.class, () -> k.packInt8Filters(dw, w, 110, new float[] {1f})), "w");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> k.packInt8Filters(dense, w, 0, new float[] {1f, 1f})), "scales");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> k.packInt8Filters(dw, w, 0, new float[] {0f})), "scale");
            org.tessera.kernels.spi.PackedInt8Filters pd = k.packInt8Filters(dense, w, 0, new float[] {1f});
            org.tessera.kernels.spi.PackedInt8Filters pw = k.packInt8Filters(dw, w, 0, new float[] {1f, 2f, 3f, 4f});
            assertMessage(assertThrows(IllegalArgumentException.class, () -> k.conv2dInt8(dw, xq, x, 0, pd, f32, null, 0, y, 0)), "packed for");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> k.conv2dInt8(dw, xq, x, 0, pw, s32, bias, 0, y, 0)), "bias");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> k.conv2dInt8(dw, xq, x, 1, pw, f32, null, 0, y, 0)), "x");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> k.conv2dInt8(dw, xq, x, 0, pw, f32, bias, 1, y, 0)), "bias");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> k.conv2dInt8(dense, xq, x, 0, pd, f32, null, 0, y, 1)), "y");
            pd.close();
            pw.close();
            assertThrows(IllegalStateException.class, () -> k.conv2dInt8(dense, xq, x, 0, pd, f32, null, 0, y, 0));
            assertThrows(IllegalStateException.class, () -> k.conv2dInt8(dw, xq, x, 0, pw, f32, null, 0, y, 0));
        }
    }

    private static void assertMessage(Exception e, String part) {
        assertTrue(e.getMessage().contains(part), "message should name " + part + ": " + e.getMessage());
    }

    /** A valid geometry from the ranges, at most ~2M multiply-adds so the reference stays fast. */
    private static Conv2dShape randomShape(SplittableRandom rnd) {
        while (true) {
            int c = CHANNELS[rnd.nextInt(CHANNELS.length)], kind = rnd.nextInt(3);
            int groups = kind == 0 ? 1 : kind == 1 ? 2 : c;
            int k = kind == 2 ? c : CHANNELS[rnd.nextInt(CHANNELS.length)] * (kind == 1 ? 2 : 1);
            if (kind == 1) c = c * 2 > 67 ? c : c * 2;
            if (c % groups != 0 || k % groups != 0) continue;
            int r = KERNELS[rnd.nextInt(KERNELS.length)], s = rnd.nextInt(4) == 0 ? KERNELS[rnd.nextInt(KERNELS.length)] : r;
            try {
                Conv2dShape shape = new Conv2dShape(1 + rnd.nextInt(3), 1 + rnd.nextInt(33), 1 + rnd.nextInt(33), c, k, r, s,
                        1 + rnd.nextInt(2), 1 + rnd.nextInt(2), rnd.nextInt(4), rnd.nextInt(4), rnd.nextInt(4), rnd.nextInt(4),
                        1 + rnd.nextInt(2), 1 + rnd.nextInt(2), groups);
                if (shape.flops() / 2 <= 2_000_000) return shape;
            } catch (IllegalArgumentException invalidGeometry) {
                // kernel larger than the padded input: draw again
            }
        }
    }

    /** Runs the conv at random offsets into a poisoned y and compares with the reference. */
    /**
     * Fused convolution + max pooling equals the backend's own convolution followed by the pooling rule (a tap
     * replaces the maximum when greater, or NaN over non-NaN), bit for bit, NaN inputs included; a backend
     * without a fused kernel refuses it with a clear exception.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void fusedMaxPoolEqualsConvolutionThenPooling(Variant<ConvKernels> v, SplittableRandom rnd) {
        assumeTrue(v.skipReason() == null, v.skipReason());
        ConvKernels k = v.kernels();
        Object[][] cases = { // shape, pool
                {Conv2dShape.of(3, 28, 28, 1, 32, 3, 1, 1), 2},                                   // Fashion-MNIST's first layer
                {new Conv2dShape(2, 13, 11, 3, 13, 3, 3, 2, 1, 0, 2, 1, 0, 2, 1, 1), 2},            // strided, dilated, odd sizes (floor)
                {new Conv2dShape(1, 9, 10, 2, 41, 4, 4, 1, 1, 1, 2, 2, 1, 1, 1, 1), 3},             // 32 + 8 + 1 channels, 3x3 windows
                {Conv2dShape.of(2, 6, 5, 1, 7, 3, 1, 1), 1},                                      // pool 1: the convolution alone
                {Conv2dShape.of(2, 28, 28, 1, 24, 3, 1, 1), 2},                                   // pruned to 24 filters
                {Conv2dShape.of(1, 10, 9, 1, 48, 3, 1, 1), 2},                                    // 32 + 16 channels
                {Conv2dShape.of(1, 2, 2, 1, 1, 1, 1, 0), 2},                                      // one pooled pixel
                {Conv2dShape.of(2, 70, 9, 1, 21, 3, 1, 1), 2},                                    // 35 pooled rows: three bands; 16 + 5 channels
                {new Conv2dShape(1, 150, 12, 2, 16, 3, 2, 2, 1, 2, 1, 0, 1, 2, 1, 1), 2},          // the same, strided and dilated rows
        };
        int fused = 0;
        for (Object[] c : cases) {
            Conv2dShape s = (Conv2dShape) c[0];
            int pool = (Integer) c[1], ph = s.outH() / pool, pw = s.outW() / pool;
            int xLen = s.n() * s.h() * s.w() * s.c(), wLen = s.k() * s.r() * s.s() * s.c(), cLen = s.n() * s.outH() * s.outW() * s.k();
            int yLen = s.n() * ph * pw * s.k(), yOff = rnd.nextInt(3);
            float[] x = TestData.floats(rnd, xLen), w = TestData.floats(rnd, wLen), b = TestData.floats(rnd, s.k());
            for (int i = 0; i < xLen; i += 1 + rnd.nextInt(97)) if (rnd.nextInt(4) == 0) x[i] = Float.NaN;
            boolean relu = rnd.nextBoolean(), withBias = rnd.nextBoolean();
            try (HostStorage xs = TestData.storage(x); HostStorage ws = TestData.storage(w); HostStorage bs = TestData.storage(b);
                 HostStorage conv = TestData.poisoned(cLen); HostStorage ys = TestData.poisoned(yOff + yLen + 3)) {
                if (k.conv2dMaxPoolKernelId(s, pool) == null) {
                    assertMessage(assertThrows(IllegalArgumentException.class,
                            () -> k.conv2dMaxPoolF32(s, pool, xs, 0, ws, 0, null, 0, ys, yOff, relu)), "no fused");
                    continue;
                }
                fused++;
                k.conv2dF32(s, xs, 0, ws, 0, withBias ? bs : null, 0, conv, 0, relu);
                k.conv2dMaxPoolF32(s, pool, xs, 0, ws, 0, withBias ? bs : null, 0, ys, yOff, relu);
                float[] full = TestData.floats(conv), all = TestData.floats(ys);
                String what = k.conv2dMaxPoolKernelId(s, pool) + " " + s + " pool " + pool + (withBias ? " +bias" : "") + (relu ? " relu" : "");
                for (int n = 0; n < s.n(); n++) {
                    for (int i = 0; i < ph; i++) {
                        for (int j = 0; j < pw; j++) {
                            for (int ch = 0; ch < s.k(); ch++) {
                                float m = Float.NaN;
                                for (int a = 0; a < pool; a++) {
                                    for (int e = 0; e < pool; e++) {
                                        float t = full[((n * s.outH() + i * pool + a) * s.outW() + j * pool + e) * s.k() + ch];
                                        if ((a == 0 && e == 0) || t > m || (Float.isNaN(t) && !Float.isNaN(m))) m = t;
                                    }
                                }
                                int at = ((n * ph + i) * pw + j) * s.k() + ch;
                                assertEquals(Float.floatToRawIntBits(m), Float.floatToRawIntBits(all[yOff + at]), what + " at " + at);
                            }
                        }
                    }
                }
                for (int i = 0; i < yOff; i++) assertTrue(Float.isNaN(all[i]), what + ": wrote before y at " + i);
                for (int i = yOff + yLen; i < all.length; i++) assertTrue(Float.isNaN(all[i]), what + ": wrote past y at " + i);
                assertMessage(assertThrows(IllegalArgumentException.class,
                        () -> k.conv2dMaxPoolF32(s, 0, xs, 0, ws, 0, null, 0, ys, 0, relu)), "pool");
                assertMessage(assertThrows(IllegalArgumentException.class,
                        () -> k.conv2dMaxPoolF32(s, pool, xs, 0, ws, 0, null, 0, ys, yOff + 4, relu)), "y");
            }
        }
        Conv2dShape wide = Conv2dShape.of(1, 9, 9, 16, 8, 3, 1, 1); // a 144-element patch: no direct kernel
        assertNull(k.conv2dMaxPoolKernelId(wide, 2));
        if (k.kernelId(Conv2dShape.of(1, 9, 9, 16, 8, 3, 1, 1)).contains("igemm")) assertEquals(cases.length, fused, "native fuses every case");
    }

    private static void check(ConvKernels kernels, Conv2dShape s, boolean withBias, boolean relu, SplittableRandom rnd) {
        check(kernels, s, withBias, relu, rnd, -1);
    }

    /**
     * As above; with {@code yAbove} >= 0, y starts that many bytes above x modulo 4 KiB (else a few floats into its
     * buffer).
     */
    private static void check(ConvKernels kernels, Conv2dShape s, boolean withBias, boolean relu, SplittableRandom rnd, int yAbove) {
        int xLen = s.n() * s.h() * s.w() * s.c(), wLen = s.k() * s.r() * s.s() * (s.c() / s.groups());
        int yLen = s.n() * s.outH() * s.outW() * s.k();
        int xOff = rnd.nextInt(4), wOff = rnd.nextInt(4), bOff = rnd.nextInt(4);
        float[] x = TestData.floats(rnd, xOff + xLen), w = TestData.floats(rnd, wOff + wLen), b = TestData.floats(rnd, bOff + s.k());
        float[] expected = ConvReference.conv2d(s, java.util.Arrays.copyOfRange(x, xOff, x.length),
                java.util.Arrays.copyOfRange(w, wOff, w.length), withBias ? java.util.Arrays.copyOfRange(b, bOff, b.length) : null, relu);
        try (HostStorage xs = TestData.storage(x); HostStorage ws = TestData.storage(w); HostStorage bs = TestData.storage(b);
             HostStorage ys = TestData.poisoned((yAbove < 0 ? 3 : 1024) + yLen + 3)) {
            long xAt = xs.segment().address() + 4L * xOff;
            int yOff = yAbove < 0 ? rnd.nextInt(4) : (int) Math.floorMod(xAt + yAbove - ys.segment().address(), 4096L) / 4;
            kernels.conv2dF32(s, xs, xOff, ws, wOff, withBias ? bs : null, bOff, ys, yOff, relu);
            float[] all = TestData.floats(ys);
            String what = kernels.kernelId(s) + " " + s + (withBias ? " +bias" : "") + (relu ? " relu" : "")
                    + (yAbove < 0 ? "" : ", y " + yAbove + " bytes above x modulo 4 KiB");
            float[] scale = ConvReference.conv2d(s, abs(java.util.Arrays.copyOfRange(x, xOff, x.length)),
                    abs(java.util.Arrays.copyOfRange(w, wOff, w.length)), withBias ? abs(java.util.Arrays.copyOfRange(b, bOff, b.length)) : null, false);
            assertCloseScaled(what, expected, scale, java.util.Arrays.copyOfRange(all, yOff, yOff + yLen));
            for (int i = 0; i < yOff; i++) assertTrue(Float.isNaN(all[i]), what + ": wrote before y at " + i);
            for (int i = yOff + yLen; i < all.length; i++) assertTrue(Float.isNaN(all[i]), what + ": wrote past y at " + i);
        }
    }
}
