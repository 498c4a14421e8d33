package org.tessera.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tessera.Tensor;
import org.tessera.kernels.DType;

/** safetensors round trips for every dtype, files as other tools write them, and hostile files. */
class SafetensorsTest {
    @TempDir
    Path dir;

    /** A file with an exact header length field, header text and data bytes. */
    static Path raw(Path p, long headerLength, String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(headerLength).put(h).put(data);
        Files.write(p, b.array());
        return p;
    }

    static Path raw(Path p, String header, byte[] data) throws IOException {
        return raw(p, header.getBytes(StandardCharsets.UTF_8).length, header, data);
    }

    @Test
    void everyDtypeRoundTripsBitExactly() throws IOException {
        Path p = dir.resolve("t.safetensors");
        try (Tensor f = Tensor.of(new float[] {1.5f, -0f, Float.NaN, Float.MIN_VALUE, 3e38f, -7f}, 2, 3);
             Tensor s8 = Tensor.of(DType.S8, new byte[] {-128, 127, 0}, 3);
             Tensor u8 = Tensor.of(DType.U8, new byte[] {(byte) 255, 0}, 1, 2);
             Tensor i32 = Tensor.of(new int[] {Integer.MIN_VALUE, 5}, 2);
             Tensor scalar = Tensor.of(new float[] {42f})) {
            Map<String, Tensor> m = new LinkedHashMap<>();
            m.put("f", f);
            m.put("s8", s8);
            m.put("u8", u8);
            m.put("i32", i32);
            m.put("scalar", scalar);
            m.put("strided", f.t());
            SafetensorsWriter.write(p, m, Map.of("note", "hi \"there\"\n"));
            try (SafetensorsFile file = SafetensorsFile.open(p)) {
                assertEquals("hi \"there\"\n", file.metadata().get("note"));
                for (var e : m.entrySet()) {
                    try (Tensor back = file.read(e.getKey()); Tensor expected = e.getValue().copy()) {
                        assertEquals(expected.dtype(), back.dtype(), e.getKey());
                        assertArrayEquals(expected.shape(), back.shape(), e.getKey());
                        assertArrayEquals(expected.segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), back.segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), e.getKey());
                    }
                }
            }
        }
    }

    @Test
    void readsWhatOtherToolsWrite() throws IOException {
        // as PyTorch's safetensors writes a state dict: F16/BF16/F64 weights, an I64 counter, unsorted keys
        ByteBuffer d = ByteBuffer.allocate(4 + 4 + 16 + 8).order(ByteOrder.LITTLE_ENDIAN);
        d.putShort(Float.floatToFloat16(1.5f)).putShort(Float.floatToFloat16(-2f));
        d.putShort((short) (Float.floatToIntBits(3.25f) >>> 16)).putShort((short) (Float.floatToIntBits(-0.5f) >>> 16));
        d.putDouble(0.1).putDouble(-1e10);
        d.putLong(12345);
        String h = "{\"w64\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[8,24]},"
                + "\"w16\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},"
                + "\"wbf\":{\"dtype\":\"BF16\",\"shape\":[1,2],\"data_offsets\":[4,8]},"
                + "\"n\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[24,32]},\"__metadata__\":{\"format\":\"pt\"}}  ";
        try (SafetensorsFile f = SafetensorsFile.open(raw(dir.resolve("pt.safetensors"), h, d.array()))) {
            assertArrayEquals(new float[] {1.5f, -2f}, f.readFloats("w16"));
            assertArrayEquals(new float[] {3.25f, -0.5f}, f.readFloats("wbf"));
            assertArrayEquals(new float[] {0.1f, -1e10f}, f.readFloats("w64"));
            try (Tensor n = f.read("n")) {
                assertEquals(12345, n.toIntArray()[0]);
            }
            assertEquals("pt", f.metadata().get("format"));
            var e = assertThrows(IllegalArgumentException.class, () -> f.read("nope"));
            assertTrue(e.getMessage().contains("w64"), e.getMessage());
        }
    }

    @Test
    void hostileFilesAreRejectedWithTheReason() throws IOException {
        byte[] eight = new byte[8];
        String ok = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        Map<String, Object[]> cases = new LinkedHashMap<>();
        cases.put("shorter than", new Object[] {null});
        cases.put("impossible", new Object[] {Long.MAX_VALUE, ok, eight});
        cases.put("impossible ", new Object[] {-5L, ok, eight});
        cases.put("impossible  ", new Object[] {(long) ok.length() + 100, ok, eight});
        cases.put("outside the 4 data bytes", new Object[] {(long) ok.length(), ok, new byte[4]});
        cases.put("cannot read", new Object[] {null, ok.replace("F32", "F8_E4M3"), eight});
        cases.put("needs 12", new Object[] {null, ok.replace("[2]", "[3]"), eight});
        cases.put("overflows", new Object[] {null, ok.replace("[2]", "[4611686018427387904,4]"), eight});
        cases.put("bad shape", new Object[] {null, ok.replace("[2]", "[-2]"), eight});
        cases.put("overlap", new Object[] {null, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[4,8]}}", eight});
        cases.put("not valid JSON", new Object[] {null, ok.substring(0, ok.length() - 1), eight});
        cases.put("nesting deeper", new Object[] {null, "[".repeat(5000) + "]".repeat(5000), eight});
        cases.put("not a JSON object", new Object[] {null, "[1,2]", eight});
        cases.put("no data_offsets", new Object[] {null, ok.replace("data_offsets", "offsets"), eight});
        cases.put("duplicate key", new Object[] {null, "{\"a\":1,\"a\":2}", eight});
        int i = 0;
        for (var c : cases.entrySet()) {
            Path p = dir.resolve("bad" + i++ + ".safetensors");
            Object[] v = c.getValue();
            if (v[0] == null && v.length == 1) Files.write(p, new byte[5]);
            else if (v[0] == null) raw(p, (String) v[1], (byte[]) v[2]);
            else raw(p, (Long) v[0], (String) v[1], (byte[]) v[2]);
            var e = assertThrows(IOException.class, () -> SafetensorsFile.open(p).close(), c.getKey());
            assertTrue(e.getMessage().contains(c.getKey().strip()), c.getKey() + " -> " + e.getMessage());
        }
    }

    @Test
    void i64BeyondIntAndClosedFilesThrow() throws IOException {
        ByteBuffer d = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40);
        SafetensorsFile f = SafetensorsFile.open(raw(dir.resolve("big.safetensors"), "{\"n\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", d.array()));
        var e = assertThrows(IllegalArgumentException.class, () -> f.read("n"));
        assertTrue(e.getMessage().contains("beyond int range"), e.getMessage());
        f.close();
        assertThrows(IllegalStateException.class, () -> f.read("n"));
    }

    @Test
    void jsonWritesAndParses() {
        Object v = Json.parse(Json.write(Map.of("k", List.of(1L, 2.5, "x\u0001", true))));
        assertEquals(Map.of("k", List.of(1L, 2.5, "x\u0001", true)), v);
        assertThrows(IllegalArgumentException.class, () -> Json.write(List.of(Double.NaN)));
        assertThrows(IllegalArgumentException.class, () -> Json.parse("{\"a\":1} x"));
    }
}
