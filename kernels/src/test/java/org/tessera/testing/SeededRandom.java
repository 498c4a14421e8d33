package org.tessera.testing;

import java.util.SplittableRandom;
import org.junit.jupiter.api.extension.AfterTestExecutionCallback;
import org.opentest4j.TestAbortedException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit 5 extension that hands each test a fresh {@link SplittableRandom} seeded from the clock (or from
 * {@code -Dtessera.seed=N} to replay) and prints the seed when the test fails, so any failure reproduces.
 * Use: {@code @ExtendWith(SeededRandom.class)} and a {@code SplittableRandom} test parameter.
 */
public final class SeededRandom implements ParameterResolver, AfterTestExecutionCallback {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(SeededRandom.class);

    @Override
    public boolean supportsParameter(ParameterContext p, ExtensionContext e) {
        return p.getParameter().getType() == SplittableRandom.class;
    }

    @Override
    public Object resolveParameter(ParameterContext p, ExtensionContext e) {
        long seed = Long.getLong("tessera.seed", System.nanoTime() ^ Thread.currentThread().threadId() * 0x9E3779B97F4A7C15L);
        e.getStore(NS).put("seed", seed);
        return new SplittableRandom(seed);
    }

    @Override
    public void afterTestExecution(ExtensionContext e) {
        Long seed = e.getStore(NS).get("seed", Long.class);
        // A skipped test (failed assumption) is not a failure: no seed to report.
        if (seed != null && e.getExecutionException().filter(t -> !(t instanceof TestAbortedException)).isPresent()) {
            System.err.println("FAILED " + e.getDisplayName() + " with seed " + seed + ": rerun with -Dtessera.seed=" + seed);
        }
    }
}
