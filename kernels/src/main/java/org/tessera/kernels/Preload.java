package org.tessera.kernels;

import org.tessera.kernels.nativecpu.NativeBackend;

/**
 * Starts loading the native library on a background thread the first time Tessera is touched (a host
 * allocation or the backend registry), so that its ~150 ms of JavaCPP class loading overlaps with the
 * application's own set-up instead of delaying the first op. Idempotent; skipped when
 * {@code tessera.backend} forces a non-native backend or {@code -Dtessera.preload=false}.
 */
final class Preload {
    private static volatile boolean started;

    private Preload() {}

    static void begin() {
        if (started) return;
        synchronized (Preload.class) {
            if (started) return;
            started = true;
        }
        String forced = System.getProperty("tessera.backend", "");
        if (!Boolean.parseBoolean(System.getProperty("tessera.preload", "true")) || !(forced.isBlank() || forced.equals("native"))) {
            return;
        }
        Thread t = new Thread(NativeBackend::preload, "tessera-native-preload");
        t.setDaemon(true);
        t.start();
    }
}
