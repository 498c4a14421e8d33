package org.tessera.bench;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.results.BenchmarkResult;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.tessera.Tessera;
import org.tessera.kernels.nativecpu.NativeBackend;

/**
 * Runs JMH (same arguments as the JMH jar: a benchmark regex, {@code -p name=v1,v2}, ...) and prints a
 * Markdown table with the rate each run reached (GFLOP/s for GEMM, GB/s for memory-bound ops), best and
 * mean iteration, and the ratio to the peer measured in the same run. Paste it into bench/RESULTS.md.
 */
public final class BenchMain {
    private BenchMain() {}

    public static void main(String[] args) throws Exception {
        CommandLineOptions options = new CommandLineOptions(args);
        Collection<RunResult> results = new Runner(options).run();
        System.out.println();
        System.out.println(header());
        System.out.println();
        System.out.println("| benchmark | backend | params | best | mean | unit | vs peer (best) |");
        System.out.println("|---|---|---|---:|---:|---|---:|");
        List<Row> rows = new ArrayList<>();
        for (RunResult r : results) rows.add(Row.of(r));
        for (Row row : rows) {
            Row peer = rows.stream().filter(p -> p.isPeer() && p.benchmark.equals(row.benchmark) && p.otherParams.equals(row.otherParams))
                    .findFirst().orElse(null);
            String ratio = peer == null || row.isPeer() ? "" : String.format(Locale.ROOT, "%.2fx", row.best / peer.best);
            System.out.printf(Locale.ROOT, "| %s | %s | %s | %.1f | %.1f | %s | %s |%n", row.benchmark, row.backend, row.otherParams,
                    row.best, row.mean, row.unit, ratio);
        }
    }

    private static String header() {
        return "Machine: " + NativeBackend.cpuInfo().model() + ", " + Runtime.getRuntime().availableProcessors() + " cores, "
                + String.join(" ", NativeBackend.cpuInfo().features()) + "; JDK " + Runtime.version() + "; Tessera " + Tessera.version()
                + "; " + LocalDate.now();
    }

    /** One JMH run as a rate: higher is better. */
    private record Row(String benchmark, String backend, String otherParams, double best, double mean, String unit) {
        boolean isPeer() {
            // Int8GemmBench compares with our own f32 GEMM (the reference), the others with the peers
            // SparseBench compares each format with our dense GEMM
            if (backend == null) return false; // no backend parameter (AllReduceBench): nothing to compare with
            return backend.equals("openblas") || backend.equals("onednn") || backend.equals("native-f32") || backend.equals("native-dense");
        }

        static Row of(RunResult r) {
            BenchmarkParams p = r.getParams();
            String name = p.getBenchmark().substring(p.getBenchmark().lastIndexOf('.', p.getBenchmark().lastIndexOf('.') - 1) + 1);
            Map<String, String> others = new TreeMap<>();
            for (String key : p.getParamsKeys()) if (!key.equals("backend")) others.put(key, p.getParam(key));
            double secondsPerUnit = unitSeconds(r.getPrimaryResult().getScoreUnit());
            double work = work(name, p);
            double bestTime = Double.MAX_VALUE;
            for (BenchmarkResult fork : r.getBenchmarkResults()) {
                for (IterationResult it : fork.getIterationResults()) bestTime = Math.min(bestTime, it.getPrimaryResult().getScore());
            }
            double meanTime = r.getPrimaryResult().getScore();
            String unit = name.startsWith("GemmBench") || name.startsWith("ConvBench") || name.startsWith("ConvBackwardBench") ? "GFLOP/s"
                    : name.startsWith("SparseBench") ? "eff. GFLOP/s"
                    : name.startsWith("Int8GemmBench") ? "GOP/s" : "GB/s";
            return new Row(name, p.getParam("backend"), others.toString(), work / (bestTime * secondsPerUnit) / 1e9,
                    work / (meanTime * secondsPerUnit) / 1e9, unit);
        }

        /** Flops (GEMM) or bytes moved (elementwise) per call. */
        private static double work(String name, BenchmarkParams p) {
            if (name.startsWith("GemmBench") || name.startsWith("Int8GemmBench")) {
                String[] s = p.getParam("shape").split("x");
                return 2.0 * Double.parseDouble(s[0]) * Double.parseDouble(s[1]) * Double.parseDouble(s[2]);
            }
            if (name.startsWith("ConvBench") || name.startsWith("ConvBackwardBench")) return ConvBench.shape(p.getParam("layer")).flops();
            if (name.startsWith("SparseBench")) return SparseBench.flops(p.getParam("shape"), Integer.parseInt(p.getParam("m")));
            if (name.startsWith("AllReduceBench")) return AllReduceBench.bytes(Integer.parseInt(p.getParam("mb")));
            double n = Double.parseDouble(p.getParam("n"));
            return (p.getParam("op").equals("relu") ? 8 : 12) * n; // f32: read x (+ y), write out
        }

        private static double unitSeconds(String unit) {
            return switch (unit) {
                case "s/op" -> 1;
                case "ms/op" -> 1e-3;
                case "us/op" -> 1e-6;
                case "ns/op" -> 1e-9;
                default -> throw new IllegalStateException("use an average-time mode; got unit " + unit);
            };
        }
    }
}
