package org.tessera.kernels;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.tessera.kernels.cuda.CudaBackend;
import org.tessera.kernels.java.JavaBackend;
import org.tessera.kernels.nativecpu.NativeBackend;
import org.tessera.kernels.openblas.OpenBlasBackend;
import org.tessera.kernels.spi.Backend;
import org.tessera.kernels.spi.OpFamily;
import org.tessera.kernels.spi.Support;

/**
 * The ordered candidate list of backends and the rule that picks one per op family, oneDNN-style: for
 * the memory the operands live in, the first available backend that accepts the family wins (order:
 * cuda, native, java; opt-in backends such as openblas only when forced or named). A forced backend ({@code -Dtessera.backend=...} or {@link #setForced}) replaces the
 * rule and fails loudly when it cannot serve. Choices are made once per (family, memory) and cached; with
 * {@code tessera.verbose} every refusal is logged with its reason.
 */
public final class Backends {
    private static volatile Backends defaults;

    private final Config config;
    private final List<Backend> candidates;
    /** Choices made so far, per memory kind (index = ordinal); cleared when the forced backend changes. */
    private final List<Map<OpFamily<?>, Selection<?>>> cache = new ArrayList<>();
    private volatile String forced;
    private volatile boolean fallbackLogged;

    /** A choice: the backend and its kernels for one family. */
    public record Selection<T>(Backend backend, T kernels) {}

    /** Candidates in priority order; the last must be an always-available host backend. */
    public Backends(Config config, List<Backend> candidates) {
        this.config = Objects.requireNonNull(config);
        this.candidates = List.copyOf(candidates);
        for (int i = 0; i < MemoryKind.values().length; i++) cache.add(new ConcurrentHashMap<>());
        this.forced = config.backend();
        if (forced != null) byName(forced); // an unknown name fails at start-up, not at the first op
    }

    /** The standard candidates (cuda, native, java) configured by {@code config}. */
    public static Backends standard(Config config) {
        return new Backends(config, List.of(new CudaBackend(), new NativeBackend(config.maxIsa(), config.vnni()), new JavaBackend(), new OpenBlasBackend()));
    }

    /** The library-wide registry, configured from system properties on first use. */
    public static Backends get() {
        Preload.begin();
        Backends b = defaults;
        if (b == null) {
            synchronized (Backends.class) {
                b = defaults;
                if (b == null) defaults = b = standard(Config.fromSystemProperties());
            }
        }
        return b;
    }

    public Config config() {
        return config;
    }

    /** All candidates, in priority order, available or not. */
    public List<Backend> all() {
        return candidates;
    }

    /**
     * @throws IllegalArgumentException for an unknown name, listing the known ones
     */
    public Backend byName(String name) {
        for (Backend b : candidates) if (b.name().equals(name)) return b;
        throw new IllegalArgumentException("unknown backend '" + name + "'; known: "
                + candidates.stream().map(Backend::name).collect(Collectors.joining(", ")));
    }

    /** The forced backend's name, or null when each op picks the best available. */
    public String forced() {
        return forced;
    }

    /**
     * Forces every op onto backend {@code name} (overriding {@code tessera.backend}); null restores the
     * automatic choice.
     *
     * @throws IllegalArgumentException for an unknown name
     */
    public void setForced(String name) {
        if (name != null) byName(name);
        forced = name;
        cache.forEach(Map::clear);
    }

    /**
     * The backend and kernels for {@code family} on operands in {@code memory}.
     *
     * @throws IllegalStateException if a forced backend is unavailable, refuses the family or runs on other
     *                               memory, or if no candidate accepts it; the message says why
     */
    @SuppressWarnings("unchecked") // the cache maps each family to a selection of that family's type
    public <T> Selection<T> select(OpFamily<T> family, MemoryKind memory) {
        Map<OpFamily<?>, Selection<?>> byFamily = cache.get(memory.ordinal());
        Selection<?> s = byFamily.get(family);
        if (s == null) {
            String f = forced;
            s = f != null ? selectForced(family, memory, byName(f)) : selectFirst(family, memory);
            byFamily.put(family, s);
        }
        return (Selection<T>) s;
    }

    /**
     * {@code backend}'s kernels for {@code family}, bypassing the automatic choice.
     *
     * @throws IllegalStateException if it is unavailable or refuses the family
     */
    public <T> Selection<T> selectOn(OpFamily<T> family, Backend backend) {
        return selectForced(family, backend.memoryKind(), backend);
    }

    private <T> Selection<T> selectForced(OpFamily<T> family, MemoryKind memory, Backend b) {
        if (b.memoryKind() != memory) {
            throw new IllegalStateException("backend " + b.name() + " runs on " + b.memoryKind() + " memory but the operands are in "
                    + memory + " memory: move them with tensor.to(...)");
        }
        if (!b.availability().available()) {
            throw new IllegalStateException("backend " + b.name() + " was requested but is not available: " + b.availability().detail());
        }
        Support<T> support = b.kernels(family);
        if (!support.supported()) {
            throw new IllegalStateException("backend " + b.name() + " was requested but has no " + family + " kernels: " + support.reason());
        }
        Log.decision(config.verbose(), "tessera: " + family + " on " + memory + " memory -> " + b.name() + " (forced)");
        return new Selection<>(b, support.kernels());
    }

    private <T> Selection<T> selectFirst(OpFamily<T> family, MemoryKind memory) {
        List<String> refusals = new ArrayList<>();
        for (Backend b : candidates) {
            if (b.memoryKind() != memory || !b.automatic()) continue;
            if (!b.availability().available()) {
                refusals.add(b.name() + ": " + b.availability().detail());
                continue;
            }
            Support<T> support = b.kernels(family);
            if (!support.supported()) {
                refusals.add(b.name() + ": " + support.reason());
                continue;
            }
            for (String r : refusals) Log.decision(config.verbose(), "tessera: " + family + " skipped " + r);
            Log.decision(config.verbose(), "tessera: " + family + " on " + memory + " memory -> " + b.name());
            logFallbackOnce(memory, b);
            return new Selection<>(b, support.kernels());
        }
        throw new IllegalStateException("no backend runs " + family + " on " + memory + " memory: " + String.join("; ", refusals));
    }

    /** One line, once, when host ops fall back to java because the native backend cannot run at all. */
    private void logFallbackOnce(MemoryKind memory, Backend chosen) {
        if (memory != MemoryKind.HOST || !chosen.name().equals(JavaBackend.NAME) || fallbackLogged) return;
        for (Backend b : candidates) {
            if (b.name().equals(NativeBackend.NAME) && !b.availability().available()) {
                fallbackLogged = true;
                Log.info("tessera: native backend not available (" + b.availability().detail() + "); using the java backend");
            }
        }
    }
}
