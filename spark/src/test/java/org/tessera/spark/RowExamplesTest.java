package org.tessera.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.junit.jupiter.api.Test;
import scala.jdk.javaapi.CollectionConverters;

/** DataFrame rows to examples, without a Spark job: every value is checked, nothing is clamped. */
class RowExamplesTest {
    private static Row arrayRow(List<?> pixels, Object label) {
        return RowFactory.create(CollectionConverters.asScala(pixels).toSeq(), label);
    }

    @Test
    void binaryAndIntegerArrayImagesBecomeTheSamePixels() {
        byte[] px = {0, 1, (byte) 127, (byte) 128, (byte) 255};
        Example fromBinary = RowExamples.toExample(RowFactory.create(px, 3), true);
        Example fromArray = RowExamples.toExample(arrayRow(List.of(0, 1, 127, 128, 255), 3L), false);
        assertArrayEquals(px, fromBinary.pixels());
        assertArrayEquals(px, fromArray.pixels());
        assertEquals(3, fromBinary.label());
        assertEquals(3, fromArray.label());
        assertArrayEquals(px, RowExamples.toExample(arrayRow(List.of((short) 0, (short) 1, (short) 127, (short) 128, (short) 255), (byte) 3), false).pixels());
    }

    @Test
    void outOfRangeOrMissingValuesAreErrorsNamingTheValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RowExamples.toExample(arrayRow(List.of(0, 256, 3), 1), false));
        assertTrue(e.getMessage().contains("pixel 1 is 256") && e.getMessage().contains("nothing is clamped"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> RowExamples.toExample(arrayRow(List.of(-1), 1), false));
        assertTrue(e.getMessage().contains("pixel 0 is -1"), e.getMessage());
        java.util.List<Object> withNull = new java.util.ArrayList<>(List.of(1, 2));
        withNull.add(null);
        e = assertThrows(IllegalArgumentException.class, () -> RowExamples.toExample(arrayRow(withNull, 1), false));
        assertTrue(e.getMessage().contains("pixel 2 is null"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> RowExamples.toExample(RowFactory.create(new byte[] {1}, -2), true));
        assertTrue(e.getMessage().contains("label -2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> RowExamples.toExample(RowFactory.create(null, 1), true));
        assertTrue(e.getMessage().contains("null image or label"), e.getMessage());
    }
}
