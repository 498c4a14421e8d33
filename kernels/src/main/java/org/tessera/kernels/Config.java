package org.tessera.kernels;

import java.util.Properties;
import org.tessera.kernels.cpu.Isa;

/**
 * Library settings, read from system properties (or any {@link Properties}, for tests):
 * <ul>
 *   <li>{@code tessera.backend}: force a backend ({@code java}, {@code native}, {@code cuda}); default: the
 *       best available for each op;</li>
 *   <li>{@code tessera.threads}: size of the library's worker pool; default: available processors;</li>
 *   <li>{@code tessera.maxIsa}: cap the native ISA level ({@code baseline}, {@code avx2}, {@code avx512}),
 *       e.g. {@code baseline} makes the native side behave as on a CPU without AVX2;</li>
 *   <li>{@code tessera.vnni}: {@code false} keeps the native int8 kernels off AVX-512 VNNI and AVX-VNNI even
 *       where the CPU has them (for A/B timing, or to rule them out); default {@code true};</li>
 *   <li>{@code tessera.verbose}: log every backend choice and every refusal with its reason.</li>
 * </ul>
 *
 * @param backend forced backend name, or null
 * @param threads worker pool size, >= 1
 * @param maxIsa  highest ISA level native kernels may use
 * @param vnni    whether int8 kernels may use VNNI instructions where the CPU has them
 * @param verbose log selection decisions
 */
public record Config(String backend, int threads, Isa maxIsa, boolean vnni, boolean verbose) {
    public Config {
        if (threads < 1) throw new IllegalArgumentException("tessera.threads must be >= 1, got " + threads);
    }

    /** The settings of this JVM's system properties. */
    public static Config fromSystemProperties() {
        return from(System.getProperties());
    }

    /**
     * @throws IllegalArgumentException naming the property, for a malformed value
     */
    public static Config from(Properties p) {
        String backend = p.getProperty("tessera.backend");
        if (backend != null && (backend.isBlank() || backend.equals("auto"))) backend = null;
        String threadsText = p.getProperty("tessera.threads");
        int threads = Runtime.getRuntime().availableProcessors();
        if (threadsText != null && !threadsText.isBlank()) {
            try {
                threads = Integer.parseInt(threadsText.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("tessera.threads must be a positive integer, got '" + threadsText + "'");
            }
        }
        String isaText = p.getProperty("tessera.maxIsa");
        Isa maxIsa = isaText == null || isaText.isBlank() ? Isa.AVX512 : Isa.parse(isaText);
        boolean vnni = parseBoolean(p, "tessera.vnni", true);
        boolean verbose = Boolean.parseBoolean(p.getProperty("tessera.verbose", "false"));
        return new Config(backend == null ? null : backend.trim(), threads, maxIsa, vnni, verbose);
    }

    private static boolean parseBoolean(Properties p, String name, boolean absent) {
        String text = p.getProperty(name);
        if (text == null || text.isBlank()) return absent;
        return switch (text.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException(name + " must be true or false, got '" + text + "'");
        };
    }
}
