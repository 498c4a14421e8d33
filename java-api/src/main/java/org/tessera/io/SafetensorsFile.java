package org.tessera.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tessera.Tensor;
import org.tessera.kernels.DType;

/**
 * A <a href="https://github.com/huggingface/safetensors">safetensors</a> file opened for reading: an 8-byte
 * little-endian header length, a JSON header naming each tensor's dtype, shape and byte range, then the data.
 * The file is memory-mapped, and the whole header is validated on {@link #open} before anything is read:
 * the header length against the file size and {@link #MAX_HEADER_BYTES}, every dtype, every shape (no
 * overflow), every byte range (inside the data, the size the shape needs, no two tensors overlapping). A
 * hostile file therefore fails with an {@link IOException} naming the problem and never makes the reader
 * allocate more than the file holds.
 *
 * <p>Readable dtypes: F32, F16, BF16 and F64 (read as F32; F64 rounded to nearest, a value beyond F32's range
 * is an error), I8 (as {@link DType#S8}), U8, I32 and I64 (as {@link DType#S32}; an I64 value beyond int's
 * range is an error). Close the file to unmap it; tensors read from it are copies and outlive it.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** Headers above this size (100 MiB, the reference implementation's limit) are refused. */
    public static final long MAX_HEADER_BYTES = 100L << 20;

    /** One tensor's entry in the header. {@code begin}/{@code end}: byte range within the data section. */
    public record Entry(String name, String dtype, long[] shape, long begin, long end) {
        /** Elements in the tensor. */
        public long numel() {
            long n = 1;
            for (long d : shape) n *= d;
            return n;
        }
    }

    private final Path path;
    private final Arena arena;
    private final MemorySegment data;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, Arena arena, MemorySegment data, Map<String, Entry> entries, Map<String, String> metadata) {
        this.path = path;
        this.arena = arena;
        this.data = data;
        this.entries = entries;
        this.metadata = metadata;
    }

    /**
     * Opens and validates a safetensors file.
     *
     * @throws IOException if the file cannot be read or is not a well-formed safetensors file (the message says why)
     */
    public static SafetensorsFile open(Path path) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw bad(path, "file is " + size + " bytes, shorter than the 8-byte header length");
            MemorySegment file = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            long headerLength = file.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 0);
            if (headerLength < 2 || headerLength > MAX_HEADER_BYTES || headerLength > size - 8) {
                throw bad(path, "header length " + headerLength + " is impossible for a file of " + size + " bytes (limit "
                        + MAX_HEADER_BYTES + ")");
            }
            String json = new String(file.asSlice(8, headerLength).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
            MemorySegment data = file.asSlice(8 + headerLength);
            Object header;
            try {
                header = Json.parse(json.stripTrailing());
            } catch (IllegalArgumentException e) {
                throw bad(path, "header is not valid JSON: " + e.getMessage());
            }
            if (!(header instanceof Map<?, ?> map)) throw bad(path, "header is not a JSON object");
            Map<String, Entry> entries = new LinkedHashMap<>();
            Map<String, String> metadata = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : map.entrySet()) {
                String name = (String) e.getKey();
                if (name.equals("__metadata__")) {
                    if (!(e.getValue() instanceof Map<?, ?> meta)) throw bad(path, "__metadata__ is not an object");
                    for (Map.Entry<?, ?> m : meta.entrySet()) {
                        if (!(m.getValue() instanceof String v)) throw bad(path, "__metadata__ value of \"" + m.getKey() + "\" is not a string");
                        metadata.put((String) m.getKey(), v);
                    }
                    continue;
                }
                entries.put(name, entry(path, name, e.getValue(), data.byteSize()));
            }
            checkNoOverlap(path, entries.values());
            return new SafetensorsFile(path, arena, data, Collections.unmodifiableMap(entries), Collections.unmodifiableMap(metadata));
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static Entry entry(Path path, String name, Object value, long dataBytes) throws IOException {
        if (!(value instanceof Map<?, ?> m)) throw bad(path, "tensor \"" + name + "\" is not an object");
        if (!(m.get("dtype") instanceof String dtype)) throw bad(path, "tensor \"" + name + "\" has no dtype");
        int elementBytes = elementBytes(dtype);
        if (elementBytes == 0) throw bad(path, "tensor \"" + name + "\" has dtype " + dtype + ", which Tessera cannot read (F32, F16, BF16, F64, I8, U8, I32, I64)");
        if (!(m.get("shape") instanceof List<?> shapeList)) throw bad(path, "tensor \"" + name + "\" has no shape");
        if (shapeList.size() > 8) throw bad(path, "tensor \"" + name + "\" has rank " + shapeList.size() + " (at most 8)");
        long[] shape = new long[shapeList.size()];
        long numel = 1;
        for (int i = 0; i < shape.length; i++) {
            if (!(shapeList.get(i) instanceof Long d) || d < 0) throw bad(path, "tensor \"" + name + "\" has a bad shape " + shapeList);
            shape[i] = d;
            try {
                numel = Math.multiplyExact(numel, d);
                Math.multiplyExact(numel, (long) elementBytes);
            } catch (ArithmeticException e) {
                throw bad(path, "tensor \"" + name + "\" shape " + shapeList + " overflows");
            }
        }
        if (!(m.get("data_offsets") instanceof List<?> off) || off.size() != 2 || !(off.get(0) instanceof Long begin)
                || !(off.get(1) instanceof Long end)) {
            throw bad(path, "tensor \"" + name + "\" has no data_offsets [begin, end]");
        }
        if (begin < 0 || end < begin || end > dataBytes) {
            throw bad(path, "tensor \"" + name + "\" data_offsets [" + begin + ", " + end + "] fall outside the " + dataBytes
                    + " data bytes (file truncated?)");
        }
        if (end - begin != numel * elementBytes) {
            throw bad(path, "tensor \"" + name + "\" spans " + (end - begin) + " bytes but " + dtype + " " + shapeList + " needs "
                    + numel * elementBytes);
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    private static void checkNoOverlap(Path path, java.util.Collection<Entry> all) throws IOException {
        List<Entry> sorted = new ArrayList<>(all);
        sorted.sort((a, b) -> Long.compare(a.begin, b.begin));
        for (int i = 1; i < sorted.size(); i++) {
            Entry prev = sorted.get(i - 1), cur = sorted.get(i);
            if (cur.begin < prev.end) throw bad(path, "tensors \"" + prev.name + "\" and \"" + cur.name + "\" overlap");
        }
    }

    static int elementBytes(String dtype) {
        return switch (dtype) {
            case "F32", "I32" -> 4;
            case "F16", "BF16" -> 2;
            case "F64", "I64" -> 8;
            case "I8", "U8" -> 1;
            default -> 0;
        };
    }

    private static IOException bad(Path path, String why) {
        return new IOException(path + ": not a valid safetensors file: " + why);
    }

    /** The file's path. */
    public Path path() {
        return path;
    }

    /** The header's {@code __metadata__} (string to string; empty when absent). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Every tensor's entry, in header order. */
    public Map<String, Entry> entries() {
        return entries;
    }

    /** Whether the file holds a tensor of that name. */
    public boolean contains(String name) {
        return entries.containsKey(name);
    }

    /**
     * A copy of tensor {@code name} as a new host tensor (F32, S8, U8 or S32, see the class comment). The caller owns it.
     *
     * @throws IllegalArgumentException if there is no such tensor or a value does not fit the Tessera dtype
     * @throws IllegalStateException    if the file is closed
     */
    public Tensor read(String name) {
        Entry e = entry(name);
        MemorySegment src = data.asSlice(e.begin, e.end - e.begin);
        long n = e.numel();
        var le = java.nio.ByteOrder.LITTLE_ENDIAN;
        return switch (e.dtype) {
            case "I8", "U8" -> {
                Tensor t = Tensor.allocate(e.dtype.equals("I8") ? DType.S8 : DType.U8, e.shape);
                MemorySegment.copy(src, 0, t.segment(), 0, n);
                yield t;
            }
            case "I32" -> {
                Tensor t = Tensor.allocate(DType.S32, e.shape);
                for (long i = 0; i < n; i++) t.segment().setAtIndex(ValueLayout.JAVA_INT, i, src.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED.withOrder(le), i));
                yield t;
            }
            case "I64" -> {
                Tensor t = Tensor.allocate(DType.S32, e.shape);
                for (long i = 0; i < n; i++) {
                    long v = src.getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(le), i);
                    if (v != (int) v) {
                        t.close();
                        throw new IllegalArgumentException(path + ": tensor \"" + name + "\" holds " + v + " at " + i + ", beyond int range");
                    }
                    t.segment().setAtIndex(ValueLayout.JAVA_INT, i, (int) v);
                }
                yield t;
            }
            default -> {
                Tensor t = Tensor.allocate(DType.F32, e.shape);
                MemorySegment dst = t.segment();
                for (long i = 0; i < n; i++) dst.setAtIndex(ValueLayout.JAVA_FLOAT, i, floatAt(e, src, i));
                yield t;
            }
        };
    }

    /** Tensor {@code name} as a float array (any floating dtype, see {@link #read}). */
    public float[] readFloats(String name) {
        try (Tensor t = read(name)) {
            if (t.dtype() != DType.F32) throw new IllegalArgumentException(path + ": tensor \"" + name + "\" is " + entry(name).dtype + ", expected a float type");
            return t.toFloatArray();
        }
    }

    private float floatAt(Entry e, MemorySegment src, long i) {
        var le = java.nio.ByteOrder.LITTLE_ENDIAN;
        return switch (e.dtype) {
            case "F32" -> src.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(le), i);
            case "F16" -> Float.float16ToFloat(src.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(le), i));
            case "BF16" -> Float.intBitsToFloat((src.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(le), i) & 0xFFFF) << 16);
            case "F64" -> {
                double d = src.getAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(le), i);
                float f = (float) d;
                if (Float.isInfinite(f) && !Double.isInfinite(d)) {
                    throw new IllegalArgumentException(path + ": tensor \"" + e.name + "\" holds " + d + " at " + i + ", beyond float range");
                }
                yield f;
            }
            default -> throw new IllegalArgumentException(path + ": tensor \"" + e.name + "\" is " + e.dtype + ", not a float type");
        };
    }

    /** The entry of tensor {@code name}. @throws IllegalArgumentException listing the names present if absent */
    public Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) throw new IllegalArgumentException(path + " has no tensor \"" + name + "\"; it holds " + entries.keySet());
        if (!arena.scope().isAlive()) throw new IllegalStateException(path + " is closed");
        return e;
    }

    /** Unmaps the file. */
    @Override
    public void close() {
        if (arena.scope().isAlive()) arena.close();
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + path + ", " + entries.size() + " tensors]";
    }
}
