package org.tessera.kernels.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;

/**
 * What the build put in the jar: {@code ptx/manifest.properties} (written by toolchain/build-cuda.sh)
 * and one PTX file per module and architecture, {@code ptx/<module>-sm_<arch>.ptx}.
 *
 * @param built   whether PTX was compiled
 * @param reason  why not, when not built
 * @param nvcc    the nvcc version that built it
 * @param archs   target architectures, ascending (e.g. 80, 90)
 * @param modules module names (one per .cu file)
 */
record PtxManifest(boolean built, String reason, String nvcc, List<Integer> archs, List<String> modules) {
    static PtxManifest load() {
        Properties p = new Properties();
        try (InputStream in = PtxManifest.class.getResourceAsStream("ptx/manifest.properties")) {
            if (in == null) return notBuilt("not built (no PTX in this jar: nvcc not found at build time)");
            p.load(in);
        } catch (IOException e) {
            return notBuilt("PTX manifest unreadable: " + e);
        }
        if (!"built".equals(p.getProperty("status"))) return notBuilt("not built (" + p.getProperty("reason", "unknown reason") + ")");
        List<Integer> archs = Arrays.stream(p.getProperty("archs", "").split(",")).map(String::trim)
                .filter(s -> !s.isEmpty()).map(Integer::parseInt).sorted().toList();
        List<String> modules = Arrays.stream(p.getProperty("modules", "").split(",")).map(String::trim)
                .filter(s -> !s.isEmpty()).toList();
        return new PtxManifest(true, null, p.getProperty("nvcc", "?"), archs, modules);
    }

    private static PtxManifest notBuilt(String reason) {
        return new PtxManifest(false, reason, null, List.of(), List.of());
    }

    /** The newest target not above the device's compute capability (e.g. 90 for sm_90), or -1. */
    int archFor(int computeCapability) {
        int best = -1;
        for (int a : archs) if (a <= computeCapability) best = a;
        return best;
    }

    /** The PTX text of {@code module} for {@code arch}, NUL-terminated as cuModuleLoadData expects. */
    byte[] ptx(String module, int arch) {
        String name = "ptx/" + module + "-sm_" + arch + ".ptx";
        try (InputStream in = PtxManifest.class.getResourceAsStream(name)) {
            if (in == null) throw new IllegalStateException("PTX resource missing from the jar: " + name);
            byte[] text = in.readAllBytes();
            return Arrays.copyOf(text, text.length + 1);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + name, e);
        }
    }
}
