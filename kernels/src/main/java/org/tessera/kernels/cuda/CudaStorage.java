package org.tessera.kernels.cuda;

import static org.tessera.kernels.cuda.CudaCalls.check;

import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;
import org.tessera.kernels.MemoryKind;
import org.tessera.kernels.Storage;

/** Device global memory from cuMemAlloc, freed by {@link #close()}. */
final class CudaStorage extends Storage {
    private final CudaDevice device;
    private final CUdeviceptr pointer;

    private CudaStorage(CudaDevice device, CUdeviceptr pointer, long byteSize) {
        super(byteSize);
        this.device = device;
        this.pointer = pointer;
    }

    static CudaStorage allocate(CudaDevice device, long byteSize) {
        device.makeCurrent();
        CUdeviceptr p = new CUdeviceptr();
        // cuMemAlloc rejects 0 bytes; a 1-byte block keeps empty tensors uniform.
        check("cuMemAlloc(" + byteSize + " bytes)", JCudaDriver.cuMemAlloc(p, Math.max(byteSize, 1)));
        return new CudaStorage(device, p, byteSize);
    }

    /** The device address {@code byteOffset} bytes in. */
    CUdeviceptr at(long byteOffset) {
        return pointer.withByteOffset(byteOffset);
    }

    CudaDevice device() {
        return device;
    }

    @Override
    public MemoryKind kind() {
        return MemoryKind.CUDA;
    }

    @Override
    protected void free() {
        device.makeCurrent();
        check("cuMemFree", JCudaDriver.cuMemFree(pointer));
    }
}
