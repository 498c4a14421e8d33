package org.tessera.kernels;

import org.tessera.kernels.nativecpu.NativeBackend;

/**
 * Starts loading the native library on a background thread the first time Tessera is touched (the tensor
 * class, a host allocation or the backend registry), so that its ~150 ms of JavaCPP class loading overlaps with the
 * application's own set-up instead of delaying the first op. Idempotent; skipped when
 * {@code tessera.backend} forces a non-native backend or {@code -Dtessera.preload=false}.
 */
public final class Preload {
    private static volatile boolean started;

    /** A class, not a lambda: the first lambda of a JVM costs milliseconds of bootstrap on this path. */
    private static final class Loader implements Runnable {
        @Override
        public void run() {
            NativeBackend.preload();
        }
    }

    private Preload() {}

    /** Starts the background load (once); returns at once. */
    public static void begin() {
        if (started) return;
        synchronized (Preload.class) {
            if (started) return;
            started = true;
        }
        String forced = System.getProperty("tessera.backend", "");
        if (!Boolean.parseBoolean(System.getProperty("tessera.preload", "true")) || !(forced.isBlank() || forced.equals("native"))) {
            return;
        }
        Thread t = new Thread(new Loader(), "tessera-native-preload");
        t.setDaemon(true);
        t.start();
    }
}
