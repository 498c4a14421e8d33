package org.tessera.kernels;

import java.lang.System.Logger.Level;

/**
 * The library's log, through {@link System.Logger} (logger name {@code org.tessera}) so applications route
 * it into their own logging. Selection decisions go at INFO when {@code tessera.verbose} is set, else
 * DEBUG.
 */
public final class Log {
    private static final System.Logger LOGGER = System.getLogger("org.tessera");

    private Log() {}

    public static void info(String message) {
        LOGGER.log(Level.INFO, message);
    }

    /** A selection decision: visible with {@code -Dtessera.verbose=true}. */
    public static void decision(boolean verbose, String message) {
        LOGGER.log(verbose ? Level.INFO : Level.DEBUG, message);
    }
}
