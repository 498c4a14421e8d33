package org.tessera.kernels.cpu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What the processor is: model name and logical cores (from the OS), and the SIMD features that matter
 * to our kernels. Features come from CPUID in the native library when it is loaded; otherwise from
 * {@code /proc/cpuinfo} (informational only: dispatch never trusts it).
 *
 * @param model    e.g. "AMD EPYC 7B13", or "unknown"
 * @param cores    logical processors available to the JVM
 * @param features lower-case feature names (avx2, fma, avx512f, ...)
 * @param source   where the features came from ("cpuid" or "/proc/cpuinfo")
 */
public record CpuInfo(String model, int cores, Set<String> features, String source) {
    /** Features Tessera reports, by {@code TSR_FEAT_*} bit position. */
    private static final List<String> FEATURE_BITS = List.of("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f",
            "avx512bw", "avx512dq", "avx512vl", "avx512_vnni", "avx_vnni", "os-ymm", "os-zmm");

    /** From CPUID feature bits ({@code tsr_cpu_feature_bits()}). */
    public static CpuInfo fromCpuid(long bits) {
        Set<String> features = new TreeSet<>();
        for (int i = 0; i < FEATURE_BITS.size(); i++) if ((bits & (1L << i)) != 0) features.add(FEATURE_BITS.get(i));
        return new CpuInfo(modelName(), Runtime.getRuntime().availableProcessors(), features, "cpuid");
    }

    /** From the OS only, when no native library is loaded. */
    public static CpuInfo fromOs() {
        Set<String> features = new TreeSet<>();
        for (String line : cpuinfoLines()) {
            if (line.startsWith("flags")) {
                for (String flag : line.substring(line.indexOf(':') + 1).trim().split("\\s+")) {
                    if (FEATURE_BITS.contains(flag)) features.add(flag);
                }
                break;
            }
        }
        return new CpuInfo(modelName(), Runtime.getRuntime().availableProcessors(), features, "/proc/cpuinfo");
    }

    private static String modelName() {
        for (String line : cpuinfoLines()) {
            if (line.startsWith("model name")) return line.substring(line.indexOf(':') + 1).trim();
        }
        return System.getProperty("os.arch", "unknown");
    }

    private static List<String> cpuinfoLines() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo"));
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }
}
