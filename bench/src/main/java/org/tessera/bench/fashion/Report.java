package org.tessera.bench.fashion;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.tessera.Tessera;
import org.tessera.data.FashionMnist;
import org.tessera.eval.ClassificationReport;
import org.tessera.train.EpochStats;
import org.tessera.train.History;

/** The job's HTML report: tables plus PNG charts drawn with XChart (headless) and embedded as data URIs. */
final class Report {
    private Report() {}

    static void write(Path file, FashionJob.Results r, JobOptions o) throws IOException {
        System.setProperty("java.awt.headless", "true");
        StringBuilder h = new StringBuilder();
        h.append("<!doctype html><html><head><meta charset=\"utf-8\"><title>Tessera Fashion-MNIST report</title><style>")
                .append("body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}table{border-collapse:collapse;margin:1em 0}")
                .append("td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}")
                .append(".pass{color:#080}.miss{color:#b00}img{max-width:100%}</style></head><body>");
        h.append("<h1>Tessera: Fashion-MNIST end to end</h1>");
        h.append(String.format(Locale.ROOT, "<p>%s &middot; Tessera %s &middot; %d threads &middot; %s &middot; %d-replica data-parallel training%s</p>", LocalDate.now(),
                Tessera.version(), Tessera.threads(), esc(System.getProperty("os.arch") + ", " + Runtime.getRuntime().availableProcessors() + " CPUs"), r.replicas(),
                o.quick() ? " &middot; <b>--quick run on a subset: accuracies are not the full run's</b>" : ""));
        h.append("<h2>Targets</h2><ul>");
        for (String t : r.targetLines()) h.append("<li class=\"").append(t.startsWith("PASS") ? "pass" : "miss").append("\">").append(esc(t)).append("</li>");
        h.append("</ul><h2>Variants</h2>").append(variantTable(r.variants()));
        h.append(img(tradeoff(r.variants()))).append(img(sizes(r.variants())));
        h.append("<h2>Training</h2>").append(img(curves(r.teacher(), r.student(), true))).append(img(curves(r.teacher(), r.student(), false)));
        h.append(trainingTable(r.teacher()));
        double[] p = r.training(); // images/s: 1 thread, intra-op, data-parallel; then the two speed-ups
        h.append(String.format(Locale.ROOT, "<p>Training throughput (teacher, batch 128): %,.0f images/s on 1 thread; with %d threads %,.0f intra-op (one replica, "
                + "multi-threaded kernels) and %,.0f data-parallel (one replica per thread): %.2fx and %.2fx (medians of rounds in turns).</p>", p[0], Tessera.threads(), p[1], p[2], p[3], p[4]));
        h.append("<h2>Test-set metrics of the fp32 CNN</h2>");
        h.append(String.format(Locale.ROOT, "<p>Accuracy %.4f (top-2 %.4f, macro F1 %.4f) vs baselines: linear least squares %.4f, majority class %.4f.</p>", r.fp32().accuracy(),
                r.fp32().topK(2), r.fp32().macroF1(), r.linearAccuracy(), r.majorityAccuracy()));
        h.append(perClass(r.fp32())).append(img(confusion(r.fp32())));
        h.append("</body></html>\n");
        Files.writeString(file, h);
    }

    private static String variantTable(List<Variant> vs) {
        StringBuilder t = new StringBuilder("<table><tr><th>variant</th><th>backend</th><th>accuracy</th><th>sparsity</th><th>params</th><th>bytes</th>"
                + "<th>batch-1 latency (ms)</th><th>batch-256 throughput (img/s)</th></tr>");
        for (Variant v : vs) {
            t.append(String.format(Locale.ROOT, "<tr><td>%s</td><td>%s</td><td>%.4f</td><td>%.3f</td><td>%,d</td><td>%,d</td><td>%.3f</td><td>%,.0f</td></tr>", v.name(), v.backend(),
                    v.accuracy(), v.sparsity(), v.params(), v.bytes(), v.latencyMs(), v.throughput()));
        }
        return t.append("</table>").toString();
    }

    private static String trainingTable(History teacher) {
        StringBuilder t = new StringBuilder("<table><tr><th>epoch</th><th>train loss</th><th>train acc</th><th>val loss</th><th>val acc</th><th>img/s</th><th>input stall (s)</th><th>lr</th></tr>");
        for (EpochStats s : teacher.epochs()) {
            t.append(String.format(Locale.ROOT, "<tr><td>%d</td><td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%,.0f</td><td>%.2f</td><td>%.1e</td></tr>", s.epoch() + 1,
                    s.trainLoss(), s.trainAccuracy(), s.valLoss(), s.valAccuracy(), s.imagesPerSecond(), s.stallSeconds(), s.learningRate()));
        }
        return t.append("</table>").toString();
    }

    private static String perClass(ClassificationReport c) {
        StringBuilder t = new StringBuilder("<table><tr><th>class</th><th>support</th><th>precision</th><th>recall</th><th>F1</th><th>ROC AUC</th><th>PR AUC</th><th>prediction bias</th></tr>");
        for (int k = 0; k < c.classes(); k++) {
            t.append(String.format(Locale.ROOT, "<tr><td>%s</td><td>%d</td><td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%+.4f</td></tr>",
                    esc(FashionMnist.CLASSES.get(k)), c.support(k), c.precision(k), c.recall(k), c.f1(k), c.rocAuc(k), c.prAuc(k), c.predictionBias(k)));
        }
        return t.append("</table>").toString();
    }

    private static XYChart curves(History teacher, History student, boolean loss) {
        XYChart c = new XYChartBuilder().width(540).height(340).title(loss ? "Loss per epoch" : "Accuracy per epoch").xAxisTitle("epoch").yAxisTitle(loss ? "loss" : "accuracy")
                .build();
        series(c, "CNN train", teacher, loss ? EpochStats::trainLoss : EpochStats::trainAccuracy);
        series(c, "CNN validation", teacher, loss ? EpochStats::valLoss : EpochStats::valAccuracy);
        series(c, "student train" + (loss ? " (distillation loss)" : ""), student, loss ? EpochStats::trainLoss : EpochStats::trainAccuracy);
        return c;
    }

    private static void series(XYChart c, String name, History h, java.util.function.ToDoubleFunction<EpochStats> f) {
        List<Double> x = new ArrayList<>(), y = new ArrayList<>();
        for (EpochStats s : h.epochs()) {
            double v = f.applyAsDouble(s);
            if (Double.isNaN(v)) continue;
            x.add((double) s.epoch() + 1);
            y.add(v);
        }
        if (!x.isEmpty()) c.addSeries(name, x, y);
    }

    private static XYChart tradeoff(List<Variant> vs) {
        XYChart c = new XYChartBuilder().width(760).height(380).title("Accuracy vs throughput (batch 256)").xAxisTitle("images/s")
                .yAxisTitle("test accuracy").build();
        c.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        for (Variant v : vs) {
            XYSeries s = c.addSeries(v.name() + " (" + v.backend() + ")", new double[] {v.throughput()}, new double[] {v.accuracy()});
            s.setMarker(new org.knowm.xchart.style.markers.Circle());
        }
        c.getStyler().setMarkerSize(10);
        c.getStyler().setYAxisDecimalPattern("0.000");
        return c;
    }

    private static CategoryChart sizes(List<Variant> vs) {
        CategoryChart c = new CategoryChartBuilder().width(540).height(340).title("Model size").xAxisTitle("variant").yAxisTitle("KiB").build();
        List<String> names = new ArrayList<>();
        List<Double> kib = new ArrayList<>();
        for (Variant v : vs) {
            if (names.contains(v.name())) continue;
            names.add(v.name());
            kib.add(v.bytes() / 1024.0);
        }
        c.addSeries("parameter bytes", names, kib);
        c.getStyler().setLegendVisible(false);
        return c;
    }

    private static HeatMapChart confusion(ClassificationReport r) {
        HeatMapChart c = new HeatMapChartBuilder().width(900).height(600).title("Confusion matrix (rows: true class, columns: predicted)").build();
        List<String> names = FashionMnist.CLASSES;
        long[][] m = r.confusion();
        List<Number[]> cells = new ArrayList<>();
        for (int t = 0; t < m.length; t++) {
            for (int p = 0; p < m[t].length; p++) cells.add(new Number[] {p, m.length - 1 - t, m[t][p]});
        }
        List<String> rows = new ArrayList<>(names);
        java.util.Collections.reverse(rows);
        c.addSeries("count", names, rows, cells);
        c.getStyler().setShowValue(true);
        c.getStyler().setRangeColors(new Color[] {new Color(255, 255, 255), new Color(70, 130, 200), new Color(20, 40, 120)});
        c.getStyler().setLegendVisible(false);
        return c;
    }

    private static String img(Chart<?, ?> chart) throws IOException {
        byte[] png = BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
        return "<p><img alt=\"" + esc(chart.getTitle()) + "\" src=\"data:image/png;base64," + Base64.getEncoder().encodeToString(png) + "\"></p>";
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
