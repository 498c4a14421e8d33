package org.tessera.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What the build packed for the cuda backend: when nvcc ran, PTX for sm_80 and sm_90 exporting every
 * kernel; when it did not, a reason the backend reports. Runs without a GPU.
 */
class PtxManifestTest {
    @Test
    void builtPtxTargetsAmpereAndHopperAndExportsTheKernels() {
        PtxManifest m = PtxManifest.load();
        if (!m.built()) {
            assertTrue(m.reason().contains("nvcc"), "a missing build must say why: " + m.reason());
            assertFalse(new CudaBackend().availability().available());
            return;
        }
        assertTrue(m.archs().containsAll(List.of(80, 90)), "archs " + m.archs());
        assertTrue(m.modules().contains("f32-elementwise"), "modules " + m.modules());
        for (int arch : m.archs()) {
            byte[] ptx = m.ptx("f32-elementwise", arch);
            assertEquals(0, ptx[ptx.length - 1], "cuModuleLoadData needs NUL-terminated PTX");
            String text = new String(ptx, 0, ptx.length - 1, StandardCharsets.US_ASCII);
            assertTrue(text.contains(".target sm_" + arch), "PTX for sm_" + arch + " targets another arch");
            for (String kernel : List.of("tsr_f32_vrelu__cuda", "tsr_f32_vscale__cuda", "tsr_f32_vadd__cuda", "tsr_f32_vmul__cuda",
                    "tsr_f32_vrelu_grad__cuda")) {
                assertTrue(text.contains(".entry " + kernel), kernel + " missing from sm_" + arch);
            }
        }
    }

    @Test
    void archChoiceIsNewestNotAboveTheDevice() {
        PtxManifest m = new PtxManifest(true, null, "13.0", List.of(80, 90), List.of("x"));
        assertEquals(80, m.archFor(86));
        assertEquals(90, m.archFor(90));
        assertEquals(90, m.archFor(120));
        assertEquals(-1, m.archFor(75));
    }
}
