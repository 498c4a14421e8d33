package org.tessera.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.tessera.Tensor;
import org.tessera.io.Json;
import org.tessera.io.SafetensorsFile;
import org.tessera.io.SafetensorsWriter;
import org.tessera.nn.ModelFile;
import org.tessera.nn.Sequential;

/**
 * Training checkpoints in safetensors: the model's parameters under their usual names (so the file also
 * loads as a model with {@link ModelFile#load}), the optimizer's state as {@code optimizer.<key>}, the ranges
 * observed by quantization-aware training as {@code qat.<layer>.range}, and the epoch, step and seed in the metadata.
 */
public final class Checkpoint {
    static final String OPT = "optimizer.";

    /**
     * What a checkpoint records besides tensors.
     *
     * @param batchesDone batches of {@code epoch} done when the checkpoint was taken mid-epoch; -1 after the whole epoch
     */
    public record State(int epoch, long step, long seed, int batchesDone) {}

    private Checkpoint() {}

    /** Writes the checkpoint of a finished epoch atomically (a crash mid-write leaves the previous one intact). */
    public static void save(Path file, Sequential model, Optimizer optimizer, int epoch, long step, long seed) throws IOException {
        save(file, model, optimizer, epoch, step, seed, -1);
    }

    /** Writes the checkpoint atomically, taken after {@code batchesDone} batches of {@code epoch} (-1: all). */
    public static void save(Path file, Sequential model, Optimizer optimizer, int epoch, long step, long seed, int batchesDone) throws IOException {
        save(file, model, optimizer, epoch, step, seed, batchesDone, Map.of());
    }

    /** As above, plus the trainer's own state tensors (quantization-aware training's observed ranges, {@code qat.*}). */
    static void save(Path file, Sequential model, Optimizer optimizer, int epoch, long step, long seed, int batchesDone, Map<String, float[]> extra) throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>(model.parameters());
        Map<String, Tensor> owned = new LinkedHashMap<>();
        try {
            optimizer.state().entrySet().stream().sorted(Map.Entry.comparingByKey())
                    .forEach(e -> owned.put(OPT + e.getKey(), Tensor.of(e.getValue(), e.getValue().length)));
            extra.forEach((k, v) -> owned.put(k, Tensor.of(v, v.length)));
            tensors.putAll(owned);
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("format", "pt");
            meta.put(ModelFile.ARCHITECTURE_KEY, Json.write(model.architecture()));
            meta.put("tessera.epoch", Integer.toString(epoch));
            meta.put("tessera.step", Long.toString(step));
            meta.put("tessera.seed", Long.toString(seed));
            if (batchesDone >= 0) meta.put("tessera.batches_done", Integer.toString(batchesDone));
            meta.put("tessera.optimizer", optimizer.toString());
            SafetensorsWriter.write(file, tensors, meta);
        } finally {
            owned.values().forEach(Tensor::close);
        }
    }

    /**
     * Restores the model's parameters and the optimizer's state from {@code file}, checking every tensor
     * against the model before changing anything.
     *
     * @throws IOException if the file is unreadable, not a checkpoint, or does not match the model
     */
    public static State load(Path file, Sequential model, Optimizer optimizer) throws IOException {
        return load(file, model, optimizer, new HashMap<>());
    }

    /** As above; also puts the file's {@code qat.*} tensors into {@code extra}. */
    static State load(Path file, Sequential model, Optimizer optimizer, Map<String, float[]> extra) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            Map<String, String> meta = f.metadata();
            String epoch = meta.get("tessera.epoch"), step = meta.get("tessera.step"), seed = meta.get("tessera.seed");
            if (epoch == null || step == null || seed == null) throw new IOException(file + ": not a training checkpoint (no tessera.epoch/step/seed metadata)");
            Map<String, float[]> values = new HashMap<>();
            for (Map.Entry<String, Tensor> p : model.parameters().entrySet()) {
                if (!f.contains(p.getKey())) throw new IOException(file + ": parameter " + p.getKey() + " is missing");
                SafetensorsFile.Entry e = f.entry(p.getKey());
                if (!Arrays.equals(e.shape(), p.getValue().shape())) {
                    throw new IOException(file + ": parameter " + p.getKey() + " has shape " + Arrays.toString(e.shape()) + ", the model needs " + Arrays.toString(p.getValue().shape()));
                }
                values.put(p.getKey(), f.readFloats(p.getKey()));
            }
            Map<String, float[]> opt = new HashMap<>();
            Map<String, float[]> own = new HashMap<>();
            for (String name : f.entries().keySet()) {
                if (name.startsWith(OPT)) opt.put(name.substring(OPT.length()), f.readFloats(name));
                if (name.startsWith(FakeQuantization.STATE_PREFIX)) own.put(name, f.readFloats(name));
            }
            State s;
            try {
                String done = meta.get("tessera.batches_done");
                s = new State(Integer.parseInt(epoch), Long.parseLong(step), Long.parseLong(seed), done == null ? -1 : Integer.parseInt(done));
            } catch (NumberFormatException e) {
                throw new IOException(file + ": malformed epoch/step/seed metadata", e);
            }
            for (Map.Entry<String, Tensor> p : model.parameters().entrySet()) p.getValue().copyFrom(values.get(p.getKey()));
            optimizer.restore(opt, s.step());
            extra.putAll(own);
            return s;
        }
    }
}
