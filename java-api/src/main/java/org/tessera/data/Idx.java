package org.tessera.data;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reader for the IDX format of MNIST and Fashion-MNIST (plain or gzip-compressed, detected by content):
 * magic {@code 0x00 0x00 type ndims}, ndims big-endian int32 dimensions, then the data. Only unsigned bytes
 * (type 0x08) are accepted, which is what the image and label files hold. Everything is validated before
 * use: magic, type, dimension count and sizes, and that the data is exactly as long as the dimensions say
 * (a truncated or padded file is an {@link IOException} naming the file and the byte counts).
 */
public final class Idx {
    /** The largest payload read (1 GiB): a hostile header cannot make the reader allocate more. */
    public static final long MAX_BYTES = 1L << 30;

    /** A decoded file: its dimensions and the unsigned bytes, row-major. */
    public record Array(int[] dims, byte[] data) {
        /** Elements per entry of the first dimension (e.g. 784 for 28x28 images). */
        public int stride() {
            int s = 1;
            for (int i = 1; i < dims.length; i++) s *= dims[i];
            return s;
        }
    }

    private Idx() {}

    /** Reads and validates {@code path}. */
    public static Array read(Path path) throws IOException {
        byte[] raw = Files.readAllBytes(path);
        byte[] bytes = isGzip(raw) ? gunzip(raw, path) : raw;
        return parse(bytes, path.toString());
    }

    /** Parses IDX bytes (already decompressed); {@code name} appears in errors. */
    public static Array parse(byte[] b, String name) throws IOException {
        if (b.length < 4) throw new IOException(name + ": not an IDX file (" + b.length + " bytes, the header alone is 4+)");
        if (b[0] != 0 || b[1] != 0) throw new IOException(name + ": not an IDX file (magic starts " + hex(b[0]) + " " + hex(b[1]) + ", expected 00 00)");
        if (b[2] != 0x08) throw new IOException(name + ": IDX data type " + hex(b[2]) + " is not supported (only 0x08, unsigned bytes)");
        int nd = b[3] & 0xff;
        if (nd < 1 || nd > 8) throw new IOException(name + ": IDX file with " + nd + " dimensions (expected 1 to 8)");
        int header = 4 + 4 * nd;
        if (b.length < header) throw new IOException(name + ": truncated header (" + b.length + " bytes, expected " + header + ")");
        int[] dims = new int[nd];
        long total = 1;
        for (int i = 0; i < nd; i++) {
            int o = 4 + 4 * i;
            dims[i] = ((b[o] & 0xff) << 24) | ((b[o + 1] & 0xff) << 16) | ((b[o + 2] & 0xff) << 8) | (b[o + 3] & 0xff);
            if (dims[i] <= 0) throw new IOException(name + ": dimension " + i + " is " + dims[i] + " (must be positive)");
            total *= dims[i];
            if (total > MAX_BYTES) throw new IOException(name + ": dimensions " + Arrays.toString(Arrays.copyOf(dims, i + 1)) + "... exceed " + MAX_BYTES + " bytes");
        }
        long have = b.length - header;
        if (have != total) {
            throw new IOException(name + ": " + (have < total ? "truncated" : "trailing bytes") + ": dimensions " + Arrays.toString(dims) + " need " + total
                    + " bytes of data, the file has " + have);
        }
        return new Array(dims, Arrays.copyOfRange(b, header, b.length));
    }

    private static boolean isGzip(byte[] b) {
        return b.length >= 2 && (b[0] & 0xff) == 0x1f && (b[1] & 0xff) == 0x8b;
    }

    private static byte[] gunzip(byte[] raw, Path path) throws IOException {
        try (InputStream in = new GZIPInputStream(new java.io.ByteArrayInputStream(raw))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length * 4);
            byte[] buf = new byte[1 << 16];
            for (int r; (r = in.read(buf)) > 0;) {
                out.write(buf, 0, r);
                if (out.size() > MAX_BYTES + 64) throw new IOException(path + ": decompresses to more than " + MAX_BYTES + " bytes");
            }
            return out.toByteArray();
        } catch (EOFException e) {
            throw new IOException(path + ": truncated gzip stream (the download or copy was cut short)", e);
        } catch (ZipException e) {
            throw new IOException(path + ": corrupt gzip data: " + e.getMessage(), e);
        }
    }

    private static String hex(byte v) {
        return String.format("%02x", v & 0xff);
    }
}
