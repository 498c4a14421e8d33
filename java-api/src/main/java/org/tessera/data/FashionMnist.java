package org.tessera.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Fashion-MNIST (Zalando, 28x28 grey images of 10 clothing classes; 60,000 training and 10,000 test images)
 * from the IDX files, e.g. Debian's {@code dataset-fashion-mnist} package.
 */
public final class FashionMnist {
    /** Where Debian's package installs the files. */
    public static final Path DEBIAN_DIR = Path.of("/usr/share/datasets/fashion-mnist");
    /** The class names, by label. */
    public static final List<String> CLASSES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
            "Ankle boot");

    /** The training and test sets. */
    public record Sets(Dataset train, Dataset test) {}

    private FashionMnist() {}

    /**
     * Reads {@code train-images-idx3-ubyte(.gz)}, {@code train-labels-idx1-ubyte(.gz)} and the {@code t10k-}
     * pair from {@code dir}.
     *
     * @throws IOException naming the missing or malformed file and how to get the data
     */
    public static Sets load(Path dir) throws IOException {
        return new Sets(read(dir, "train"), read(dir, "t10k"));
    }

    private static Dataset read(Path dir, String prefix) throws IOException {
        Idx.Array images = Idx.read(find(dir, prefix + "-images-idx3-ubyte"));
        Idx.Array labels = Idx.read(find(dir, prefix + "-labels-idx1-ubyte"));
        if (images.dims().length != 3) throw new IOException(prefix + " images: expected 3 dimensions (n, rows, cols), got " + images.dims().length);
        if (labels.dims().length != 1 || labels.dims()[0] != images.dims()[0]) {
            throw new IOException(prefix + ": " + labels.dims()[0] + " labels for " + images.dims()[0] + " images");
        }
        int n = images.dims()[0];
        int[] l = new int[n];
        for (int i = 0; i < n; i++) {
            l[i] = labels.data()[i] & 0xff;
            if (l[i] >= CLASSES.size()) throw new IOException(prefix + " labels: label " + l[i] + " of example " + i + " is not a Fashion-MNIST class (0-9)");
        }
        return Dataset.ofImages(images.data(), n, images.dims()[1], images.dims()[2], 1, l, CLASSES.size());
    }

    private static Path find(Path dir, String base) throws IOException {
        for (String name : new String[] {base + ".gz", base}) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p)) return p;
        }
        throw new IOException("Fashion-MNIST file " + base + "(.gz) not found in " + dir + ": install it with `sudo apt-get install -y dataset-fashion-mnist` (files land in "
                + DEBIAN_DIR + ") or pass the directory holding the IDX files");
    }
}
