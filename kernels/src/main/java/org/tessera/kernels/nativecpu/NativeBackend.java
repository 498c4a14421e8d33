package org.tessera.kernels.nativecpu;

import java.util.ArrayList;
import java.util.List;
import org.tessera.kernels.MemoryKind;
import org.tessera.kernels.conv.GemmConv2d;
import org.tessera.kernels.java.JavaBackend;
import org.tessera.kernels.cpu.CpuInfo;
import org.tessera.kernels.sparse.SparseSpmm;
import org.tessera.kernels.cpu.Isa;
import org.tessera.kernels.spi.Availability;
import org.tessera.kernels.spi.Backend;
import org.tessera.kernels.spi.OpFamily;
import org.tessera.kernels.spi.Support;

/**
 * C kernels through JavaCPP, dispatched by CPUID at the ISA level this CPU supports, capped by
 * {@code tessera.maxIsa}. Below AVX2 there are no native kernels: the backend reports why and the java
 * backend serves.
 */
public final class NativeBackend implements Backend {
    public static final String NAME = "native";

    private final Isa maxIsa;
    private final boolean vnni;
    private volatile Availability availability;
    private volatile NativeElementwise elementwise;
    private volatile NativeF32Gemm gemm;
    private volatile NativeInt8Gemm int8Gemm;
    private volatile GemmConv2d conv;
    private volatile SparseSpmm sparse;

    /** @param maxIsa the highest ISA level kernels may use ({@code tessera.maxIsa}); VNNI allowed */
    public NativeBackend(Isa maxIsa) {
        this(maxIsa, true);
    }

    /**
     * @param maxIsa the highest ISA level kernels may use ({@code tessera.maxIsa})
     * @param vnni   whether int8 kernels may use VNNI where the CPU has it ({@code tessera.vnni})
     */
    public NativeBackend(Isa maxIsa, boolean vnni) {
        this.maxIsa = maxIsa;
        this.vnni = vnni;
    }

    @Override
    public String name() {
        return NAME;
    }

    /** The level kernels run at: what CPU, OS and build support, capped by {@code tessera.maxIsa}. */
    public Isa isa() {
        NativeLibrary lib = NativeLibrary.get();
        return lib.cpuIsa().min(lib.buildIsa()).min(maxIsa);
    }

    /** Loads the native library now (normally done on first use); failures are kept as the reason, not thrown. */
    public static void preload() {
        NativeLibrary.get();
    }

    /**
     * Runs the FMA-peak diagnostic for {@code iterations} x 192 flops and returns the seconds it took.
     *
     * @throws IllegalStateException if the native backend is not available here
     */
    public double fmaPeakSeconds(long iterations) {
        if (!availability().available()) throw new IllegalStateException("native backend " + availability());
        long t0 = System.nanoTime();
        float sink = NativeCpu.tsr_f32_fmapeak__avx2(iterations);
        long t1 = System.nanoTime();
        if (Float.isNaN(sink)) throw new AssertionError("unreachable: keeps the result alive");
        return (t1 - t0) / 1e9;
    }

    /** CPU model and features, from CPUID when the library is loaded. */
    public static CpuInfo cpuInfo() {
        return NativeLibrary.get().cpu();
    }

    @Override
    public Availability availability() {
        Availability a = availability;
        if (a == null) availability = a = computeAvailability();
        return a;
    }

    private Availability computeAvailability() {
        NativeLibrary lib = NativeLibrary.get();
        if (!lib.loaded()) return Availability.unavailable(lib.reason());
        if (lib.cpuIsa().compareTo(Isa.AVX2) < 0) {
            return Availability.unavailable("CPU lacks AVX2+FMA (detected: " + String.join(" ", lib.cpu().features()) + ")");
        }
        if (maxIsa.compareTo(Isa.AVX2) < 0) {
            return Availability.unavailable("capped by tessera.maxIsa=" + maxIsa.id() + " (CPU supports " + lib.cpuIsa().id() + ")");
        }
        return Availability.available(isa().id() + " kernels (CPU supports " + lib.cpuIsa().id() + ")");
    }

    @Override
    public MemoryKind memoryKind() {
        return MemoryKind.HOST;
    }

    @Override
    public <T> Support<T> kernels(OpFamily<T> family) {
        if (!availability().available()) return Support.refused(availability().detail());
        if (family == OpFamily.ELEMENTWISE) {
            NativeElementwise e = elementwise;
            if (e == null) elementwise = e = new NativeElementwise(isa());
            return Support.of(family.kernelType().cast(e));
        }
        if (family == OpFamily.F32_GEMM) {
            NativeF32Gemm g = gemm;
            if (g == null) gemm = g = new NativeF32Gemm(isa() == Isa.AVX512);
            return Support.of(family.kernelType().cast(g));
        }
        if (family == OpFamily.INT8_GEMM) {
            NativeInt8Gemm g = int8Gemm;
            if (g == null) int8Gemm = g = new NativeInt8Gemm(Int8Variant.select(isa(), NativeLibrary.get().cpu().features(), vnni));
            return Support.of(family.kernelType().cast(g));
        }
        if (family == OpFamily.CONV) {
            GemmConv2d c = conv;
            if (c == null) conv = c = conv((NativeF32Gemm) kernels(OpFamily.F32_GEMM).kernels(),
                    (NativeInt8Gemm) kernels(OpFamily.INT8_GEMM).kernels(), isa() == Isa.AVX512);
            return Support.of(family.kernelType().cast(c));
        }
        if (family == OpFamily.POOL) return Support.of(family.kernelType().cast(JavaBackend.POOL));
        if (family == OpFamily.SPARSE) {
            SparseSpmm s = sparse;
            if (s == null) sparse = s = new SparseSpmm(new NativeSpmmRows(), new NativeSpmmRows());
            return Support.of(family.kernelType().cast(s));
        }
        return Support.refused("no native " + family + " kernels yet");
    }

    /**
     * The kernels of {@link #kernels}, then the slower ones this CPU also runs (AVX2 under AVX-512 or VNNI), so
     * that tests on a newer CPU still cover the kernels older CPUs get.
     */
    @Override
    public <T> List<T> variants(OpFamily<T> family) {
        List<T> out = new ArrayList<>(Backend.super.variants(family));
        if (out.isEmpty()) return out;
        if (family == OpFamily.F32_GEMM && isa() == Isa.AVX512) out.add(family.kernelType().cast(new NativeF32Gemm(false)));
        boolean newerInt8 = ((NativeInt8Gemm) kernels(OpFamily.INT8_GEMM).kernels()).variant() != Int8Variant.AVX2;
        if (family == OpFamily.INT8_GEMM && newerInt8) out.add(family.kernelType().cast(new NativeInt8Gemm(Int8Variant.AVX2)));
        if (family == OpFamily.CONV && (newerInt8 || isa() == Isa.AVX512)) {
            out.add(family.kernelType().cast(conv(new NativeF32Gemm(false), new NativeInt8Gemm(Int8Variant.AVX2), false)));
        }
        return out;
    }

    /** Convolutions on these GEMMs, with the implicit int8 conv that reads {@code int8}'s packed filters. */
    private static GemmConv2d conv(NativeF32Gemm f32, NativeInt8Gemm int8, boolean avx512) {
        return new GemmConv2d(f32, new NativeDepthwiseConv2d(avx512), int8, new NativeInt8DepthwiseConv2d(), new NativeImplicitGemmConv2d(avx512),
                new NativeImplicitInt8Conv2d(int8.variant()), new NativeDirectConv2d());
    }

    @Override
    public String details() {
        NativeLibrary lib = NativeLibrary.get();
        return lib.loaded() ? "library " + lib.path() + " (" + lib.compiler() + ", kernels up to " + lib.buildIsa().id() + ")" : "";
    }
}
