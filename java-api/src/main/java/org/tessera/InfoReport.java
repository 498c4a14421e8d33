package org.tessera;

import java.util.ArrayList;
import java.util.List;
import org.tessera.kernels.Backends;
import org.tessera.kernels.Config;
import org.tessera.kernels.MemoryKind;
import org.tessera.kernels.cpu.CpuInfo;
import org.tessera.kernels.nativecpu.NativeBackend;
import org.tessera.kernels.spi.Backend;
import org.tessera.kernels.spi.OpFamily;

/** Builds {@link Tessera#info()}: what a user needs to see to know what runs and why. */
final class InfoReport {
    private InfoReport() {}

    static String build() {
        Backends registry = Backends.get();
        Config config = registry.config();
        NativeBackend nativeBackend = (NativeBackend) registry.byName(NativeBackend.NAME);
        CpuInfo cpu = NativeBackend.cpuInfo();
        StringBuilder sb = new StringBuilder();
        sb.append("Tessera ").append(Tessera.version()).append('\n');
        line(sb, "JDK", Runtime.version() + " (" + System.getProperty("java.vendor") + ") " + System.getProperty("java.home"));
        line(sb, "OS", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"));
        line(sb, "CPU", cpu.model() + ", " + cpu.cores() + " logical cores");
        line(sb, "ISA", String.join(" ", cpu.features()) + " (" + cpu.source() + "); native kernels: "
                + (nativeBackend.availability().available() ? nativeBackend.isa().id() : "none")
                + " (tessera.maxIsa=" + config.maxIsa().id() + ")");
        line(sb, "Threads", Tessera.threads() + " (tessera.threads; default = logical cores)");
        line(sb, "Backends", "priority order; tessera.backend=" + (registry.forced() == null ? "auto" : registry.forced()));
        for (Backend b : registry.all()) {
            sb.append(String.format("    %-8s %s%n", b.name(), b.availability()));
            if (!b.details().isEmpty()) sb.append(String.format("    %-8s %s%n", "", b.details()));
        }
        List<String> choices = new ArrayList<>();
        for (MemoryKind memory : MemoryKind.values()) {
            for (OpFamily<?> family : OpFamily.all()) {
                String chosen;
                try {
                    chosen = registry.select(family, memory).backend().name();
                } catch (IllegalStateException e) {
                    if (memory != MemoryKind.HOST) continue; // device families only show when a device backend runs them
                    chosen = "none yet";
                }
                choices.add(family + "@" + memory.name().toLowerCase() + " -> " + chosen);
            }
        }
        line(sb, "Ops", String.join(", ", choices));
        return sb.toString();
    }

    private static void line(StringBuilder sb, String key, String value) {
        sb.append(String.format("  %-9s %s%n", key, value));
    }
}
