package org.tessera.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The IDX reader on well-formed, truncated, padded and corrupt files, plain and gzip. */
class IdxTest {
    static byte[] idx(int type, int[] dims, byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0);
        out.write(0);
        out.write(type);
        out.write(dims.length);
        for (int d : dims) {
            out.write(d >>> 24);
            out.write(d >>> 16);
            out.write(d >>> 8);
            out.write(d);
        }
        out.writeBytes(data);
        return out.toByteArray();
    }

    static byte[] gzip(byte[] b) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(b);
        }
        return out.toByteArray();
    }

    @Test
    void readsPlainAndGzip(@TempDir Path dir) throws IOException {
        byte[] data = new byte[2 * 3 * 4];
        for (int i = 0; i < data.length; i++) data[i] = (byte) (i * 11);
        byte[] file = idx(8, new int[] {2, 3, 4}, data);
        Files.write(dir.resolve("a"), file);
        Files.write(dir.resolve("a.gz"), gzip(file));
        for (String name : new String[] {"a", "a.gz"}) {
            Idx.Array a = Idx.read(dir.resolve(name));
            assertArrayEquals(new int[] {2, 3, 4}, a.dims());
            assertArrayEquals(data, a.data());
            assertTrue(a.stride() == 12);
        }
    }

    @Test
    void rejectsMalformedFiles(@TempDir Path dir) throws IOException {
        byte[] good = idx(8, new int[] {2, 3}, new byte[6]);
        expect(dir, Arrays.copyOf(good, good.length - 1), "truncated");
        expect(dir, Arrays.copyOf(good, good.length + 3), "trailing bytes");
        expect(dir, Arrays.copyOf(good, 6), "truncated header");
        expect(dir, new byte[] {1, 0, 8, 1}, "not an IDX file");
        expect(dir, idx(0x0D, new int[] {1}, new byte[4]), "not supported");
        expect(dir, idx(8, new int[] {0, 3}, new byte[0]), "must be positive");
        expect(dir, idx(8, new int[] {-5}, new byte[0]), "must be positive");
        expect(dir, idx(8, new int[] {65536, 65536}, new byte[0]), "exceed");
        byte[] gz = gzip(good);
        expect(dir, Arrays.copyOf(gz, gz.length - 6), "truncated gzip");
        byte[] corrupt = gz.clone();
        corrupt[12] ^= 0x5a;
        corrupt[13] ^= 0x33;
        expect(dir, corrupt, "gzip");
    }

    @Test
    void fashionMnistNamesTheMissingFileAndTheFix(@TempDir Path dir) {
        IOException e = assertThrows(IOException.class, () -> FashionMnist.load(dir));
        assertTrue(e.getMessage().contains("train-images-idx3-ubyte") && e.getMessage().contains("apt-get install -y dataset-fashion-mnist"), e.getMessage());
    }

    private static void expect(Path dir, byte[] content, String message) throws IOException {
        Path p = dir.resolve("bad");
        Files.write(p, content);
        IOException e = assertThrows(IOException.class, () -> Idx.read(p));
        assertTrue(e.getMessage().contains(message) && e.getMessage().contains(p.toString()), e.getMessage());
    }
}
