package org.tessera;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.junit.jupiter.api.Test;

/** The README's example, kept compiling and correct. */
class ReadmeExampleTest {
    @Test
    void readmeExample() {
        try (Tensor x = Tensor.of(new float[] {-1, 2, -3, 4, -5, 6}, 2, 3);
             Tensor w = Tensor.of(new float[] {1, 0, 0, 1, 1, 1}, 3, 2);
             Tensor h = Ops.auto().relu(x);
             Tensor y = Ops.auto().matmul(h, w)) {
            assertArrayEquals(new float[] {0, 2, 10, 6}, y.toFloatArray());
        }
    }
}
