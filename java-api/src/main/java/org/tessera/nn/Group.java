package org.tessera.nn;

import java.util.ArrayList;
import java.util.List;

/**
 * Layers that run as one inference step: a linear or convolution layer with the BatchNorm folded into it and
 * the ReLU fused after it, or any other layer alone. Dropout forms no group (it is the identity at inference).
 *
 * @param first index of the first layer
 * @param last  index of the last layer
 * @param main  the layer that computes
 * @param bn    the folded BatchNorm, or null
 * @param relu  whether a ReLU is fused
 * @param label e.g. {@code 0-2 conv2d+batchnorm+relu}
 */
record Group(int first, int last, Layer main, BatchNorm bn, boolean relu, String label) {
    static List<Group> of(List<Layer> layers) {
        List<Group> groups = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            Layer layer = layers.get(i);
            if (layer instanceof Dropout) continue;
            int last = i;
            BatchNorm bn = null;
            boolean relu = false;
            if (layer instanceof WeightedLayer) {
                if (last + 1 < layers.size() && layers.get(last + 1) instanceof BatchNorm b) {
                    bn = b;
                    last++;
                }
                if (last + 1 < layers.size() && layers.get(last + 1) instanceof Nonlinearity r && r.kind() == Nonlinearity.Kind.RELU) {
                    relu = true;
                    last++;
                }
            }
            groups.add(new Group(i, last, layer, bn, relu, label(layers, i, last)));
            i = last;
        }
        return groups;
    }

    private static String label(List<Layer> layers, int first, int last) {
        StringBuilder b = new StringBuilder(first == last ? String.valueOf(first) : first + "-" + last).append(' ');
        for (int i = first; i <= last; i++) b.append(i > first ? "+" : "").append(layers.get(i).type());
        return b.toString();
    }
}
