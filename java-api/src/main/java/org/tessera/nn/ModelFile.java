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
    /** The metadata key listing the weights stored as CSR (JSON: name to shape). */
    public static final String SPARSE_KEY = "tessera.sparse";

    private ModelFile() {}

    /** Writes {@code model}'s parameters and architecture to {@code path} (replaced atomically). */
    public static void save(Sequential model, Path path) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put(ARCHITECTURE_KEY, Json.write(model.architecture()));
        SafetensorsWriter.write(path, model.parameters(), meta);
    }

    /**
     * Writes {@code model} as {@link #save} does, but every weight with at least half its entries zero (a pruned
     * layer) as CSR: values, column indices and row offsets over the weight viewed as (shape[0], rest) rows. A 90%
     * sparse weight takes ~20% of its dense bytes. Tessera's {@link #load} and {@link #loadWeights} read both forms;
     * other safetensors tools see three tensors per sparse weight. Values round-trip bit for bit.
     */
    public static void saveSparse(Sequential model, Path path) throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>(), owned = new LinkedHashMap<>();
        Map<String, Object> sparse = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, Tensor> e : model.parameters().entrySet()) {
                if (CsrWeights.worthIt(e.getValue())) {
                    Map<String, Tensor> csr = CsrWeights.encode(e.getKey(), e.getValue());
                    owned.putAll(csr);
                    tensors.putAll(csr);
                    sparse.put(e.getKey(), e.getValue().shape());
                } else {
                    tensors.put(e.getKey(), e.getValue());
                }
            }
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("format", "pt");
            meta.put(ARCHITECTURE_KEY, Json.write(model.architecture()));
            meta.put(SPARSE_KEY, Json.write(sparse));
            SafetensorsWriter.write(path, tensors, meta);
        } finally {
            owned.values().forEach(Tensor::close);
        }
    }

    /**
     * Reads a model saved by {@link #save} or {@link #saveSparse}. The caller owns (closes) it.
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
        Map<String, long[]> sparse = sparseEntries(file);
        List<String> missing = new ArrayList<>(), extra = new ArrayList<>();
        for (String name : params.keySet()) if (!file.contains(name) && !sparse.containsKey(name)) missing.add(name);
        for (String name : file.entries().keySet()) {
            if (!params.containsKey(name) && !name.endsWith(".num_batches_tracked") && !isCsrPart(name, sparse)) extra.add(name);
        }
        for (String name : sparse.keySet()) if (!params.containsKey(name)) extra.add(name + " (sparse)");
        if (!missing.isEmpty() || !extra.isEmpty()) {
            throw new IOException(file.path() + " does not match the model: missing " + missing + ", unexpected " + extra);
        }
        // check every tensor before copying any, so a bad file never leaves the model half-loaded
        for (Map.Entry<String, Tensor> e : params.entrySet()) {
            if (sparse.containsKey(e.getKey())) {
                if (!Arrays.equals(sparse.get(e.getKey()), e.getValue().shape())) {
                    throw new IOException(file.path() + ": sparse tensor " + e.getKey() + " is " + Arrays.toString(sparse.get(e.getKey())) + ", the model needs "
                            + Arrays.toString(e.getValue().shape()));
                }
                continue;
            }
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
            for (String name : params.keySet()) {
                long[] shape = sparse.get(name);
                read.put(name, shape == null ? file.read(name) : Tensor.of(CsrWeights.decode(file, name, shape), shape));
            }
            for (Map.Entry<String, Tensor> e : read.entrySet()) params.get(e.getKey()).copyFrom(e.getValue());
        } catch (IllegalArgumentException ex) {
            throw new IOException(ex.getMessage(), ex);
        } finally {
            read.values().forEach(Tensor::close);
        }
        model.parametersChanged();
    }

    /** The weights the file stores as CSR, with their dense shapes (none for a dense file). */
    static Map<String, long[]> sparseEntries(SafetensorsFile file) throws IOException {
        String json = file.metadata().get(SPARSE_KEY);
        Map<String, long[]> out = new LinkedHashMap<>();
        if (json == null) return out;
        try {
            if (!(Json.parse(json) instanceof Map<?, ?> m)) throw new IllegalArgumentException("not an object");
            for (Map.Entry<?, ?> e : m.entrySet()) out.put(String.valueOf(e.getKey()), Shapes.longs(e.getValue(), String.valueOf(e.getKey())));
        } catch (IllegalArgumentException e) {
            throw new IOException(file.path() + ": bad " + SPARSE_KEY + " metadata: " + e.getMessage(), e);
        }
        return out;
    }

    private static boolean isCsrPart(String tensor, Map<String, long[]> sparse) {
        for (String suffix : new String[] {CsrWeights.VALUES, CsrWeights.COLUMNS, CsrWeights.OFFSETS}) {
            if (tensor.endsWith(suffix) && sparse.containsKey(tensor.substring(0, tensor.length() - suffix.length()))) return true;
        }
        return false;
    }
}
