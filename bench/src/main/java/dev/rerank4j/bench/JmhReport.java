package dev.rerank4j.bench;

import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;

import java.util.Collection;

/**
 * Runs JMH (same command-line options as {@code org.openjdk.jmh.Main}) and adds the derived figures:
 * GFLOP/s for {@link LinearBenchmark} (2·M·K·N × ops/s), {@link AttentionBenchmark} and {@link MaxSimBenchmark},
 * GB/s for {@link LayerNormBenchmark} and MaxSim, and pairs/s for {@link RerankBenchmark} (100 × ops/s). The score
 * column is JMH's own unit: ops/s, except ms/op for MaxSim and Load (average time). FmaPeakBenchmark gives the
 * machine's FMA peak as Java reaches it, the yardstick for the others' GFLOP/s.
 */
public final class JmhReport {
    private JmhReport() {}

    public static void main(String[] args) throws Exception {
        CommandLineOptions options = new CommandLineOptions(args);
        if (options.shouldHelp() || options.shouldList() || options.shouldListWithParams() || options.shouldListProfilers()
                || options.shouldListResultFormats()) {
            org.openjdk.jmh.Main.main(args); // JMH's own answer (help, -l, -lp, -lprof, -lrf): nothing is run
            return;
        }
        Collection<RunResult> results = new Runner(options).run();
        System.out.println();
        System.out.printf("%-40s %-22s %12s %12s %s%n", "benchmark", "params", "score", "± (99.9%)", "derived");
        for (RunResult r : results) {
            String bench = r.getParams().getBenchmark();
            String shortName = bench.substring(bench.lastIndexOf('.', bench.lastIndexOf('.') - 1) + 1);
            StringBuilder params = new StringBuilder();
            for (String key : r.getParams().getParamsKeys()) {
                if (!params.isEmpty()) params.append(' ');
                params.append(key).append('=').append(r.getParams().getParam(key));
            }
            // the derived figures assume ops/s, or ms/op for the average-time benchmarks: JMH's -tu and -bm change the unit
            boolean averageTime = bench.endsWith("MaxSimBenchmark.maxSim") || bench.endsWith("LoadBenchmark.load");
            String unit = averageTime ? "ms/op" : "ops/s";
            double toUnit = toUnit(r.getPrimaryResult().getScoreUnit(), unit);
            if (Double.isNaN(toUnit)) {
                System.out.printf("%-40s %-22s %12.3f %12.3f %s (no derived figure: it needs %s)%n", shortName, params,
                        r.getPrimaryResult().getScore(), r.getPrimaryResult().getScoreError(), r.getPrimaryResult().getScoreUnit(), unit);
                continue;
            }
            double ops = r.getPrimaryResult().getScore() * toUnit;
            double err = r.getPrimaryResult().getScoreError() * toUnit;
            String derived = "";
            if (bench.endsWith("LinearBenchmark.linear")) {
                String kxn = r.getParams().getParam("kxn");
                derived = String.format("%.1f GFLOP/s (M=%d, K×N=%s)", ops * LinearBenchmark.flops(kxn) / 1e9, LinearBenchmark.M, kxn);
            } else if (bench.endsWith("RerankBenchmark.score")) {
                derived = String.format("%.1f pairs/s", ops * Workload.Spec.A.docs);
            } else if (bench.endsWith("FmaPeakBenchmark.fma")) { // ops/s summed over the benchmark's threads
                derived = String.format("%.1f GFLOP/s (FMA peak, %d threads)", ops * FmaPeakBenchmark.ITERATIONS * 12 * 2
                        * FmaPeakBenchmark.LANES / 1e9, r.getParams().getThreads());
            } else if (bench.endsWith("LoadBenchmark.load")) {
                derived = "ms per load of all-MiniLM-L6-v2";
            } else if (bench.endsWith("AttentionBenchmark.attention")) {
                String shape = r.getParams().getParam("shape");
                derived = String.format("%.1f GFLOP/s (%d x %d tokens, heads x dim %s)", ops * AttentionBenchmark.flops(shape) / 1e9,
                        AttentionBenchmark.SEQUENCES, AttentionBenchmark.LENGTH, shape);
            } else if (bench.endsWith("LayerNormBenchmark.addLayerNorm")) {
                int dim = Integer.parseInt(r.getParams().getParam("dim"));
                derived = String.format("%.1f GB/s (%d rows x %d)", ops * LayerNormBenchmark.bytes(dim) / 1e9, LayerNormBenchmark.ROWS, dim);
            } else if (bench.endsWith("MaxSimBenchmark.maxSim")) { // average time in ms per call
                derived = String.format("%.1f GFLOP/s, %.1f GB/s", MaxSimBenchmark.FLOP / (ops / 1e3) / 1e9,
                        MaxSimBenchmark.BYTES / (ops / 1e3) / 1e9);
            }
            System.out.printf("%-40s %-22s %12.3f %12.3f %s %s%n", shortName, params, ops, Double.isNaN(err) ? 0 : err, unit, derived);
        }
    }

    /** The factor from JMH's {@code unit} (e.g. "ops/ms", "us/op") to {@code wanted} ("ops/s" or "ms/op"); NaN if none. */
    static double toUnit(String unit, String wanted) {
        String[] parts = unit.split("/");
        if (parts.length != 2) return Double.NaN;
        if (wanted.equals("ops/s") && parts[0].equals("ops")) return 1 / seconds(parts[1]);
        if (wanted.equals("ms/op") && parts[1].equals("op")) return seconds(parts[0]) * 1e3;
        return Double.NaN;
    }

    private static double seconds(String timeUnit) {
        return switch (timeUnit) {
            case "s" -> 1;
            case "ms" -> 1e-3;
            case "us" -> 1e-6;
            case "ns" -> 1e-9;
            case "min" -> 60;
            default -> Double.NaN;
        };
    }
}
