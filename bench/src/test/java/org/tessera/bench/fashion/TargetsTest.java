package org.tessera.bench.fashion;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The accuracy bounds are inclusive even where float subtraction lands a hair past them, and no further. */
class TargetsTest {
    @Test
    void accuracyBoundsAreInclusiveToTheImage() {
        assertTrue(0.9179 - 0.9079 > 0.01, "the rounding this guards against");
        assertTrue(Targets.withinPoints(0.9179, 0.9079, 1), "exactly 1 point (100 of 10,000 images) is within 1 point");
        assertFalse(Targets.withinPoints(0.9179, 0.9078, 1), "one more image is not");
        assertTrue(Targets.withinPoints(0.9179, 0.9200, 0.5), "better than fp32");
        assertFalse(Targets.withinPoints(0.9179, 0.9128, 0.5));
        assertTrue(Targets.withinPoints(0.9179, 0.9129, 0.5));
    }
}
