package dev.rerank4j.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** What the side-by-side harness measured: one {@link Cell} per model and workload, and how it is printed and written. */
final class Results {
    /** Engine ids in column order; the table, the CSV and the chart use this order. */
    static final List<String> ENGINE_ORDER = List.of("rerank4j", OrtEncoder.Batching.ONE_PADDED_BATCH.id,
            OrtEncoder.Batching.SORTED_BATCHES_32.id, TorchEngine.ID);
    static final Map<String, String> LABELS = Map.of(
            "rerank4j", "rerank4j (ragged batches of 32)",
            OrtEncoder.Batching.ONE_PADDED_BATCH.id, OrtEncoder.Batching.ONE_PADDED_BATCH.label,
            OrtEncoder.Batching.SORTED_BATCHES_32.id, OrtEncoder.Batching.SORTED_BATCHES_32.label,
            TorchEngine.ID, TorchEngine.LABEL);

    private Results() {}

    /** The timed runs of one engine on one cell; {@code seconds[r]} is round r. */
    record Runs(String engine, double[] seconds) {
        double medianSeconds() {
            return median(seconds);
        }
    }

    /**
     * One model × workload. {@code skipped} is null when it ran; {@code absent} says, per engine id, why an
     * engine has no runs here (not installed, not selected, failed).
     */
    record Cell(BenchModel model, Workload.Spec spec, String skipped, List<Runs> runs, Map<String, String> absent,
                int pairs, double loadBefore, double loadAfter) {
        static Cell skipped(BenchModel model, Workload.Spec spec, String why) {
            return new Cell(model, spec, why, List.of(), Map.of(), spec.docs, Double.NaN, Double.NaN);
        }

        Runs runs(String engine) {
            for (Runs r : runs) if (r.engine.equals(engine)) return r;
            return null;
        }

        /** The ORT way with the better median (more pairs/s, i.e. fewer seconds), or null if ORT did not run. */
        Runs fasterOrt() {
            Runs best = null;
            for (Runs r : runs) {
                if (r.engine.startsWith("ort-") && (best == null || r.medianSeconds() < best.medianSeconds())) best = r;
            }
            return best;
        }

        /**
         * rerank4j against {@code other}, round by round (the engines alternate, so round r of both saw the
         * same load): throughput workloads: rerank4j pairs/s ÷ other's (higher is better for rerank4j);
         * latency workload: rerank4j seconds ÷ other's (lower is better). Null if either did not run.
         */
        double[] ratios(Runs other) {
            Runs ours = runs("rerank4j");
            if (ours == null || other == null) return null;
            double[] r = new double[Math.min(ours.seconds.length, other.seconds.length)];
            for (int i = 0; i < r.length; i++) {
                r[i] = spec.latency ? ours.seconds[i] / other.seconds[i] : other.seconds[i] / ours.seconds[i];
            }
            return r;
        }
    }

    static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }

    static double min(double[] v) {
        return Arrays.stream(v).min().orElse(Double.NaN);
    }

    static double max(double[] v) {
        return Arrays.stream(v).max().orElse(Double.NaN);
    }

    /** The table of one cell, printed when it is done. */
    static String cellTable(Cell c) {
        StringBuilder sb = new StringBuilder("\n");
        if (c.spec.latency) {
            sb.append(String.format("%-32s %5s %9s %9s %9s%n", "engine (latency, 1 call)", "runs", "ms min", "median", "max"));
            for (Runs r : c.runs) {
                sb.append(String.format("%-32s %5d %9.2f %9.2f %9.2f%s%n", LABELS.get(r.engine), r.seconds.length,
                        1e3 * min(r.seconds), 1e3 * r.medianSeconds(), 1e3 * max(r.seconds), r == c.fasterOrt() ? "  (faster ORT way)" : ""));
            }
        } else {
            sb.append(String.format("%-32s %5s %9s %11s %9s %9s%n", "engine", "runs", "median s", "pairs/s min", "median", "max"));
            for (Runs r : c.runs) {
                sb.append(String.format("%-32s %5d %9.3f %11.2f %9.2f %9.2f%s%n", LABELS.get(r.engine), r.seconds.length,
                        r.medianSeconds(), c.pairs / max(r.seconds), c.pairs / r.medianSeconds(), c.pairs / min(r.seconds),
                        r == c.fasterOrt() ? "  (faster ORT way)" : ""));
            }
        }
        for (Map.Entry<String, String> e : c.absent.entrySet()) {
            sb.append(String.format("%-32s %s%n", LABELS.get(e.getKey()), e.getValue()));
        }
        Runs ort = c.fasterOrt();
        double[] vsOrt = c.ratios(ort);
        if (vsOrt != null) {
            sb.append(String.format("%s rerank4j / %s, run by run: min %.2f, median %.2f, max %.2f%s%n",
                    c.spec.latency ? "latency" : "pairs/s", LABELS.get(ort.engine), min(vsOrt), median(vsOrt), max(vsOrt),
                    c.spec.latency ? String.format(" (target ≤ 0.8: %s)", median(vsOrt) <= 0.8 ? "met" : "not met") : ""));
        }
        double[] vsTorch = c.ratios(c.runs(TorchEngine.ID));
        if (vsTorch != null) {
            sb.append(String.format("%s rerank4j / PyTorch, run by run: min %.2f, median %.2f, max %.2f%n",
                    c.spec.latency ? "latency" : "pairs/s", min(vsTorch), median(vsTorch), max(vsTorch)));
        }
        sb.append(String.format("system load average (1 min) before/after the timed runs: %.2f / %.2f on %d CPUs%n",
                c.loadBefore, c.loadAfter, Runtime.getRuntime().availableProcessors()));
        return sb.toString();
    }

    /**
     * The run's summary as a Markdown table: median pairs/s (ms for the latency workload) per engine, and
     * rerank4j against the faster ORT way as min / median / max of the run-by-run ratios.
     */
    static String summary(List<Cell> cells) {
        StringBuilder sb = new StringBuilder();
        sb.append("| model | workload | unit | rerank4j | ORT one padded batch | ORT sorted batches of 32 | PyTorch sorted batches of 32 "
                + "| rerank4j / faster ORT: min | median | max | rerank4j / PyTorch (median) |\n");
        sb.append("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Cell c : cells) {
            sb.append("| ").append(c.model.id).append(" | (").append(c.spec.id).append(") ").append(c.spec.description).append(" | ");
            if (c.skipped != null) {
                sb.append("— | skipped: ").append(c.skipped).append(" | | | | | | | |\n");
                continue;
            }
            sb.append(c.spec.latency ? "ms / call" : "pairs/s");
            for (String engine : ENGINE_ORDER) {
                Runs r = c.runs(engine);
                String abs = c.absent.get(engine);
                sb.append(" | ").append(r != null ? value(c, r) : abs != null ? abs.replaceFirst(" \\(.*", "") : "—");
            }
            double[] vsOrt = c.ratios(c.fasterOrt());
            if (vsOrt != null) {
                sb.append(String.format(Locale.ROOT, " | %.2f | **%.2f**%s | %.2f", min(vsOrt), median(vsOrt),
                        c.spec.latency ? " (latency; target ≤ 0.8)" : "", max(vsOrt)));
            } else {
                sb.append(" | — | — | —");
            }
            double[] vsTorch = c.ratios(c.runs(TorchEngine.ID));
            sb.append(vsTorch != null ? String.format(Locale.ROOT, " | %.2f |%n", median(vsTorch)) : " | — |\n");
        }
        return sb.toString();
    }

    private static String value(Cell c, Runs r) {
        return c.spec.latency ? String.format(Locale.ROOT, "%.2f", 1e3 * r.medianSeconds())
                : String.format(Locale.ROOT, "%.2f", c.pairs / r.medianSeconds());
    }

    /** Every timed run: {@code engine,model,workload,run,seconds,pairs_per_s}. */
    static void writeCsv(Path csv, List<Cell> cells) throws IOException {
        List<String> lines = new ArrayList<>();
        lines.add("engine,model,workload,run,seconds,pairs_per_s");
        for (Cell c : cells) {
            for (String engine : ENGINE_ORDER) {
                Runs r = c.runs(engine);
                if (r == null) continue;
                for (int i = 0; i < r.seconds.length; i++) {
                    lines.add(String.format(Locale.ROOT, "%s,%s,%s,%d,%.6f,%.4f", engine, c.model.id, c.spec.id, i + 1,
                            r.seconds[i], c.pairs / r.seconds[i]));
                }
            }
        }
        Path parent = csv.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        Path tmp = csv.resolveSibling(csv.getFileName() + ".tmp");
        Files.write(tmp, lines);
        Files.move(tmp, csv, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    /** Runs in {@link #ENGINE_ORDER}. */
    static List<Runs> ordered(Map<String, double[]> byEngine) {
        List<Runs> out = new ArrayList<>();
        for (String e : ENGINE_ORDER) if (byEngine.containsKey(e)) out.add(new Runs(e, byEngine.get(e)));
        return out;
    }

    static <K, V> Map<K, V> linked() {
        return new LinkedHashMap<>();
    }
}
