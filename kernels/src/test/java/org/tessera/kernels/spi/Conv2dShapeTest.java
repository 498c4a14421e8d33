package org.tessera.kernels.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class Conv2dShapeTest {
    @Test
    void outputSizes() {
        Conv2dShape same = Conv2dShape.of(1, 56, 56, 64, 64, 3, 1, 1);
        assertEquals(56, same.outH());
        assertEquals(56, same.outW());
        assertEquals(2L * 56 * 56 * 64 * 64 * 9, same.flops());
        Conv2dShape strided = new Conv2dShape(2, 7, 8, 4, 6, 3, 2, 2, 3, 1, 0, 2, 1, 2, 1, 2);
        assertEquals((7 + 1 - 2 * 2 - 1) / 2 + 1, strided.outH());
        assertEquals((8 + 3 - 1 * 1 - 1) / 3 + 1, strided.outW());
    }

    @Test
    void invalidGeometryNamesTheDimension() {
        assertMessage(() -> Conv2dShape.of(1, 2, 2, 3, 4, 5, 1, 0), "kernel height");
        assertMessage(() -> new Conv2dShape(1, 9, 2, 3, 4, 1, 5, 1, 1, 0, 0, 1, 1, 1, 1, 1), "kernel width");
        assertMessage(() -> new Conv2dShape(1, 5, 5, 3, 4, 3, 3, 1, 1, 0, 0, 0, 0, 3, 1, 1), "dilated extent");
        assertMessage(() -> new Conv2dShape(1, 5, 5, 3, 4, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 2), "c (3) is not a multiple of groups");
        assertMessage(() -> new Conv2dShape(1, 5, 5, 4, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 2), "k (3) is not a multiple of groups");
        assertMessage(() -> Conv2dShape.of(0, 5, 5, 4, 3, 1, 1, 0), "n must be > 0");
        assertMessage(() -> Conv2dShape.of(1, 5, 5, 4, 3, 1, 0, 0), "strideH");
        assertMessage(() -> Conv2dShape.of(1, 5, 5, 4, 3, 1, 1, -1), "padding");
    }

    private static void assertMessage(Runnable r, String needle) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(needle), e.getMessage());
    }
}
