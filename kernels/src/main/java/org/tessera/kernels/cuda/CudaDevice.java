package org.tessera.kernels.cuda;

import static org.tessera.kernels.cuda.CudaCalls.check;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;

/**
 * One CUDA device with its primary context and our PTX modules, loaded once. Every entry point makes the
 * context current on the calling thread first (driver contexts are per thread).
 */
final class CudaDevice {
    private static final Pattern ENTRY = Pattern.compile("\\.entry\\s+([A-Za-z_][A-Za-z0-9_]*)");
    final int ordinal;
    final String name;
    final int computeCapability;
    final int arch;
    private final CUcontext context = new CUcontext();
    private final Map<String, CUfunction> functions = new HashMap<>();

    private CudaDevice(int ordinal, String name, int computeCapability, int arch) {
        this.ordinal = ordinal;
        this.name = name;
        this.computeCapability = computeCapability;
        this.arch = arch;
    }

    /** Opens device {@code ordinal}: retains its primary context and loads every PTX module for its arch. */
    static CudaDevice open(int ordinal, PtxManifest ptx) {
        CUdevice device = new CUdevice();
        check("cuDeviceGet", JCudaDriver.cuDeviceGet(device, ordinal));
        byte[] nameBytes = new byte[256];
        check("cuDeviceGetName", JCudaDriver.cuDeviceGetName(nameBytes, nameBytes.length, device));
        int[] major = new int[1], minor = new int[1];
        check("cuDeviceGetAttribute", JCudaDriver.cuDeviceGetAttribute(major,
                CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device));
        check("cuDeviceGetAttribute", JCudaDriver.cuDeviceGetAttribute(minor,
                CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device));
        int cc = major[0] * 10 + minor[0];
        int arch = ptx.archFor(cc);
        String name = new String(nameBytes, 0, indexOfNul(nameBytes)).trim();
        if (arch < 0) {
            throw new IllegalStateException(name + " is sm_" + cc + ", older than the oldest PTX target sm_" + ptx.archs().get(0));
        }
        CudaDevice d = new CudaDevice(ordinal, name, cc, arch);
        check("cuDevicePrimaryCtxRetain", JCudaDriver.cuDevicePrimaryCtxRetain(d.context, device));
        d.makeCurrent();
        for (String module : ptx.modules()) {
            byte[] text = ptx.ptx(module, arch);
            CUmodule m = new CUmodule();
            check("cuModuleLoadData(" + module + "-sm_" + arch + ".ptx)", JCudaDriver.cuModuleLoadData(m, text));
            d.loadFunctions(m, text);
        }
        return d;
    }

    /** Looks up every {@code .entry} the PTX declares, so kernels are found by name without a list to maintain. */
    private void loadFunctions(CUmodule module, byte[] ptxText) {
        Matcher entries = ENTRY.matcher(new String(ptxText, StandardCharsets.US_ASCII));
        while (entries.find()) {
            String kernel = entries.group(1);
            CUfunction f = new CUfunction();
            check("cuModuleGetFunction(" + kernel + ")", JCudaDriver.cuModuleGetFunction(f, module, kernel));
            functions.put(kernel, f);
        }
    }

    void makeCurrent() {
        check("cuCtxSetCurrent", JCudaDriver.cuCtxSetCurrent(context));
    }

    CUfunction function(String kernel) {
        CUfunction f = functions.get(kernel);
        if (f == null) throw new IllegalStateException("CUDA kernel " + kernel + " is not loaded");
        return f;
    }

    private static int indexOfNul(byte[] bytes) {
        for (int i = 0; i < bytes.length; i++) if (bytes[i] == 0) return i;
        return bytes.length;
    }
}
