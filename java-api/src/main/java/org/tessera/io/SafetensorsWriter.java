package org.tessera.io;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tessera.Tensor;

/**
 * Writes host tensors (F32 as "F32", S8 as "I8", U8, S32 as "I32") to a safetensors file, little-endian, in
 * map order, the header padded with spaces to a multiple of 8 bytes. The file is written next to its target
 * and moved into place, so a crash never leaves a half-written model under the real name.
 */
public final class SafetensorsWriter {
    private SafetensorsWriter() {}

    /** Writes {@code tensors} (name to tensor) with {@code metadata} (may be empty) to {@code path}. */
    public static void write(Path path, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        if (!metadata.isEmpty()) header.put("__metadata__", new LinkedHashMap<>(metadata));
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            if (e.getKey().equals("__metadata__")) throw new IllegalArgumentException("\"__metadata__\" is reserved, not a tensor name");
            long bytes = t.numel() * t.dtype().byteSize();
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("dtype", switch (t.dtype()) {
                case F32 -> "F32";
                case S8 -> "I8";
                case U8 -> "U8";
                case S32 -> "I32";
            });
            entry.put("shape", t.shape());
            entry.put("data_offsets", List.of(offset, offset + bytes));
            header.put(e.getKey(), entry);
            offset += bytes;
        }
        byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        Path tmp = path.resolveSibling(path.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
            head.putLong(padded).put(json);
            while (head.hasRemaining()) head.put((byte) ' ');
            writeFully(ch, head.flip());
            for (Tensor t : tensors.values()) {
                Tensor c = t.isContiguous() ? t : t.copy();
                try {
                    MemorySegment seg = c.segment();
                    if (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN || t.dtype().byteSize() == 1) {
                        writeFully(ch, seg.asByteBuffer());
                    } else {
                        ByteBuffer b = ByteBuffer.allocate((int) seg.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
                        for (long i = 0; i < seg.byteSize() / 4; i++) b.putInt(seg.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i));
                        writeFully(ch, b.flip());
                    }
                } finally {
                    if (c != t) c.close();
                }
            }
        }
        Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }
}
