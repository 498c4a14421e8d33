package org.tessera.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.tessera.kernels.Storage;
import org.tessera.kernels.spi.Availability;
import org.tessera.kernels.spi.BinaryOp;
import org.tessera.kernels.spi.ElementwiseKernels;
import org.tessera.kernels.spi.OpFamily;
import org.tessera.kernels.spi.UnaryOp;
import org.tessera.testing.KernelAssertions;
import org.tessera.testing.Reference;
import org.tessera.testing.SeededRandom;
import org.tessera.testing.TestData;

/**
 * The cuda backend on a real device, against the same references as the CPU kernels. Without a GPU (or
 * driver, or PTX) every test is skipped with the backend's own reason; the reason itself is checked.
 */
@ExtendWith(SeededRandom.class)
class CudaBackendTest {
    private static CudaBackend cuda;

    @BeforeAll
    static void open() {
        cuda = new CudaBackend();
    }

    @Test
    void unavailabilityIsExplainedNotThrown() {
        Availability a = cuda.availability();
        if (!a.available()) assertFalse(a.detail().isBlank(), "an unavailable backend must say why");
        System.out.println("cuda backend: " + a);
    }

    @Test
    void elementwiseMatchesReferenceOnDevice(SplittableRandom rnd) {
        assumeTrue(cuda.availability().available(), "no CUDA here: " + cuda.availability().detail());
        ElementwiseKernels k = cuda.kernels(OpFamily.ELEMENTWISE).kernels();
        int[][] shapes = {{1, 1}, {1, 33}, {7, 65}, {300, 257}, {1, 70_001}};
        for (int[] s : shapes) {
            int rows = s[0], cols = s[1], ld = cols + 3;
            float[] x = TestData.floats(rnd, rows * ld), y = TestData.floats(rnd, rows * ld);
            for (UnaryOp op : UnaryOp.values()) {
                float[] expected = nan(rows * ld);
                if (op == UnaryOp.RELU) Reference.relu(rows, cols, x, 0, ld, expected, 0, ld);
                else Reference.scale(rows, cols, 1.5f, x, 0, ld, expected, 0, ld);
                try (Storage xd = upload(x); Storage yd = upload(nan(rows * ld))) {
                    k.unary(op, 1.5f, rows, cols, xd, 0, ld, yd, 0, ld);
                    KernelAssertions.assertExact(k.kernelId(op) + " " + rows + "x" + cols, expected, download(yd, rows * ld));
                }
            }
            for (BinaryOp op : BinaryOp.values()) {
                float[] expected = nan(rows * ld);
                Reference.binary(op, rows, cols, x, 0, ld, y, 0, ld, expected, 0, ld);
                try (Storage xd = upload(x); Storage yd = upload(y); Storage od = upload(nan(rows * ld))) {
                    k.binary(op, rows, cols, xd, 0, ld, yd, 0, ld, od, 0, ld);
                    KernelAssertions.assertExact(k.kernelId(op) + " " + rows + "x" + cols, expected, download(od, rows * ld));
                }
            }
        }
    }

    @Test
    void deviceMemoryIsCheckedBeforeAnyCall() {
        assumeTrue(cuda.availability().available(), "no CUDA here: " + cuda.availability().detail());
        ElementwiseKernels k = cuda.kernels(OpFamily.ELEMENTWISE).kernels();
        Storage d = cuda.allocate(400);
        assertThrows(IllegalArgumentException.class, () -> k.unary(UnaryOp.RELU, 0, 1, 101, d, 0, 101, d, 0, 101));
        try (Arena arena = Arena.ofConfined()) {
            assertThrows(IllegalArgumentException.class, () -> cuda.copyToDevice(arena.allocate(404), d, 0));
        }
        d.close();
        assertThrows(IllegalStateException.class, () -> k.unary(UnaryOp.RELU, 0, 1, 10, d, 0, 10, d, 0, 10));
    }

    private static Storage upload(float[] data) {
        Storage d = cuda.allocate(4L * data.length);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(4L * data.length);
            MemorySegment.copy(data, 0, host, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, data.length);
            cuda.copyToDevice(host, d, 0);
        }
        return d;
    }

    private static float[] download(Storage d, int n) {
        float[] out = new float[n];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(4L * n);
            cuda.copyToHost(d, 0, host);
            MemorySegment.copy(host, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, out, 0, n);
        }
        return out;
    }

    private static float[] nan(int n) {
        float[] a = new float[n];
        Arrays.fill(a, Float.NaN);
        return a;
    }
}
