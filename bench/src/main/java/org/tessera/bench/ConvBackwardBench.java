package org.tessera.bench;

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
import org.tessera.Tessera;
import org.tessera.kernels.HostStorage;
import org.tessera.kernels.spi.Conv2dShape;
import org.tessera.kernels.spi.ConvKernels;
import org.tessera.kernels.spi.OpFamily;

/**
 * f32 conv2d backward (training) on our backends beside the peer oneDNN ({@link OneDnnConvBackward}), one run:
 * {@code pass=data} computes dx from dy and the filters, {@code pass=weights} dw and db from x and dy. Same layers
 * as {@link ConvBench} ({@link ConvBench#shape}); {@link BenchMain} reports GFLOP/s of the direct algorithm (each
 * pass does the forward's multiply-adds) and the ratio to oneDNN. Set-up checks that oneDNN computes what we do.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {JvmFlags.VECTOR, JvmFlags.NATIVE})
public class ConvBackwardBench {
    @Param({"native", "java", "onednn"})
    public String backend;

    @Param({"data", "weights"})
    public String pass;

    @Param({"1", "2"})
    public int threads;

    @Param({"3x3_c64_56", "3x3_c256_14", "1x1_c128_28", "dw3x3_c256_28", "fmnist_conv1_b64", "fmnist_conv2_b64"})
    public String layer;

    private Conv2dShape shape;
    private boolean data; // dx, not dw and db
    private ConvKernels ours;
    private OneDnnConvBackward onednn;
    private HostStorage x, dy, w, dx, dw, db;

    @Setup(Level.Trial)
    public void setUp() {
        shape = ConvBench.shape(layer);
        Tessera.setThreads(threads);
        SplittableRandom rnd = new SplittableRandom(13);
        float[] xv = ConvBench.floats(rnd, shape.n() * shape.h() * shape.w() * shape.c());
        float[] dyv = ConvBench.floats(rnd, shape.n() * shape.outH() * shape.outW() * shape.k());
        float[] wv = ConvBench.floats(rnd, shape.k() * shape.r() * shape.s() * (shape.c() / shape.groups()));
        data = pass.equals("data");
        if (!data && !pass.equals("weights")) throw new IllegalArgumentException("pass is data or weights, not " + pass);
        if (backend.equals("onednn")) {
            onednn = new OneDnnConvBackward(data ? OneDnnConvBackward.Pass.DATA : OneDnnConvBackward.Pass.WEIGHTS, shape, xv, dyv, wv, threads);
            onednn.run();
            checkOneDnn(xv, dyv, wv);
            System.out.println("onednn implementation: " + onednn.implementation());
            return;
        }
        ours = kernels(backend);
        allocate(xv, dyv, wv);
        run();
    }

    private static ConvKernels kernels(String backend) {
        return Tessera.backend(backend).kernels(OpFamily.CONV).kernels();
    }

    private void allocate(float[] xv, float[] dyv, float[] wv) {
        x = ConvBench.storage(xv);
        dy = ConvBench.storage(dyv);
        w = ConvBench.storage(wv);
        dx = HostStorage.allocate(4L * xv.length);
        dw = HostStorage.allocate(4L * wv.length);
        db = HostStorage.allocate(4L * shape.k());
    }

    private void run() {
        if (data) ours.conv2dBackwardDataF32(shape, dy, 0, w, 0, dx, 0);
        else ours.conv2dBackwardWeightsF32(shape, x, 0, dy, 0, dw, 0, db, 0);
    }

    /** The peer must compute the same gradients as ours (java backend): relative error over dx, or dw and db together. */
    private void checkOneDnn(float[] xv, float[] dyv, float[] wv) {
        ours = kernels("java");
        allocate(xv, dyv, wv);
        run();
        float[] mine = data ? read(dx, xv.length) : concat(read(dw, wv.length), read(db, shape.k())), theirs = onednn.result();
        if (mine.length != theirs.length) throw new IllegalStateException("oneDNN's " + pass + " gradient has " + theirs.length + " values, ours " + mine.length);
        double num = 0, den = 0;
        for (int i = 0; i < mine.length; i++) {
            num += (mine[i] - theirs[i]) * (double) (mine[i] - theirs[i]);
            den += (double) mine[i] * mine[i];
        }
        if (!(Math.sqrt(num / den) < 1e-4)) throw new IllegalStateException("oneDNN's " + pass + " gradient differs from ours on " + shape + ": rel. error " + Math.sqrt(num / den));
        closeOurs();
        ours = null;
    }

    private static float[] read(HostStorage s, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = s.segment().getAtIndex(ValueLayout.JAVA_FLOAT, i);
        return v;
    }

    private static float[] concat(float[] a, float[] b) {
        float[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    @Benchmark
    public Object backward() {
        if (onednn != null) {
            onednn.run();
            return onednn;
        }
        run();
        return data ? dx : dw;
    }

    private void closeOurs() {
        for (HostStorage h : new HostStorage[] {x, dy, w, dx, dw, db}) if (h != null) h.close();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (onednn != null) onednn.close();
        else closeOurs();
    }
}
