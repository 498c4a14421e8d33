package org.tessera.spark;

import java.util.Arrays;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;

/** DataFrame rows to {@link Example}s: the column types are checked on the driver, the values in the tasks. */
final class RowExamples {
    private static final List<DataType> INTEGRAL = List.of(DataTypes.ByteType, DataTypes.ShortType, DataTypes.IntegerType, DataTypes.LongType);

    private RowExamples() {}

    static JavaRDD<Example> of(org.apache.spark.sql.Dataset<Row> frame, String imageColumn, String labelColumn) {
        StructField image = field(frame, imageColumn), label = field(frame, labelColumn);
        boolean binary = image.dataType() instanceof BinaryType;
        if (!binary && !(image.dataType() instanceof ArrayType a && INTEGRAL.contains(a.elementType()))) {
            throw new IllegalArgumentException("tessera-spark: image column " + imageColumn + " is " + image.dataType().simpleString()
                    + "; it must be binary (one byte per pixel) or an array of integers 0..255");
        }
        if (!INTEGRAL.contains(label.dataType())) {
            throw new IllegalArgumentException("tessera-spark: label column " + labelColumn + " is " + label.dataType().simpleString() + "; it must be an integer type");
        }
        return frame.select(imageColumn, labelColumn).javaRDD().map(row -> toExample(row, binary));
    }

    private static StructField field(org.apache.spark.sql.Dataset<Row> frame, String name) {
        String[] names = frame.schema().fieldNames();
        if (!Arrays.asList(names).contains(name)) throw new IllegalArgumentException("tessera-spark: no column " + name + " (columns: " + Arrays.toString(names) + ")");
        return frame.schema().apply(name);
    }

    static Example toExample(Row row, boolean binary) {
        if (row.isNullAt(0) || row.isNullAt(1)) throw new IllegalArgumentException("tessera-spark: a row has a null image or label: " + row);
        long label = ((Number) row.get(1)).longValue();
        if (label < 0 || label > Integer.MAX_VALUE) throw new IllegalArgumentException("tessera-spark: label " + label + " is not a class index");
        if (binary) return new Example(row.getAs(0), (int) label);
        List<Object> values = row.getList(0);
        byte[] px = new byte[values.size()];
        for (int i = 0; i < px.length; i++) {
            Object v = values.get(i);
            long p = v == null ? -1 : ((Number) v).longValue();
            if (p < 0 || p > 255) throw new IllegalArgumentException("tessera-spark: pixel " + i + " is " + v + "; pixels must be 0..255 (nothing is clamped)");
            px[i] = (byte) p;
        }
        return new Example(px, (int) label);
    }
}
