package org.tessera.bench.fashion;

import java.nio.file.Path;

/**
 * Options of the Fashion-MNIST job: {@code --quick} (a subset, under a minute), {@code --data DIR} (the IDX
 * files), {@code --out DIR} (report, summary, checkpoint), {@code --seed N}, {@code --epochs N} (teacher).
 */
record JobOptions(boolean quick, Path data, Path out, long seed, int epochs) {
    static JobOptions parse(String[] args) {
        boolean quick = false;
        Path data = org.tessera.data.FashionMnist.DEBIAN_DIR, out = Path.of("out");
        long seed = 42;
        int epochs = -1;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--quick" -> quick = true;
                case "--data" -> data = Path.of(value(args, ++i, a));
                case "--out" -> out = Path.of(value(args, ++i, a));
                case "--seed" -> seed = Long.parseLong(value(args, ++i, a));
                case "--epochs" -> epochs = Integer.parseInt(value(args, ++i, a));
                case "--help", "-h" -> throw new IllegalArgumentException(usage());
                default -> throw new IllegalArgumentException("unknown argument " + a + "\n" + usage());
            }
        }
        if (epochs == -1) epochs = quick ? 3 : 8;
        if (epochs < 1) throw new IllegalArgumentException("--epochs must be >= 1");
        return new JobOptions(quick, data, out, seed, epochs);
    }

    private static String value(String[] args, int i, String flag) {
        if (i >= args.length) throw new IllegalArgumentException(flag + " needs a value\n" + usage());
        return args[i];
    }

    static String usage() {
        return "usage: ./toolchain/run [--quick] [--data DIR] [--out DIR] [--seed N] [--epochs N]";
    }
}
