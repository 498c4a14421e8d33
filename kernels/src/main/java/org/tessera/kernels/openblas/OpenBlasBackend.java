package org.tessera.kernels.openblas;

import org.tessera.kernels.MemoryKind;
import org.tessera.kernels.spi.Availability;
import org.tessera.kernels.spi.Backend;
import org.tessera.kernels.spi.OpFamily;
import org.tessera.kernels.spi.Support;

/**
 * OpenBLAS (bytedeco) behind the same SPI, for apps that want to run the Tessera API on OpenBLAS.
 * Optional: available only when the application adds {@code org.bytedeco:openblas} and its platform
 * natives. Used only when asked for ({@code -Dtessera.backend=openblas}, {@code Ops.on("openblas")}): the
 * automatic choice never picks it. OpenBLAS runs its own threads, set to {@code tessera.threads}.
 */
public final class OpenBlasBackend implements Backend {
    public static final String NAME = "openblas";
    static final String COORDINATES = "org.bytedeco:openblas:0.3.30-1.5.12 (+ classifier linux-x86_64)";

    private volatile Availability availability;
    private volatile OpenBlasF32Gemm gemm;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public boolean automatic() {
        return false;
    }

    @Override
    public Availability availability() {
        Availability a = availability;
        if (a == null) {
            synchronized (this) {
                if (availability == null) availability = open();
                a = availability;
            }
        }
        return a;
    }

    private Availability open() {
        try {
            Class.forName("org.bytedeco.openblas.global.openblas");
        } catch (ClassNotFoundException | LinkageError e) {
            return Availability.unavailable("OpenBLAS not on the classpath: add " + COORDINATES + " to use it");
        }
        try {
            gemm = new OpenBlasF32Gemm(OpenBlasCalls.load());
            return Availability.available("OpenBLAS via bytedeco (opt-in peer backend; its own threads)");
        } catch (Throwable t) {
            return Availability.unavailable("OpenBLAS failed to load (natives for this platform missing? add " + COORDINATES + "): " + t);
        }
    }

    @Override
    public MemoryKind memoryKind() {
        return MemoryKind.HOST;
    }

    @Override
    public <T> Support<T> kernels(OpFamily<T> family) {
        if (!availability().available()) return Support.refused(availability().detail());
        if (family == OpFamily.F32_GEMM) return Support.of(family.kernelType().cast(gemm));
        return Support.refused("OpenBLAS has no " + family + " kernels here");
    }
}
