package org.tessera.nn;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tessera.Tensor;
import org.tessera.io.Json;
import org.tessera.io.SafetensorsFile;
import org.tessera.io.SafetensorsWriter;

/**
 * Models in safetensors files: parameters under PyTorch's {@code nn.Sequential} names and layouts, the
 * architecture as JSON in the header's metadata ({@value #ARCHITECTURE_KEY}). A weights file written by
 * another tool (PyTorch's {@code save_file(model.state_dict())}) loads into a model built in code with
 * {@link #loadWeights}; F16, BF16 and F64 weights are converted to F32.
 */
public final class ModelFile {
    /** The metadata key holding the architecture JSON. */
    public static final String ARCHITECTURE_KEY = "tessera.architecture";

    private ModelFile() {}

    /** Writes {@code model}'s parameters and architecture to {@code path} (replaced atomically). */
    public static void save(Sequential model, Path path) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put(ARCHITECTURE_KEY, Json.write(model.architecture()));
        SafetensorsWriter.write(path, model.parameters(), meta);
    }

    /**
     * Reads a model saved by {@link #save}. The caller owns (closes) it.
     *
     * @throws IOException if the file is unreadable, malformed, lacks an architecture, or its tensors do not fit it
     */
    public static Sequential load(Path path) throws IOException {
        try (SafetensorsFile file = SafetensorsFile.open(path)) {
            String arch = file.metadata().get(ARCHITECTURE_KEY);
            if (arch == null) {
                throw new IOException(path + " has no " + ARCHITECTURE_KEY + " metadata (not written by Tessera): build the model in code and call "
                        + "ModelFile.loadWeights(model, path)");
            }
            Sequential model = fromArchitecture(path, arch);
            try {
                loadWeights(model, file);
                return model;
            } catch (IOException | RuntimeException e) {
                model.close();
                throw e;
            }
        }
    }

    static Sequential fromArchitecture(Path path, String json) throws IOException {
        Sequential.Builder b = null;
        try {
            if (!(Json.parse(json) instanceof Map<?, ?> a) || !"tessera.sequential".equals(a.get("format"))) {
                throw new IllegalArgumentException("not a tessera.sequential architecture");
            }
            long[] input = Shapes.longs(a.get("input"), "input");
            if (!(a.get("layers") instanceof List<?> ls)) throw new IllegalArgumentException("\"layers\" must be a list");
            b = Sequential.builder(input).uninitialized();
            for (Object o : ls) {
                if (!(o instanceof Map<?, ?> m)) throw new IllegalArgumentException("a layer entry is not an object: " + o);
                @SuppressWarnings("unchecked") Map<String, Object> c = (Map<String, Object>) m;
                b.add(Layers.fromConfig(c));
            }
            return b.build();
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new IOException(path + ": bad architecture: " + e.getMessage(), e);
        }
    }

    /** Copies the weights in {@code path} into {@code model} (see {@link #loadWeights(Sequential, SafetensorsFile)}). */
    public static void loadWeights(Sequential model, Path path) throws IOException {
        try (SafetensorsFile file = SafetensorsFile.open(path)) {
            loadWeights(model, file);
        }
    }

    /**
     * Copies every parameter of {@code model} from the file's tensor of the same name and shape. Tensors the
     * model does not have are an error (a wrong file should not half-load), except PyTorch's
     * {@code num_batches_tracked} counters.
     *
     * @throws IOException naming the missing, extra or mis-shaped tensors
     */
    public static void loadWeights(Sequential model, SafetensorsFile file) throws IOException {
        Map<String, Tensor> params = model.parameters();
        List<String> missing = new ArrayList<>(), extra = new ArrayList<>();
        for (String name : params.keySet()) if (!file.contains(name)) missing.add(name);
        for (String name : file.entries().keySet()) {
            if (!params.containsKey(name) && !name.endsWith(".num_batches_tracked")) extra.add(name);
        }
        if (!missing.isEmpty() || !extra.isEmpty()) {
            throw new IOException(file.path() + " does not match the model: missing " + missing + ", unexpected " + extra);
        }
        // check every tensor before copying any, so a bad file never leaves the model half-loaded
        for (Map.Entry<String, Tensor> e : params.entrySet()) {
            SafetensorsFile.Entry entry = file.entry(e.getKey());
            if (!Arrays.equals(entry.shape(), e.getValue().shape())) {
                throw new IOException(file.path() + ": tensor " + e.getKey() + " is " + Arrays.toString(entry.shape()) + ", the model needs "
                        + Arrays.toString(e.getValue().shape()));
            }
            if (!List.of("F32", "F16", "BF16", "F64").contains(entry.dtype())) {
                throw new IOException(file.path() + ": tensor " + e.getKey() + " is " + entry.dtype() + ", expected a float type");
            }
        }
        // read (and convert) everything first: an F64 value beyond float range fails here, before any copy
        Map<String, Tensor> read = new LinkedHashMap<>();
        try {
            for (String name : params.keySet()) read.put(name, file.read(name));
            for (Map.Entry<String, Tensor> e : read.entrySet()) params.get(e.getKey()).copyFrom(e.getValue());
        } catch (IllegalArgumentException ex) {
            throw new IOException(ex.getMessage(), ex);
        } finally {
            read.values().forEach(Tensor::close);
        }
        model.parametersChanged();
    }
}
