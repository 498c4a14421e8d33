package org.tessera.kernels.cuda;

import static org.tessera.kernels.cuda.CudaCalls.check;

import java.lang.foreign.MemorySegment;
import java.util.Optional;
import jcuda.Pointer;
import jcuda.driver.JCudaDriver;
import org.tessera.kernels.Checks;
import org.tessera.kernels.MemoryKind;
import org.tessera.kernels.Storage;
import org.tessera.kernels.spi.Availability;
import org.tessera.kernels.spi.Backend;
import org.tessera.kernels.spi.DeviceMemory;
import org.tessera.kernels.spi.OpFamily;
import org.tessera.kernels.spi.Support;

/**
 * NVIDIA GPUs through JCuda's driver API, running PTX compiled at build time (no runtime compilation).
 * Unavailable, with the reason, when the jar has no PTX, the CUDA driver (libcuda) is missing, or there
 * is no device. Uses device 0.
 */
public final class CudaBackend implements Backend, DeviceMemory {
    public static final String NAME = "cuda";

    private volatile Availability availability;
    private volatile CudaDevice device;
    private volatile CudaElementwise elementwise;

    @Override
    public String name() {
        return NAME;
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
        PtxManifest ptx = PtxManifest.load();
        if (!ptx.built()) return Availability.unavailable(ptx.reason());
        try {
            JCudaDriver.setExceptionsEnabled(false);
            check("cuInit", JCudaDriver.cuInit(0));
            int[] count = new int[1];
            check("cuDeviceGetCount", JCudaDriver.cuDeviceGetCount(count));
            if (count[0] == 0) return Availability.unavailable("no CUDA device found");
            CudaDevice d = CudaDevice.open(0, ptx);
            device = d;
            elementwise = new CudaElementwise(d);
            return Availability.available(d.name + " (sm_" + d.computeCapability + ", PTX sm_" + d.arch + ", nvcc " + ptx.nvcc() + ")");
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            return Availability.unavailable("CUDA driver not loadable (libcuda.so.1 missing? no NVIDIA driver): " + firstLine(e));
        } catch (RuntimeException e) {
            return Availability.unavailable(firstLine(e));
        }
    }

    private static String firstLine(Throwable t) {
        String m = String.valueOf(t.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    @Override
    public MemoryKind memoryKind() {
        return MemoryKind.CUDA;
    }

    @Override
    public <T> Support<T> kernels(OpFamily<T> family) {
        if (!availability().available()) return Support.refused(availability().detail());
        if (family == OpFamily.ELEMENTWISE) return Support.of(family.kernelType().cast(elementwise));
        return Support.refused("no cuda " + family + " kernels yet");
    }

    @Override
    public Optional<DeviceMemory> deviceMemory() {
        return Optional.of(this);
    }

    @Override
    public Storage allocate(long byteSize) {
        Checks.nonNegative("byteSize", byteSize);
        return CudaStorage.allocate(requireDevice(), byteSize);
    }

    @Override
    public void copyToDevice(MemorySegment src, Storage dst, long dstByteOffset) {
        CudaStorage d = checkRange(dst, dstByteOffset, src.byteSize());
        if (src.byteSize() == 0) return;
        d.acquire();
        try {
            d.device().makeCurrent();
            check("cuMemcpyHtoD", JCudaDriver.cuMemcpyHtoD(d.at(dstByteOffset), Pointer.to(src.asByteBuffer()), src.byteSize()));
        } finally {
            d.release();
        }
    }

    @Override
    public void copyToHost(Storage src, long srcByteOffset, MemorySegment dst) {
        CudaStorage s = checkRange(src, srcByteOffset, dst.byteSize());
        if (dst.byteSize() == 0) return;
        s.acquire();
        try {
            s.device().makeCurrent();
            check("cuMemcpyDtoH", JCudaDriver.cuMemcpyDtoH(Pointer.to(dst.asByteBuffer()), s.at(srcByteOffset), dst.byteSize()));
        } finally {
            s.release();
        }
    }

    private CudaStorage checkRange(Storage storage, long byteOffset, long bytes) {
        if (!(storage instanceof CudaStorage c)) {
            throw new IllegalArgumentException("expected CUDA memory, got " + (storage == null ? "null" : storage.kind()));
        }
        Checks.block("device memory", storage, MemoryKind.CUDA, 1, byteOffset, 1, bytes, bytes);
        return c;
    }

    private CudaDevice requireDevice() {
        if (!availability().available()) throw new IllegalStateException("cuda backend " + availability());
        return device;
    }

    @Override
    public String details() {
        CudaDevice d = device;
        return d == null ? "" : "device " + d.ordinal + ": " + d.name;
    }
}
