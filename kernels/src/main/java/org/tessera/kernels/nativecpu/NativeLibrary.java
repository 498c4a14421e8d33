package org.tessera.kernels.nativecpu;

import org.bytedeco.javacpp.Loader;
import org.tessera.kernels.cpu.CpuInfo;
import org.tessera.kernels.cpu.Isa;

/**
 * Loads the JNI library once and reads what the CPU supports. Loading can fail in ordinary ways (the jar
 * was built without a C compiler, another platform, a broken cache): every failure becomes a reason string,
 * never an exception at the user. The library itself is baseline x86-64, so loading it cannot SIGILL.
 *
 * @param loaded     whether the library is usable
 * @param reason     why not, when not loaded
 * @param path       the loaded library file
 * @param cpuIsa     what CPU + OS support (BASELINE when not loaded)
 * @param buildIsa   the highest level the library has kernels for
 * @param compiler   the compiler that built it
 * @param featureBits CPUID feature bits (TSR_FEAT_*), 0 when not loaded
 */
record NativeLibrary(boolean loaded, String reason, String path, Isa cpuIsa, Isa buildIsa, String compiler, long featureBits) {
    private static final String JNI_NAME = "jniNativeCpu";

    private static final class Holder {
        static final NativeLibrary INSTANCE = load();
    }

    static NativeLibrary get() {
        return Holder.INSTANCE;
    }

    private static NativeLibrary load() {
        String platform;
        try {
            platform = Loader.getPlatform();
        } catch (Throwable t) {
            return failed("JavaCPP unusable: " + t);
        }
        String resource = platform + "/" + System.mapLibraryName(JNI_NAME);
        if (NativeCpu.class.getResource(resource) == null) {
            return failed("no native library for " + platform + " in this build (built without gcc/g++, or another "
                    + "platform); to build it: apt-get install -y gcc g++, then mvn install");
        }
        try {
            // Pointer's class initializer takes JavaCPP's Loader lock, and loading our library under that lock
            // initializes Pointer (JNI_OnLoad): initialize Pointer first, or a thread of the application that
            // touches any JavaCPP class meanwhile (bytedeco OpenBLAS, oneDNN) deadlocks with the preload thread.
            Class.forName("org.bytedeco.javacpp.Pointer", true, NativeLibrary.class.getClassLoader());
            String path = Loader.load(NativeCpu.class);
            return new NativeLibrary(true, null, path, Isa.fromLevel(NativeCpu.tsr_cpu_isa_level()),
                    Isa.fromLevel(NativeCpu.tsr_build_isa_level()), NativeCpu.tsr_build_compiler(), NativeCpu.tsr_cpu_feature_bits());
        } catch (Throwable t) {
            return failed("native library failed to load: " + t);
        }
    }

    private static NativeLibrary failed(String reason) {
        return new NativeLibrary(false, reason, null, Isa.BASELINE, Isa.BASELINE, null, 0);
    }

    /** CPU model and features, read on first request (not at load: it is only for reports). */
    CpuInfo cpu() {
        return CpuHolder.INFO;
    }

    private static final class CpuHolder {
        static final CpuInfo INFO = get().loaded() ? CpuInfo.fromCpuid(get().featureBits()) : CpuInfo.fromOs();
    }
}
