package dev.rerank4j.bench;

import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;

import java.util.Collection;

/**
 * Runs JMH (same command-line options as {@code org.openjdk.jmh.Main}) and adds the derived figures:
 * GFLOP/s for {@link LinearBenchmark} (2·M·K·N × ops/s) and pairs/s for {@link RerankBenchmark} (100 × ops/s).
 */
public final class JmhReport {
    private JmhReport() {}

    public static void main(String[] args) throws Exception {
        Collection<RunResult> results = new Runner(new CommandLineOptions(args)).run();
        System.out.println();
        System.out.printf("%-40s %-22s %12s %12s %s%n", "benchmark", "params", "ops/s", "± (99.9%)", "derived");
        for (RunResult r : results) {
            String bench = r.getParams().getBenchmark();
            String shortName = bench.substring(bench.lastIndexOf('.', bench.lastIndexOf('.') - 1) + 1);
            StringBuilder params = new StringBuilder();
            for (String key : r.getParams().getParamsKeys()) {
                if (!params.isEmpty()) params.append(' ');
                params.append(key).append('=').append(r.getParams().getParam(key));
            }
            double ops = r.getPrimaryResult().getScore();
            double err = r.getPrimaryResult().getScoreError();
            String derived = "";
            if (bench.endsWith("LinearBenchmark.linear")) {
                String kxn = r.getParams().getParam("kxn");
                derived = String.format("%.1f GFLOP/s (M=%d, K×N=%s)", ops * LinearBenchmark.flops(kxn) / 1e9, LinearBenchmark.M, kxn);
            } else if (bench.endsWith("RerankBenchmark.score")) {
                derived = String.format("%.1f pairs/s", ops * Workload.Spec.A.docs);
            } else if (bench.endsWith("MaxSimBenchmark.maxSim")) { // average time in ms per call
                derived = String.format("%.1f GFLOP/s, %.1f GB/s", MaxSimBenchmark.FLOP / (ops / 1e3) / 1e9,
                        MaxSimBenchmark.BYTES / (ops / 1e3) / 1e9);
            }
            System.out.printf("%-40s %-22s %12.3f %12.3f %s%n", shortName, params, ops, Double.isNaN(err) ? 0 : err, derived);
        }
    }
}
