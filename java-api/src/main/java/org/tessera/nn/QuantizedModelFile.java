package org.tessera.nn;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.tessera.Ops;
import org.tessera.Tensor;
import org.tessera.io.Json;
import org.tessera.io.SafetensorsFile;
import org.tessera.io.SafetensorsWriter;

/**
 * {@link QuantizedModel}s in safetensors files. Under PyTorch's {@code nn.Sequential} names: each int8 layer's
 * s8 weights ({@code <i>.weight}, I8, BatchNorm folded in, the layer's own shape), per-output-channel scales
 * ({@code <i>.weight_scale}, F32) and folded bias ({@code <i>.bias}); every parameter of the layers that stay f32,
 * as they are. Metadata: the architecture ({@link ModelFile#ARCHITECTURE_KEY}), the weight bits, and the u8
 * activation ranges ({@value #RANGES_KEY}: {@code {"slot": [scale, zero point]}}, slot 0 the input and i + 1 the
 * output of layer group i). An s8 weight that takes fewer bytes as CSR (above ~80% zeros: a pruned layer) is
 * stored as {@code <i>.weight.csr_*} tensors instead (see {@link ModelFile#saveSparse}), listed in
 * {@value ModelFile#SPARSE_KEY}. Loading rebuilds the same steps from these, so predictions match to the bit;
 * it validates everything first and names what does not fit.
 */
final class QuantizedModelFile {
    static final String RANGES_KEY = "tessera.int8.ranges";
    static final String BITS_KEY = "tessera.int8.weight_bits";
    static final String SCALE_SUFFIX = "weight_scale";

    private QuantizedModelFile() {}

    /** An int8 layer's s8 weights (the layer's weight shape, row-major), per-channel scales and folded bias (or null). */
    record Weights(byte[] q, float[] scales, float[] bias) {}

    /** What a built model needs saved; owns its tensors. */
    record Recipe(String architecture, int weightBits, Map<Integer, U8Range> ranges, Map<String, Tensor> tensors)
            implements AutoCloseable {
        @Override
        public void close() {
            tensors.values().forEach(Tensor::close);
        }
    }

    static void save(Recipe r, Path path) throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>(), owned = new LinkedHashMap<>();
        Map<String, Object> sparse = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : r.tensors().entrySet()) {
            Tensor t = e.getValue();
            byte[] q = t.dtype() == org.tessera.kernels.DType.S8 && t.rank() >= 2 ? t.toByteArray() : null;
            if (q != null && CsrWeights.worthItInt8(q, (int) t.dim(0))) {
                Map<String, Tensor> csr = CsrWeights.encodeInt8(e.getKey(), q, (int) t.dim(0));
                owned.putAll(csr);
                tensors.putAll(csr);
                sparse.put(e.getKey(), t.shape());
            } else {
                tensors.put(e.getKey(), t);
            }
        }
        try {
            write(r, tensors, sparse, path);
        } finally {
            owned.values().forEach(Tensor::close);
        }
    }

    private static void write(Recipe r, Map<String, Tensor> tensors, Map<String, Object> sparse, Path path) throws IOException {
        Map<String, Object> ranges = new LinkedHashMap<>();
        for (Map.Entry<Integer, U8Range> e : r.ranges().entrySet()) {
            ranges.put(String.valueOf(e.getKey()), List.of((double) e.getValue().scale(), (double) e.getValue().zeroPoint()));
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put(ModelFile.ARCHITECTURE_KEY, r.architecture());
        meta.put(BITS_KEY, String.valueOf(r.weightBits()));
        meta.put(RANGES_KEY, Json.write(ranges));
        if (!sparse.isEmpty()) meta.put(ModelFile.SPARSE_KEY, Json.write(sparse));
        SafetensorsWriter.write(path, tensors, meta);
    }

    static QuantizedModel load(Path path, Ops ops) throws IOException {
        try (SafetensorsFile file = SafetensorsFile.open(path)) {
            Map<String, String> meta = file.metadata();
            String arch = meta.get(ModelFile.ARCHITECTURE_KEY), ranges = meta.get(RANGES_KEY), bits = meta.get(BITS_KEY);
            if (arch == null || ranges == null || bits == null) {
                throw new IOException(path + " is not a Tessera int8 model (no " + RANGES_KEY + " / " + BITS_KEY + " / " + ModelFile.ARCHITECTURE_KEY
                        + " metadata); fp32 models load with ModelFile.load");
            }
            try (Sequential model = ModelFile.fromArchitecture(path, arch)) {
                int weightBits = switch (bits) {
                    case "7" -> 7;
                    case "8" -> 8;
                    default -> throw new IllegalArgumentException(BITS_KEY + " must be 7 or 8, got " + bits);
                };
                loadFloatLayers(model, file, ModelFile.sparseEntries(file).keySet());
                return QuantizedModel.builder(model).weightBits(weightBits).fromFile(parseRanges(ranges), file).build(ops);
            } catch (IllegalArgumentException e) {
                throw new IOException(path + ": " + e.getMessage(), e);
            }
        }
    }

    /** Copies the parameters of the layers that stay f32; checks that the file holds nothing else than those and the int8 layers' tensors. */
    private static void loadFloatLayers(Sequential model, SafetensorsFile file, Set<String> sparse) {
        Set<Integer> int8Layers = new HashSet<>();
        Set<String> expected = new HashSet<>();
        for (Group g : Group.of(model.layers())) {
            if (!(g.main() instanceof WeightedLayer w) || !QuantizedModel.Builder.runsInt8(w)) continue;
            for (int l = g.first(); l <= g.last(); l++) int8Layers.add(l);
            expected.addAll(List.of(g.first() + ".weight", g.first() + "." + SCALE_SUFFIX, g.first() + ".bias"));
            for (String part : new String[] {CsrWeights.VALUES, CsrWeights.COLUMNS, CsrWeights.OFFSETS}) expected.add(g.first() + ".weight" + part);
        }
        for (Map.Entry<String, Tensor> e : model.parameters().entrySet()) {
            if (int8Layers.contains(layerIndex(e.getKey()))) continue;
            String name = e.getKey();
            if (sparse.contains(name)) throw new IllegalArgumentException("tensor " + name + " of an f32 layer is stored sparse; int8 files store only s8 weights that way");
            expected.add(name);
            SafetensorsFile.Entry entry = file.entry(name); // throws naming the tensors present when absent
            if (!Arrays.equals(entry.shape(), e.getValue().shape())) {
                throw new IllegalArgumentException("tensor " + name + " is " + Arrays.toString(entry.shape()) + ", the model needs "
                        + Arrays.toString(e.getValue().shape()));
            }
            float[] v = file.readFloats(name);
            for (int i = 0; i < v.length; i++) {
                if (!Float.isFinite(v[i])) throw new IllegalArgumentException("tensor " + name + " holds " + v[i] + " at " + i);
            }
            e.getValue().copyFrom(v);
        }
        for (String name : file.entries().keySet()) {
            if (!expected.contains(name)) throw new IllegalArgumentException("unexpected tensor " + name + " (not a parameter of this architecture)");
        }
        model.parametersChanged();
    }

    /** {"slot": [scale, zero point], ...} with finite positive scales and zero points in [0, 255]. */
    static Map<Integer, U8Range> parseRanges(String json) {
        if (!(Json.parse(json) instanceof Map<?, ?> m)) throw new IllegalArgumentException(RANGES_KEY + " must be a JSON object");
        Map<Integer, U8Range> out = new TreeMap<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            int slot;
            try {
                slot = Integer.parseInt(String.valueOf(e.getKey()));
            } catch (NumberFormatException bad) {
                throw new IllegalArgumentException(RANGES_KEY + ": slot \"" + e.getKey() + "\" is not a number");
            }
            if (slot < 0 || !(e.getValue() instanceof List<?> l) || l.size() != 2 || !(l.get(0) instanceof Number s) || !(l.get(1) instanceof Number z)) {
                throw new IllegalArgumentException(RANGES_KEY + ": slot " + e.getKey() + " must be [scale, zero point], got " + e.getValue());
            }
            float scale = s.floatValue();
            double zp = z.doubleValue();
            if (!(scale > 0) || !Float.isFinite(scale) || zp != Math.rint(zp) || zp < 0 || zp > 255) {
                throw new IllegalArgumentException(RANGES_KEY + ": slot " + slot + " needs a finite scale > 0 and an integer zero point in [0, 255], got "
                        + e.getValue());
            }
            out.put(slot, new U8Range(scale, (int) zp));
        }
        return out;
    }

    /** An int8 layer's tensors from the file, checked against the layer's weight shape. */
    static Weights weights(SafetensorsFile file, String name, long[] shape) {
        int channels = (int) shape[0];
        float[] scales = channel(file, name + SCALE_SUFFIX, channels, true);
        float[] bias = file.contains(name + "bias") ? channel(file, name + "bias", channels, false) : null;
        Map<String, long[]> sparse;
        try {
            sparse = ModelFile.sparseEntries(file);
            if (sparse.containsKey(name + "weight")) {
                if (!Arrays.equals(sparse.get(name + "weight"), shape)) {
                    throw new IllegalArgumentException("sparse tensor " + name + "weight must be " + Arrays.toString(shape) + " (an int8 layer), got "
                            + Arrays.toString(sparse.get(name + "weight")));
                }
                return new Weights(CsrWeights.decodeInt8(file, name + "weight", shape), scales, bias);
            }
        } catch (IOException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        SafetensorsFile.Entry w = file.entry(name + "weight");
        if (!w.dtype().equals("I8") || !Arrays.equals(w.shape(), shape)) {
            throw new IllegalArgumentException("tensor " + name + "weight must be I8 " + Arrays.toString(shape) + " (an int8 layer), got " + w.dtype() + " "
                    + Arrays.toString(w.shape()));
        }
        byte[] q;
        try (Tensor t = file.read(name + "weight")) {
            q = t.toByteArray();
        }
        return new Weights(q, scales, bias);
    }

    private static float[] channel(SafetensorsFile file, String name, int channels, boolean positive) {
        SafetensorsFile.Entry e = file.entry(name);
        if (!Arrays.equals(e.shape(), new long[] {channels})) {
            throw new IllegalArgumentException("tensor " + name + " must hold " + channels + " values (one per output channel), got " + Arrays.toString(e.shape()));
        }
        float[] v = file.readFloats(name);
        for (int i = 0; i < v.length; i++) {
            if (!Float.isFinite(v[i]) || (positive && !(v[i] > 0))) {
                throw new IllegalArgumentException("tensor " + name + " holds " + v[i] + " at " + i + (positive ? "; scales must be finite and > 0" : ""));
            }
        }
        return v;
    }

    /** The layer index of a parameter name ({@code "3.weight"} is layer 3's). */
    static int layerIndex(String name) {
        return Integer.parseInt(name.substring(0, name.indexOf('.')));
    }
}
