package org.tessera.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;

/**
 * Where the workers' checkpoint lives. A plain directory (a mount every executor sees) is written in place. A
 * Hadoop FileSystem URI ({@code hdfs://}, {@code s3a://}, {@code file://}...) gets a local copy that the trainer
 * writes; rank 0 uploads it after every checkpoint (to a temporary name, then renamed over the last one), and a
 * re-run task downloads it before training. Hadoop's configuration comes from the executor's classpath.
 */
final class CheckpointStore {
    private final String dir;
    private final boolean hadoop;

    CheckpointStore(String dir) {
        this.dir = dir;
        this.hadoop = dir.contains("://");
    }

    /** The file the trainer writes: in place, or a fresh local temporary for a Hadoop store. */
    Path localFile() throws IOException {
        if (!hadoop) return Path.of(dir).resolve(TrainingTask.CHECKPOINT_FILE);
        Path tmp = Files.createTempFile("tessera-spark-checkpoint", ".safetensors");
        Files.delete(tmp); // "no checkpoint yet" until one is fetched or written
        return tmp;
    }

    /** Makes the store's checkpoint, if any, readable at {@code local}; false when there is none. */
    boolean fetch(Path local) throws IOException {
        if (!hadoop) return Files.exists(local);
        FileSystem fs = fs();
        for (org.apache.hadoop.fs.Path p : new org.apache.hadoop.fs.Path[] {remote(""), remote(".uploading")}) {
            if (fs.exists(p)) { // the second only when an upload died between its delete and rename
                fs.copyToLocalFile(false, p, new org.apache.hadoop.fs.Path(local.toUri()), true);
                return true;
            }
        }
        return false;
    }

    /** After the trainer wrote {@code local}: uploads it to a Hadoop store (nothing to do for a directory). */
    void publish(Path local) {
        if (!hadoop) return;
        try {
            FileSystem fs = fs();
            org.apache.hadoop.fs.Path tmp = remote(".uploading"), last = remote("");
            fs.mkdirs(tmp.getParent());
            fs.copyFromLocalFile(false, true, new org.apache.hadoop.fs.Path(local.toUri()), tmp);
            fs.delete(last, false);
            if (!fs.rename(tmp, last)) throw new IOException("could not rename " + tmp + " to " + last);
        } catch (IOException e) {
            throw new UncheckedIOException("tessera-spark: uploading the checkpoint to " + dir + " failed: " + e.getMessage(), e);
        }
    }

    /** Removes a Hadoop store's local copy. */
    void cleanUp(Path local) throws IOException {
        if (hadoop) Files.deleteIfExists(local);
    }

    private org.apache.hadoop.fs.Path remote(String suffix) {
        return new org.apache.hadoop.fs.Path(dir, TrainingTask.CHECKPOINT_FILE + suffix);
    }

    private FileSystem fs() throws IOException {
        return FileSystem.get(URI.create(dir), new Configuration());
    }
}
