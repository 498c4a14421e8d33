package org.tessera.kernels;

import java.lang.System.Logger.Level;

/**
 * The library's log, through {@link System.Logger} (logger name {@code org.tessera}) so applications route
 * it into their own logging. Selection decisions are logged (at INFO) only with {@code tessera.verbose}:
 * otherwise the logging system is never even initialized, which keeps it out of start-up time.
 */
public final class Log {
    private Log() {}

    private static final class Holder {
        static final System.Logger LOGGER = System.getLogger("org.tessera");
    }

    public static void info(String message) {
        Holder.LOGGER.log(Level.INFO, message);
    }

    /** A selection decision: logged only with {@code -Dtessera.verbose=true}. */
    public static void decision(boolean verbose, String message) {
        if (verbose) Holder.LOGGER.log(Level.INFO, message);
    }
}
