package org.tessera;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Objects;
import org.tessera.kernels.DType;
import org.tessera.kernels.HostStorage;
import org.tessera.kernels.MemoryKind;
import org.tessera.kernels.Preload;
import org.tessera.kernels.Storage;
import org.tessera.kernels.spi.Backend;
import org.tessera.kernels.spi.DeviceMemory;

/**
 * An n-dimensional array in off-heap memory (host, 64-byte aligned) or device memory: a dtype, a shape,
 * strides in elements and an offset into a {@link Storage} shared with its views.
 *
 * <p>Ownership: a tensor made by {@code allocate}, {@code of} or {@link #to} owns its memory and frees it
 * on {@link #close()}; use try-with-resources. {@link #managed} tensors are freed by the garbage
 * collector instead. Views ({@link #slice}, {@link #transpose}, {@link #reshape}, ...) share the owner's
 * memory without copying; closing a view does nothing, and closing the owner invalidates every view.
 * Any use of a closed tensor throws {@link IllegalStateException}; a kernel never sees freed memory.
 *
 * <p>Thread safety: reads and writes from several threads are allowed on distinct elements; closing
 * while another thread runs an op on the tensor throws instead of freeing memory in use.
 */
public final class Tensor implements AutoCloseable {
    static {
        Preload.begin(); // the native library loads in the background while the app builds its tensors
    }

    private final Storage storage;
    private final DeviceMemory device; // null for host memory
    private final DType dtype;
    private final long offset;
    private final long[] shape;
    private final long[] strides;
    private final boolean owner;

    private Tensor(Storage storage, DeviceMemory device, DType dtype, long offset, long[] shape, long[] strides, boolean owner) {
        this.storage = storage;
        this.device = device;
        this.dtype = dtype;
        this.offset = offset;
        this.shape = shape;
        this.strides = strides;
        this.owner = owner;
    }

    // ---- creation -------------------------------------------------------------------------------

    /** A zero-filled host tensor that owns its memory (freed by {@link #close()}). */
    public static Tensor allocate(DType dtype, long... shape) {
        long[] s = checkShape(shape);
        return new Tensor(HostStorage.allocate(byteSize(dtype, s)), null, dtype, 0, s, contiguousStrides(s), true);
    }

    /**
     * A zero-filled host tensor in the caller's arena, which frees it when the arena closes. Use a shared
     * arena ({@link Arena#ofShared()}) or a global one: kernels run on the library's worker threads.
     */
    public static Tensor allocate(Arena arena, DType dtype, long... shape) {
        Objects.requireNonNull(arena, "arena");
        long[] s = checkShape(shape);
        return new Tensor(HostStorage.allocate(arena, byteSize(dtype, s)), null, dtype, 0, s, contiguousStrides(s), true);
    }

    /** A zero-filled host tensor freed by the garbage collector once unreachable ({@link Arena#ofAuto()}). */
    public static Tensor managed(DType dtype, long... shape) {
        return allocate(Arena.ofAuto(), dtype, shape);
    }

    /**
     * A tensor in {@code backend}'s memory: host memory for host backends, device memory (contents
     * undefined) for device backends. Owns its memory.
     */
    public static Tensor allocate(Backend backend, DType dtype, long... shape) {
        if (backend.memoryKind() == MemoryKind.HOST) return allocate(dtype, shape);
        DeviceMemory memory = backend.deviceMemory().orElseThrow(
                () -> new IllegalArgumentException("backend " + backend.name() + " has no allocator"));
        long[] s = checkShape(shape);
        return new Tensor(memory.allocate(byteSize(dtype, s)), memory, dtype, 0, s, contiguousStrides(s), true);
    }

    /** A host F32 tensor holding a copy of {@code data} (row-major), which must have exactly as many elements. */
    public static Tensor of(float[] data, long... shape) {
        Tensor t = allocate(DType.F32, shape);
        t.copyFrom(data);
        return t;
    }

    /** A host S8 or U8 tensor holding a copy of {@code data} (row-major; U8 values are read unsigned). */
    public static Tensor of(DType dtype, byte[] data, long... shape) {
        requireByteType(dtype);
        Tensor t = allocate(dtype, shape);
        t.copyFrom(data);
        return t;
    }

    /** A host S32 tensor holding a copy of {@code data} (row-major). */
    public static Tensor of(int[] data, long... shape) {
        Tensor t = allocate(DType.S32, shape);
        t.copyFrom(data);
        return t;
    }

    /**
     * A contiguous row-major tensor over memory the caller manages (not freed by {@link #close()}).
     *
     * @throws IllegalArgumentException if the segment is on-heap or smaller than the shape needs
     */
    public static Tensor wrap(MemorySegment segment, DType dtype, long... shape) {
        long[] s = checkShape(shape);
        long bytes = byteSize(dtype, s);
        if (segment.byteSize() < bytes) {
            throw new IllegalArgumentException("segment holds " + segment.byteSize() + " bytes; shape " + Arrays.toString(s)
                    + " of " + dtype + " needs " + bytes);
        }
        return new Tensor(HostStorage.wrap(segment), null, dtype, 0, s, contiguousStrides(s), true);
    }

    // ---- properties -----------------------------------------------------------------------------

    public DType dtype() {
        return dtype;
    }

    /** The shape (a copy). */
    public long[] shape() {
        return shape.clone();
    }

    /** Size of dimension {@code dim}; negative counts from the end. */
    public long dim(int dim) {
        return shape[axis(dim)];
    }

    public int rank() {
        return shape.length;
    }

    /** Strides in elements (a copy). */
    public long[] strides() {
        return strides.clone();
    }

    /** Offset of element (0, ..., 0) in its storage, in elements. */
    public long offset() {
        return offset;
    }

    /** Number of elements. */
    public long numel() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    /** Where the memory lives. */
    public MemoryKind memoryKind() {
        return storage.kind();
    }

    /** True if the elements are laid out row-major without gaps. */
    public boolean isContiguous() {
        long expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && strides[i] != expected) return false;
            expected *= shape[i];
        }
        return true;
    }

    /** True once the tensor (or the owner of its memory) is closed or its arena is gone. */
    public boolean isClosed() {
        return !storage.isAlive();
    }

    /** Whether closing this tensor frees (or invalidates) its memory; false for views. */
    public boolean ownsMemory() {
        return owner;
    }

    /** For kernels and interop: the storage, shared with every view. */
    public Storage storage() {
        return storage;
    }

    /**
     * The host memory spanned by this contiguous tensor, for interop with other FFM code. It becomes
     * inaccessible when the tensor is closed.
     *
     * @throws IllegalStateException if the tensor is closed, not contiguous or not in host memory
     */
    public MemorySegment segment() {
        requireOpen();
        requireHost("segment()");
        if (!isContiguous()) throw new IllegalStateException("segment() needs a contiguous tensor; use copy() first");
        return ((HostStorage) storage).segment().asSlice(offset * dtype.byteSize(), numel() * dtype.byteSize());
    }

    // ---- views ----------------------------------------------------------------------------------

    /**
     * The view of indices [start, end) along {@code dim} (negative dim counts from the end).
     *
     * @throws IndexOutOfBoundsException if the range is not within [0, dim size]
     */
    public Tensor slice(int dim, long start, long end) {
        requireOpen();
        int d = axis(dim);
        if (start < 0 || end < start || end > shape[d]) {
            throw new IndexOutOfBoundsException("slice [" + start + ", " + end + ") out of bounds for dimension " + d
                    + " of size " + shape[d]);
        }
        long[] s = shape.clone();
        s[d] = end - start;
        return view(offset + (s[d] == 0 ? 0 : start * strides[d]), s, strides.clone());
    }

    /** The view at index {@code index} along {@code dim}, which drops that dimension. */
    public Tensor select(int dim, long index) {
        requireOpen();
        int d = axis(dim);
        if (index < 0 || index >= shape[d]) {
            throw new IndexOutOfBoundsException("index " + index + " out of bounds for dimension " + d + " of size " + shape[d]);
        }
        return view(offset + index * strides[d], remove(shape, d), remove(strides, d));
    }

    /** The view with dimensions {@code d0} and {@code d1} swapped (no copy). */
    public Tensor transpose(int d0, int d1) {
        requireOpen();
        int a = axis(d0), b = axis(d1);
        long[] s = shape.clone(), st = strides.clone();
        s[a] = shape[b];
        s[b] = shape[a];
        st[a] = strides[b];
        st[b] = strides[a];
        return view(offset, s, st);
    }

    /** The transpose of a 2-D tensor (a view). */
    public Tensor t() {
        if (rank() != 2) throw new IllegalStateException("t() needs a 2-D tensor, got rank " + rank() + "; use transpose(d0, d1)");
        return transpose(0, 1);
    }

    /**
     * The same elements under another shape (a view). One dimension may be -1 (inferred).
     *
     * @throws IllegalArgumentException if the element counts differ
     * @throws IllegalStateException    if the tensor is not contiguous (use {@link #copy()} first)
     */
    public Tensor reshape(long... newShape) {
        requireOpen();
        long[] s = newShape.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1) {
                if (infer >= 0) throw new IllegalArgumentException("reshape: only one dimension may be -1");
                infer = i;
            } else {
                if (s[i] < 0) throw new IllegalArgumentException("reshape: dimension " + i + " is negative: " + s[i]);
                known *= s[i];
            }
        }
        if (infer >= 0) {
            if (known == 0 || numel() % known != 0) {
                throw new IllegalArgumentException("reshape: cannot infer dimension " + infer + " of " + Arrays.toString(newShape)
                        + " from " + numel() + " elements");
            }
            s[infer] = numel() / known;
            known *= s[infer];
        }
        if (known != numel()) {
            throw new IllegalArgumentException("reshape: " + Arrays.toString(shape) + " has " + numel() + " elements, "
                    + Arrays.toString(newShape) + " has " + known);
        }
        if (!isContiguous()) throw new IllegalStateException("reshape needs a contiguous tensor; use copy() first");
        return view(offset, s, contiguousStrides(s));
    }

    private Tensor view(long newOffset, long[] newShape, long[] newStrides) {
        return new Tensor(storage, device, dtype, newOffset, newShape, newStrides, false);
    }

    // ---- element access (host) --------------------------------------------------------------------

    /** Element at {@code index} of an F32 host tensor. */
    public float getFloat(long... index) {
        requireType(DType.F32);
        return hostSegment().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, elementIndex(index));
    }

    /** Sets element {@code index} of an F32 host tensor. */
    public void setFloat(float value, long... index) {
        requireType(DType.F32);
        hostSegment().setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, elementIndex(index), value);
    }

    /** Element at {@code index} of an S8 (-128..127), U8 (0..255) or S32 host tensor. */
    public int getInt(long... index) {
        MemorySegment seg = hostSegment();
        long i = elementIndex(index);
        return switch (dtype) {
            case S8 -> seg.get(ValueLayout.JAVA_BYTE, i);
            case U8 -> Byte.toUnsignedInt(seg.get(ValueLayout.JAVA_BYTE, i));
            case S32 -> seg.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i);
            case F32 -> throw new IllegalStateException("getInt on an F32 tensor; use getFloat");
        };
    }

    /**
     * Sets element {@code index} of an S8, U8 or S32 host tensor.
     *
     * @throws IllegalArgumentException if {@code value} is outside the dtype's range (never truncated)
     */
    public void setInt(int value, long... index) {
        MemorySegment seg = hostSegment();
        long i = elementIndex(index);
        switch (dtype) {
            case S8 -> seg.set(ValueLayout.JAVA_BYTE, i, (byte) checkRange(value, -128, 127));
            case U8 -> seg.set(ValueLayout.JAVA_BYTE, i, (byte) checkRange(value, 0, 255));
            case S32 -> seg.setAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i, value);
            case F32 -> throw new IllegalStateException("setInt on an F32 tensor; use setFloat");
        }
    }

    // ---- bulk copies ------------------------------------------------------------------------------

    /** Copies {@code src} (row-major over this tensor's shape, which may be a strided view) into this F32 tensor. */
    public void copyFrom(float[] src) {
        requireType(DType.F32);
        requireLength(src.length);
        copyIn(MemorySegment.ofArray(src));
    }

    /** Copies {@code src} into this S8 or U8 tensor (bytes as they are; U8 reads them unsigned). */
    public void copyFrom(byte[] src) {
        requireByteType(dtype);
        requireLength(src.length);
        copyIn(MemorySegment.ofArray(src));
    }

    /** Copies {@code src} into this S32 tensor. */
    public void copyFrom(int[] src) {
        requireType(DType.S32);
        requireLength(src.length);
        copyIn(MemorySegment.ofArray(src));
    }

    /** The elements of this F32 tensor, row-major. */
    public float[] toFloatArray() {
        requireType(DType.F32);
        float[] out = new float[arrayLength()];
        copyOut(MemorySegment.ofArray(out));
        return out;
    }

    /** The bytes of this S8 or U8 tensor, row-major. */
    public byte[] toByteArray() {
        requireByteType(dtype);
        byte[] out = new byte[arrayLength()];
        copyOut(MemorySegment.ofArray(out));
        return out;
    }

    /** The elements of this S32 tensor, row-major. */
    public int[] toIntArray() {
        requireType(DType.S32);
        int[] out = new int[arrayLength()];
        copyOut(MemorySegment.ofArray(out));
        return out;
    }

    /**
     * Copies {@code src} (same shape and dtype, any layout, host or device) into this tensor.
     *
     * @throws IllegalArgumentException if shapes or dtypes differ
     */
    public void copyFrom(Tensor src) {
        requireOpen();
        src.requireOpen();
        if (src.dtype != dtype) throw new IllegalArgumentException("copyFrom: dtype " + src.dtype + " into " + dtype);
        if (!Arrays.equals(src.shape, shape)) {
            throw new IllegalArgumentException("copyFrom: shape " + Arrays.toString(src.shape) + " into " + Arrays.toString(shape));
        }
        if (src.device == null && device == null) {
            StridedCopy.copy(src, this);
        } else {
            // Across memories: stage through a contiguous host buffer.
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment staging = arena.allocate(Math.max(1, numel() * dtype.byteSize()), HostStorage.ALIGNMENT)
                        .asSlice(0, numel() * dtype.byteSize());
                src.copyOut(staging);
                copyIn(staging);
            }
        }
    }

    /** A contiguous copy in the same memory, owned by the caller. */
    public Tensor copy() {
        requireOpen();
        Tensor out = allocateSibling(shape);
        try {
            out.copyFrom(this);
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
        return out;
    }

    /** A new owned tensor of this dtype in the same memory (host, or the same device); device contents undefined. */
    Tensor allocateSibling(long... newShape) {
        return allocateSibling(dtype, newShape);
    }

    /** A new owned tensor of {@code type} in the same memory. */
    Tensor allocateSibling(DType type, long... newShape) {
        if (device == null) return allocate(type, newShape);
        long[] s = checkShape(newShape);
        return new Tensor(device.allocate(byteSize(type, s)), device, type, 0, s, contiguousStrides(s), true);
    }

    /**
     * A contiguous copy in {@code backend}'s memory (host memory for host backends), owned by the caller.
     * Moving between backends is always explicit and always a copy.
     */
    public Tensor to(Backend backend) {
        requireOpen();
        Tensor out = allocate(backend, dtype, shape);
        try {
            out.copyFrom(this);
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
        return out;
    }

    /** Frees the memory if this tensor owns it; views: no effect. Idempotent. */
    @Override
    public void close() {
        if (owner) storage.close();
    }

    @Override
    public String toString() {
        return "Tensor(" + dtype + ", shape " + Arrays.toString(shape) + (isContiguous() ? "" : ", strides " + Arrays.toString(strides))
                + ", " + storage.kind() + (isClosed() ? ", closed" : "") + ")";
    }

    // ---- internals ------------------------------------------------------------------------------

    /** Host element copy-in from a contiguous row-major segment (device: one transfer). */
    private void copyIn(MemorySegment src) {
        requireOpen();
        if (device != null) {
            requireContiguousDevice();
            device.copyToDevice(src, storage, offset * dtype.byteSize());
        } else {
            StridedCopy.fromContiguous(src, this);
        }
    }

    private void copyOut(MemorySegment dst) {
        requireOpen();
        if (device != null) {
            requireContiguousDevice();
            device.copyToHost(storage, offset * dtype.byteSize(), dst);
        } else {
            StridedCopy.toContiguous(this, dst);
        }
    }

    private void requireContiguousDevice() {
        if (!isContiguous()) throw new UnsupportedOperationException("strided views of device tensors cannot be copied yet; copy() them on the device first");
    }

    /** The host segment, after checking the tensor is open and in host memory. */
    MemorySegment hostSegment() {
        requireOpen();
        requireHost("element access");
        return ((HostStorage) storage).segment();
    }

    /** Storage index (in elements) of the element at {@code index}, bounds-checked. */
    long elementIndex(long... index) {
        if (index.length != shape.length) {
            throw new IllegalArgumentException("index has " + index.length + " coordinates; tensor has rank " + shape.length);
        }
        long e = offset;
        for (int i = 0; i < index.length; i++) {
            if (index[i] < 0 || index[i] >= shape[i]) {
                throw new IndexOutOfBoundsException("index " + index[i] + " out of bounds for dimension " + i + " of size " + shape[i]);
            }
            e += index[i] * strides[i];
        }
        return e;
    }

    void requireOpen() {
        if (!storage.isAlive()) throw new IllegalStateException(dtype + Arrays.toString(shape) + ": " + storage.closedMessage());
    }

    private void requireHost(String what) {
        if (device != null) throw new IllegalStateException(what + " needs host memory; this tensor is in " + storage.kind()
                + " memory: use to(Tessera.backend(\"java\")) or toFloatArray()");
    }

    void requireType(DType expected) {
        if (dtype != expected) throw new IllegalArgumentException("expected a " + expected + " tensor, got " + dtype);
    }

    private static void requireByteType(DType dtype) {
        if (dtype != DType.S8 && dtype != DType.U8) throw new IllegalArgumentException("byte data needs an S8 or U8 tensor, got " + dtype);
    }

    private void requireLength(int length) {
        if (length != numel()) {
            throw new IllegalArgumentException("array has " + length + " elements; tensor " + Arrays.toString(shape) + " has " + numel());
        }
    }

    private int arrayLength() {
        long n = numel();
        if (n > Integer.MAX_VALUE - 8) throw new IllegalStateException("tensor has " + n + " elements, more than a Java array holds");
        return (int) n;
    }

    private int axis(int dim) {
        int d = dim < 0 ? dim + shape.length : dim;
        if (d < 0 || d >= shape.length) throw new IndexOutOfBoundsException("dimension " + dim + " out of range for rank " + shape.length);
        return d;
    }

    private static int checkRange(int value, int min, int max) {
        if (value < min || value > max) throw new IllegalArgumentException("value " + value + " outside [" + min + ", " + max + "]");
        return value;
    }

    private static long[] checkShape(long[] shape) {
        Objects.requireNonNull(shape, "shape");
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0) throw new IllegalArgumentException("dimension " + i + " is negative: " + Arrays.toString(shape));
        }
        return shape.clone();
    }

    private static long byteSize(DType dtype, long[] shape) {
        long n = dtype.byteSize();
        try {
            for (long d : shape) n = Math.multiplyExact(n, d);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " overflows 64-bit sizes");
        }
        return n;
    }

    static long[] contiguousStrides(long[] shape) {
        long[] st = new long[shape.length];
        long s = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            st[i] = s;
            s *= Math.max(shape[i], 1);
        }
        return st;
    }

    private static long[] remove(long[] a, int i) {
        long[] r = new long[a.length - 1];
        System.arraycopy(a, 0, r, 0, i);
        System.arraycopy(a, i + 1, r, i, a.length - i - 1);
        return r;
    }
}
