package org.tessera.nn;

import java.util.Map;

/** Layers rebuilt from their {@link Layer#config()} (model files). */
final class Layers {
    private Layers() {}

    static Layer fromConfig(Map<String, Object> c) {
        if (!(c.get("type") instanceof String type)) throw new IllegalArgumentException("a layer entry has no \"type\": " + c);
        return switch (type) {
            case "linear" -> Linear.fromConfig(c);
            case "conv2d" -> Conv2d.fromConfig(c);
            case "batchnorm" -> BatchNorm.fromConfig(c);
            case "relu", "relu6", "gelu", "sigmoid", "tanh" -> Nonlinearity.fromType(type);
            case "maxpool2d", "avgpool2d" -> Pool2d.fromConfig(type, c);
            case "globalavgpool" -> new GlobalAvgPool();
            case "flatten" -> new Flatten();
            case "dropout" -> new Dropout(c.get("p") instanceof Number p ? p.doubleValue() : 0.5);
            case "softmax" -> new Softmax(false);
            case "logsoftmax" -> new Softmax(true);
            default -> throw new IllegalArgumentException("unknown layer type \"" + type + "\"");
        };
    }
}
