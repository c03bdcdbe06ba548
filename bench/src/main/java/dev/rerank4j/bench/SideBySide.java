package dev.rerank4j.bench;

import dev.rerank4j.Options;
import dev.rerank4j.Reranker;
import dev.rerank4j.tokenize.Tokenizer;
import dev.rerank4j.tokenize.TokenizerJson;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * rerank4j vs ONNX Runtime Java, side by side, on all-MiniLM-L6-v2 (the same model: rerank4j on its
 * converted safetensors, ORT on the original ONNX file) and the same token ids (rerank4j's tokenizer).
 *
 * <p>Timed, per engine and run: one complete scoring of the workload, i.e. from the query and document
 * strings to the 100 cosine scores: tokenization of the query and each document, the forward passes,
 * mean pooling, normalisation and the dot products. Model loading, workload generation and the ONNX
 * session creation are not timed. Each engine is warmed up, then the engines alternate run by run.
 *
 * <pre>
 * SideBySide [--repeats N] [--warmup N] [--seed S] [--threads T] [--csv FILE] [--weights DIR]
 * </pre>
 */
public final class SideBySide {
    /** Both engines compute in F32 with different summation orders; cosine scores agree far closer than this. */
    static final double SCORE_TOLERANCE = 1e-4;
    static final int MAX_LENGTH = 256;
    static final int RERANK4J_BATCH = 32;

    interface Engine {
        String name();

        float[] score(String query, List<String> docs) throws Exception;
    }

    public static void main(String[] args) throws Exception {
        int repeats = 7, warmup = 3, threads = 2;
        long seed = Workload.DEFAULT_SEED;
        Path csv = Path.of("bench/results/latest.csv");
        Path weights = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--repeats" -> repeats = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--seed" -> seed = Long.parseLong(args[++i]);
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--csv" -> csv = Path.of(args[++i]);
                case "--weights" -> weights = Path.of(args[++i]);
                default -> {
                    System.err.println("usage: SideBySide [--repeats N] [--warmup N] [--seed S] [--threads T] [--csv FILE] [--weights DIR]");
                    System.exit(2);
                }
            }
        }
        if (warmup < 3) throw new IllegalArgumentException("--warmup must be ≥ 3");
        if (weights == null) weights = Models.weightsDir();

        System.out.println(machine(threads));
        Path modelDir = Models.rerank4jModel(weights);
        Path onnx = Models.onnxFile(weights);
        System.out.printf("rerank4j model: %s%nONNX model:     %s%n", modelDir, onnx);

        Tokenizer tokenizer = TokenizerJson.load(modelDir.resolve("tokenizer.json"));
        Workload workload = Workload.generate(tokenizer, Workload.Spec.A, seed, 100);
        System.out.print(workload.describe());
        System.out.println("query: " + workload.query());
        String query = workload.query();
        List<String> texts = workload.docs();

        Options options = Options.defaults().withThreads(threads).withBatchSize(RERANK4J_BATCH).withMaxLength(MAX_LENGTH);
        try (Reranker reranker = Reranker.load(modelDir, options);
             OrtBiEncoder ort = new OrtBiEncoder(onnx, tokenizer, MAX_LENGTH, threads)) {
            List<Engine> engines = List.of(
                    engine("rerank4j", reranker::score),
                    engine(OrtBiEncoder.Batching.ONE_PADDED_BATCH.label, (q, d) -> ort.score(q, d, OrtBiEncoder.Batching.ONE_PADDED_BATCH)),
                    engine(OrtBiEncoder.Batching.SORTED_BATCHES_32.label, (q, d) -> ort.score(q, d, OrtBiEncoder.Batching.SORTED_BATCHES_32)));

            // Correctness first: a benchmark of wrong answers is worthless.
            float[][] answers = new float[engines.size()][];
            for (int e = 0; e < engines.size(); e++) answers[e] = engines.get(e).score(query, texts);
            boolean agree = true;
            for (int e = 1; e < engines.size(); e++) {
                double worst = maxAbsDiff(answers[0], answers[e]);
                agree &= worst <= SCORE_TOLERANCE;
                System.out.printf("scores: max |Δ| %s vs %s = %.2e over %d docs (tolerance %.0e) %s%n",
                        engines.get(0).name(), engines.get(e).name(), worst, texts.size(), SCORE_TOLERANCE,
                        worst <= SCORE_TOLERANCE ? "OK" : "FAIL");
            }
            System.out.printf("scores: max |Δ| between the two ORT batchings = %.2e%n", maxAbsDiff(answers[1], answers[2]));
            if (!agree) {
                System.out.println("FAIL: the engines disagree; timings would compare different computations. No timing run.");
                System.exit(1);
            }

            System.out.printf("tokenization alone (query + %d docs, included in every engine's time): median %.1f ms%n",
                    texts.size(), tokenizeMillis(tokenizer, query, texts));

            String name = String.format("minilm-l6-query%d-docs%d-len%d-%d-seed%d", workload.queryLength(), texts.size(),
                    Workload.Spec.A.minTokens, Workload.Spec.A.maxTokens, workload.seed());
            timeAlternating(engines, query, texts, warmup, repeats, csv, name);
        }
    }

    interface Scoring {
        float[] apply(String query, List<String> docs) throws Exception;
    }

    static Engine engine(String name, Scoring scoring) {
        return new Engine() {
            @Override public String name() { return name; }
            @Override public float[] score(String query, List<String> docs) throws Exception { return scoring.apply(query, docs); }
        };
    }

    static double maxAbsDiff(float[] a, float[] b) {
        double worst = 0;
        for (int i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((double) a[i] - b[i]));
        return worst;
    }

    static double tokenizeMillis(Tokenizer tokenizer, String query, List<String> docs) {
        double[] ms = new double[7];
        for (int r = 0; r < 10 + ms.length; r++) {
            long t0 = System.nanoTime();
            int n = tokenizer.encode(query, MAX_LENGTH).length();
            for (String d : docs) n += tokenizer.encode(d, MAX_LENGTH).length();
            if (n < 0) throw new AssertionError();
            if (r >= 10) ms[r - 10] = (System.nanoTime() - t0) / 1e6;
        }
        return median(ms);
    }

    static String runLine(List<Engine> engines, double[][] seconds, int r) {
        StringBuilder sb = new StringBuilder();
        for (int e = 0; e < engines.size(); e++) {
            if (e > 0) sb.append(", ");
            sb.append(String.format("%s %.3f s", engines.get(e).name(), seconds[e][r]));
        }
        return sb.toString();
    }

    static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }

    static void printTable(List<Engine> engines, double[][] seconds, int pairs) {
        int best = -1;
        double bestOrt = 0;
        for (int e = 1; e < engines.size(); e++) {
            double m = pairs / median(seconds[e]);
            if (m > bestOrt) {
                bestOrt = m;
                best = e;
            }
        }
        System.out.println();
        System.out.printf("%-26s %5s %10s %10s %10s %10s %s%n", "engine", "runs", "median s", "pairs/s", "pairs/s", "pairs/s", "");
        System.out.printf("%-26s %5s %10s %10s %10s %10s %s%n", "", "", "", "min", "median", "max", "");
        for (int e = 0; e < engines.size(); e++) {
            double[] s = seconds[e];
            double min = Arrays.stream(s).max().orElseThrow(), max = Arrays.stream(s).min().orElseThrow();
            System.out.printf("%-26s %5d %10.3f %10.1f %10.1f %10.1f %s%n", engines.get(e).name(), s.length, median(s),
                    pairs / min, pairs / median(s), pairs / max, e == best ? "(faster ORT way)" : "");
        }
        double ours = pairs / median(seconds[0]);
        System.out.printf("ratio rerank4j / ORT (%s), median pairs/s: %.2f×%n%n", engines.get(best).name(), ours / bestOrt);
    }

    /**
     * Warms every engine up, then times them in turn (A, B, C, A, B, C, …) for {@code repeats} rounds, so a
     * burst of load from elsewhere hits all of them; prints each round, the table and the load average, and
     * writes every timed run to {@code csv}.
     */
    static void timeAlternating(List<Engine> engines, String query, List<String> texts, int warmup, int repeats,
                                Path csv, String workloadName) throws Exception {
        System.out.printf("warm-up: %d runs per engine ...%n", warmup);
        for (Engine engine : engines) {
            for (int i = 0; i < warmup; i++) engine.score(query, texts);
        }
        double load0 = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        double[][] seconds = new double[engines.size()][repeats];
        double sink = 0;
        for (int r = 0; r < repeats; r++) {
            for (int e = 0; e < engines.size(); e++) {
                long t0 = System.nanoTime();
                float[] s = engines.get(e).score(query, texts);
                seconds[e][r] = (System.nanoTime() - t0) / 1e9;
                sink += s[r % s.length];
            }
            System.out.printf("run %d/%d: %s%n", r + 1, repeats, runLine(engines, seconds, r));
        }
        double load1 = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        printTable(engines, seconds, texts.size());
        System.out.printf("system load average (1 min) before/after the timed runs: %.2f / %.2f on %d CPUs (checksum %.3f)%n",
                load0, load1, Runtime.getRuntime().availableProcessors(), sink);
        writeCsv(csv, engines, seconds, texts.size(), workloadName);
        System.out.println("wrote " + csv.toAbsolutePath());
    }

    static void writeCsv(Path csv, List<Engine> engines, double[][] seconds, int pairs, String workloadName) throws IOException {
        List<String> lines = new ArrayList<>();
        lines.add("engine,workload,run,seconds,pairs_per_s");
        for (int e = 0; e < engines.size(); e++) {
            for (int r = 0; r < seconds[e].length; r++) {
                lines.add(String.format(Locale.ROOT, "%s,%s,%d,%.6f,%.3f", engines.get(e).name(), workloadName, r + 1,
                        seconds[e][r], pairs / seconds[e][r]));
            }
        }
        if (csv.toAbsolutePath().getParent() != null) Files.createDirectories(csv.toAbsolutePath().getParent());
        Files.write(csv, lines);
    }

    static String machine(int threads) {
        String cpu = "unknown CPU";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse(cpu);
        } catch (IOException ignored) {
            // not Linux: keep "unknown CPU"
        }
        return String.format("%s, %s on %s, %d CPUs visible, %d threads per engine, ONNX Runtime %s",
                ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME), Runtime.version(), cpu,
                Runtime.getRuntime().availableProcessors(), threads, ortVersion());
    }

    static String ortVersion() {
        Package p = ai.onnxruntime.OrtEnvironment.class.getPackage();
        String v = p == null ? null : p.getImplementationVersion();
        return v == null ? "1.29.0 (from bench/pom.xml)" : v;
    }
}
