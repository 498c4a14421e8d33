package org.tessera.kernels.spi;

import java.util.Objects;

/**
 * A backend's answer when asked for an op family: its kernels, or the reason it refuses
 * (e.g. "not implemented yet", "CPU lacks AVX2"). The selector logs refusals in verbose mode.
 *
 * @param kernels the kernels, or null when refused
 * @param reason  why refused, or null when supported
 * @param <T>     the family's kernel interface
 */
public record Support<T>(T kernels, String reason) {
    public Support {
        if ((kernels == null) == (reason == null)) throw new IllegalArgumentException("exactly one of kernels and reason");
    }

    public static <T> Support<T> of(T kernels) {
        return new Support<>(Objects.requireNonNull(kernels), null);
    }

    public static <T> Support<T> refused(String reason) {
        return new Support<>(null, Objects.requireNonNull(reason));
    }

    public boolean supported() {
        return kernels != null;
    }
}
