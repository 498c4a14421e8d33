package org.tessera.spark;

import java.io.Serializable;
import java.util.Objects;

/**
 * One labelled training image as Spark ships it: unsigned-byte pixels in (height, width, channels) order, as
 * {@link org.tessera.data.Dataset#ofImages} takes them, and a class label.
 *
 * @param pixels the image, {@code h * w * c} bytes read as 0..255
 * @param label  the class, in {@code [0, classes)}
 */
public record Example(byte[] pixels, int label) implements Serializable {
    public Example {
        Objects.requireNonNull(pixels, "pixels");
        if (label < 0) throw new IllegalArgumentException("label must be >= 0, got " + label);
    }
}
