package org.tessera;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Properties;
import org.tessera.kernels.Backends;
import org.tessera.kernels.WorkerPool;
import org.tessera.kernels.spi.Backend;

/**
 * Library-wide entry points: version, backends, in-code overrides of {@code tessera.backend} and
 * {@code tessera.threads}, and the {@link #info()} report.
 */
public final class Tessera {
    private Tessera() {}

    /** The library version, e.g. {@code 0.1.0}. */
    public static String version() {
        Properties p = new Properties();
        try (InputStream in = Tessera.class.getResourceAsStream("version.properties")) {
            if (in != null) p.load(in);
        } catch (IOException e) {
            return "unknown";
        }
        return p.getProperty("version", "unknown");
    }

    /** Every backend in priority order (cuda, native, java), available or not. */
    public static List<Backend> backends() {
        return Backends.get().all();
    }

    /**
     * The backend named {@code name}: {@code java}, {@code native} or {@code cuda}.
     *
     * @throws IllegalArgumentException for an unknown name
     */
    public static Backend backend(String name) {
        return Backends.get().byName(name);
    }

    /**
     * Forces every op onto one backend, like {@code -Dtessera.backend=name}; null returns to the automatic
     * choice (best available per op).
     *
     * @throws IllegalArgumentException for an unknown name
     */
    public static void useBackend(String name) {
        Backends.get().setForced(name);
    }

    /** Resizes the library's worker pool, like {@code -Dtessera.threads=n}. */
    public static void setThreads(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        WorkerPool.setSharedThreads(threads);
    }

    /** Threads the library's kernels use. */
    public static int threads() {
        return WorkerPool.shared().threads();
    }

    /** A report of the JDK, CPU, ISA, threads, every backend's availability and each op family's choice. */
    public static String info() {
        return InfoReport.build();
    }
}
