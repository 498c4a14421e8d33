package org.tessera.bench;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.tessera.Activation;
import org.tessera.Conv2dParams;
import org.tessera.Ops;
import org.tessera.Tensor;
import org.tessera.Tessera;
import org.tessera.kernels.HostStorage;
import org.tessera.kernels.spi.Conv2dShape;
import org.tessera.kernels.spi.ConvKernels;
import org.tessera.kernels.spi.Int8Input;
import org.tessera.kernels.spi.Int8Output;
import org.tessera.kernels.spi.OpFamily;
import org.tessera.kernels.spi.PackedF32Filters;
import org.tessera.kernels.spi.PackedInt8Filters;

/**
 * f32 conv2d forward (NHWC, bias fused) on our backends beside the peer oneDNN ({@link OneDnnConv}), one run.
 * Layers: ResNet-style 3x3 at 56x56x64 and 14x14x256, a 1x1 at 28x28x128, depthwise 3x3 at 28x28x256 and 56x56x144,
 * and the two conv layers of the small Fashion-MNIST CNN at batch 64. {@link BenchMain} reports GFLOP/s of
 * the direct algorithm (2 n outH outW k r s c/groups) and the ratio to oneDNN.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {JvmFlags.VECTOR, JvmFlags.NATIVE})
public class ConvBench {
    /**
     * {@code -i8}: the int8 convolution (u8 activations, 7-bit s8 filters, requantized u8 output) on that backend;
     * {@code onednn-i8}: oneDNN's u8 x s8 convolution to raw s32; {@code -packed}: f32 with the filters packed
     * once in set-up ({@code ConvKernels.packF32Filters}), as oneDNN's are reordered once.
     */
    @Param({"native", "java", "onednn", "native-packed", "native-i8", "java-i8", "onednn-i8"})
    public String backend;

    @Param({"1", "2"})
    public int threads;

    @Param({"3x3_c64_56", "3x3_c256_14", "1x1_c128_28", "dw3x3_c256_28", "dw3x3_c144_56", "fmnist_conv1_b64", "fmnist_conv1_k24_b64", "fmnist_conv2_b64"})
    public String layer;

    private Tensor x, w, bias, y;
    private Ops ops;
    private Conv2dParams params;
    private OneDnnConv onednn;
    private ConvKernels int8;
    private Conv2dShape int8Shape; // the shape of the calls through the kernel SPI (int8 and packed f32)
    private HostStorage xq, yq, bq;
    private PackedInt8Filters filters;
    private ConvKernels f32;
    private PackedF32Filters f32Filters;
    private HostStorage xs, bs, ys;
    private final Int8Input xIn = Int8Input.u8(0.02f, 128);
    private final Int8Output yOut = Int8Output.u8(0.05f, 0, false);

    /** The geometry of a named layer. */
    static Conv2dShape shape(String layer) {
        return switch (layer) {
            case "3x3_c64_56" -> Conv2dShape.of(1, 56, 56, 64, 64, 3, 1, 1);
            case "3x3_c256_14" -> Conv2dShape.of(1, 14, 14, 256, 256, 3, 1, 1);
            case "1x1_c128_28" -> Conv2dShape.of(1, 28, 28, 128, 128, 1, 1, 0);
            case "dw3x3_c256_28" -> new Conv2dShape(1, 28, 28, 256, 256, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 256);
            case "dw3x3_c144_56" -> new Conv2dShape(1, 56, 56, 144, 144, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 144); // MobileNetV2's second block
            case "fmnist_conv1_b64" -> Conv2dShape.of(64, 28, 28, 1, 32, 3, 1, 1);
            case "fmnist_conv1_k24_b64" -> Conv2dShape.of(64, 28, 28, 1, 24, 3, 1, 1); // pruned to 24 filters (the job's sparse model)
            case "fmnist_conv2_b64" -> Conv2dShape.of(64, 14, 14, 32, 64, 3, 1, 1);
            default -> throw new IllegalArgumentException("unknown layer " + layer);
        };
    }

    @Setup(Level.Trial)
    public void setUp() {
        Conv2dShape s = shape(layer);
        Tessera.setThreads(threads);
        SplittableRandom rnd = new SplittableRandom(11);
        float[] xv = floats(rnd, s.n() * s.h() * s.w() * s.c()), wv = floats(rnd, s.k() * s.r() * s.s() * (s.c() / s.groups()));
        float[] bv = floats(rnd, s.k());
        params = new Conv2dParams(s.strideH(), s.strideW(), s.padTop(), s.padBottom(), s.padLeft(), s.padRight(), s.dilationH(),
                s.dilationW(), s.groups());
        x = Tensor.of(xv, s.n(), s.h(), s.w(), s.c());
        w = Tensor.of(wv, s.k(), s.r(), s.s(), s.c() / s.groups());
        bias = Tensor.of(bv, s.k());
        if (backend.endsWith("-i8")) {
            setUpInt8(s, rnd);
            return;
        }
        if (backend.endsWith("-packed")) {
            setUpPacked(s, xv, wv, bv);
            return;
        }
        if (backend.equals("onednn")) {
            onednn = new OneDnnConv(s, xv, wv, bv, threads);
            onednn.run();
            checkOneDnn(s);
            System.out.println("onednn implementation: " + onednn.implementation());
            return;
        }
        ops = Ops.on(backend);
        y = ops.conv2d(x, w, bias, params, Activation.IDENTITY);
        System.out.println(backend + " kernel: " + ops.convKernelId(x, w, params));
    }

    /** f32 through the kernel SPI, filters packed once in set-up as an inference server would. */
    private void setUpPacked(Conv2dShape s, float[] xv, float[] wv, float[] bv) {
        f32 = Tessera.backend(backend.substring(0, backend.indexOf('-'))).kernels(OpFamily.CONV).kernels();
        int8Shape = s;
        xs = storage(xv);
        bs = storage(bv);
        ys = HostStorage.allocate(4L * s.n() * s.outH() * s.outW() * s.k());
        try (HostStorage ws = storage(wv)) {
            f32Filters = f32.packF32Filters(s, ws, 0);
        }
        f32.conv2dF32(s, xs, 0, f32Filters, bs, 0, ys, 0, false);
        System.out.println(backend + " kernel: " + f32.kernelId(s));
    }

    /** v copied into fresh off-heap storage. */
    static HostStorage storage(float[] v) {
        HostStorage h = HostStorage.allocate(4L * v.length);
        MemorySegment.copy(v, 0, h.segment(), ValueLayout.JAVA_FLOAT, 0, v.length);
        return h;
    }

    /** int8 through the kernel SPI, filters packed once in setup as an inference server would. */
    private void setUpInt8(Conv2dShape s, SplittableRandom rnd) {
        byte[] xb = new byte[s.n() * s.h() * s.w() * s.c()], wb = new byte[s.k() * s.r() * s.s() * (s.c() / s.groups())];
        for (int i = 0; i < xb.length; i++) xb[i] = (byte) rnd.nextInt(256);
        for (int i = 0; i < wb.length; i++) wb[i] = (byte) (rnd.nextInt(128) - 64); // 7-bit: the vpmaddubsw kernel on AVX2
        if (backend.startsWith("onednn")) {
            onednn = OneDnnConv.int8(s, xb, wb, new float[s.k()], threads); // zero bias: its s32 must equal our exact sums
            onednn.run();
            System.out.println("onednn-i8 implementation: " + onednn.implementation());
            checkOneDnnInt8(s, xb, wb);
            return;
        }
        int8 = Tessera.backend(backend.substring(0, backend.indexOf('-'))).kernels(OpFamily.CONV).kernels();
        int8Shape = s;
        xq = HostStorage.allocate(xb.length);
        MemorySegment.copy(xb, 0, xq.segment(), ValueLayout.JAVA_BYTE, 0, xb.length);
        try (HostStorage ws = HostStorage.allocate(wb.length)) {
            MemorySegment.copy(wb, 0, ws.segment(), ValueLayout.JAVA_BYTE, 0, wb.length);
            filters = int8.packInt8Filters(s, ws, 0, new float[] {0.01f});
        }
        bq = HostStorage.allocate(4L * s.k());
        yq = HostStorage.allocate((long) s.n() * s.outH() * s.outW() * s.k());
        int8.conv2dInt8(s, xIn, xq, 0, filters, yOut, bq, 0, yq, 0);
        String packing = filters.depthwise() ? "" : " (" + filters.perGroup().get(0).owner().kernelId(filters.perGroup().get(0)) + ")";
        System.out.println(backend + " kernel: " + int8.int8KernelId(s) + packing);
    }

    /** The int8 peer must compute the same exact sums as our int8 conv (java backend, raw s32). */
    private void checkOneDnnInt8(Conv2dShape s, byte[] xb, byte[] wb) {
        ConvKernels ours = Tessera.backend("java").kernels(OpFamily.CONV).kernels();
        int len = s.n() * s.outH() * s.outW() * s.k();
        try (HostStorage xs = HostStorage.allocate(xb.length); HostStorage ws = HostStorage.allocate(wb.length);
             HostStorage ys = HostStorage.allocate(4L * len)) {
            MemorySegment.copy(xb, 0, xs.segment(), ValueLayout.JAVA_BYTE, 0, xb.length);
            MemorySegment.copy(wb, 0, ws.segment(), ValueLayout.JAVA_BYTE, 0, wb.length);
            try (var packed = ours.packInt8Filters(s, ws, 0, new float[] {1f})) {
                ours.conv2dInt8(s, Int8Input.u8(1f, 0), xs, 0, packed, Int8Output.s32(), null, 0, ys, 0);
            }
            int[] theirs = onednn.resultInts(len);
            for (int i = 0; i < len; i++) {
                int mine = ys.segment().getAtIndex(ValueLayout.JAVA_INT, i);
                if (mine != theirs[i]) throw new IllegalStateException("oneDNN int8 conv differs from ours at " + i + ": " + theirs[i] + " vs " + mine);
            }
        }
    }

    /** The peer must compute the same thing: its output against ours (java backend), relative error. */
    private void checkOneDnn(Conv2dShape s) {
        try (Tensor ours = Ops.on("java").conv2d(x, w, bias, params, Activation.IDENTITY)) {
            float[] a = ours.toFloatArray(), b = onednn.result(a.length);
            double num = 0, den = 0;
            for (int i = 0; i < a.length; i++) {
                num += (a[i] - b[i]) * (double) (a[i] - b[i]);
                den += (double) a[i] * a[i];
            }
            if (!(Math.sqrt(num / den) < 1e-4)) throw new IllegalStateException("oneDNN differs from ours on " + s + ": rel. error " + Math.sqrt(num / den));
        }
    }

    /** n values uniform in [-1, 1). */
    static float[] floats(SplittableRandom rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (rnd.nextDouble() * 2 - 1);
        return a;
    }

    @Benchmark
    public Object conv() {
        if (f32 != null) {
            f32.conv2dF32(int8Shape, xs, 0, f32Filters, bs, 0, ys, 0, false);
            return ys;
        }
        if (int8 != null) {
            int8.conv2dInt8(int8Shape, xIn, xq, 0, filters, yOut, bq, 0, yq, 0);
            return yq;
        }
        if (onednn != null) {
            onednn.run();
            return onednn;
        }
        return ops.conv2d(x, w, bias, params, Activation.IDENTITY, y);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (onednn != null) onednn.close();
        if (f32Filters != null) {
            f32Filters.close();
            xs.close();
            bs.close();
            ys.close();
        }
        if (filters != null) {
            filters.close();
            xq.close();
            yq.close();
            bq.close();
        }
        if (y != null) y.close();
        x.close();
        w.close();
        bias.close();
    }
}
