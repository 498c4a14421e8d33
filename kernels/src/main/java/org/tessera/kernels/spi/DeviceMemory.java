package org.tessera.kernels.spi;

import java.lang.foreign.MemorySegment;
import org.tessera.kernels.Storage;

/**
 * Memory of a device backend (cuda): allocation and explicit host-to-device and device-to-host copies. Host backends have
 * none; tensors move between backends only through these calls.
 */
public interface DeviceMemory {
    /** Allocates {@code byteSize} bytes of device memory (contents undefined); close the storage to free it. */
    Storage allocate(long byteSize);

    /**
     * Copies all of {@code src} (host) to {@code dst} at {@code dstByteOffset}.
     *
     * @throws IllegalArgumentException if it does not fit or {@code dst} is not this backend's memory
     */
    void copyToDevice(MemorySegment src, Storage dst, long dstByteOffset);

    /**
     * Fills all of {@code dst} (host) from {@code src} at {@code srcByteOffset}.
     *
     * @throws IllegalArgumentException if it does not fit or {@code src} is not this backend's memory
     */
    void copyToHost(Storage src, long srcByteOffset, MemorySegment dst);
}
