package dev.rerank4j.bench;

import dev.rerank4j.Options.BackendChoice;
import dev.rerank4j.Reranker;
import dev.rerank4j.backend.cuda.CudaException;
import dev.rerank4j.tokenize.Tokenizer;
import dev.rerank4j.tokenize.TokenizerJson;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * rerank4j vs ONNX Runtime Java (two ways) and, when installed, PyTorch, side by side on the same models and
 * the same token ids, every engine on the same number of threads (see bench/README.md).
 *
 * <p>For each model ({@link BenchModel}) and workload ({@link Workload.Spec}): every engine scores the
 * workload once and its scores are compared with rerank4j's (the harness stops, timing nothing more, if any
 * differs by more than the tolerance); then each engine is warmed up; then the engines run in turn, A, B,
 * C, D, A, B, …, so a burst of load from elsewhere hits all of them, each after an idle pause ({@code --quiet-ms})
 * so that the engine before it has stopped spinning its threads. Timed per run: one complete scoring,
 * strings to scores (tokenization included) for the engines in this JVM, ids to scores for PyTorch.
 *
 * <pre>
 * SideBySide [--models minilm,minilm-ce,bge] [--workloads a,b,c,d] [--engines rerank4j,ort-padded,ort-sorted32,torch]
 *            [--repeats N] [--warmup N] [--seed S] [--threads T] [--tolerance X] [--quiet-ms MS]
 *            [--csv FILE] [--png FILE] [--weights DIR] [--bge DIR] [--python EXE] [--torch-script FILE]
 *            [--backend cpu|cuda] [--torch-device cpu|cuda]
 * </pre>
 * {@code --backend cuda --torch-device cuda --engines rerank4j,torch} compares the two on a GPU (tools/gpu-check):
 * ONNX Runtime is then neither loaded nor needed on the class path.
 */
public final class SideBySide {
    /** Both engines compute in F32 with different summation orders; their scores agree far closer than this. */
    static final double SCORE_TOLERANCE = 1e-4;
    /** Sequences per forward pass for every engine that batches (rerank4j, ORT sorted, PyTorch). */
    static final int BATCH = 32;
    /**
     * Idle time before each timed run. ONNX Runtime's and OpenMP's thread pools (and rerank4j's) keep polling for
     * work after a call; an engine started right after another one shares the cores with those polling threads
     * (measured, minilm-ce (c): rerank4j 18.2 ms alone, 42.7 ms right after ORT). A user runs one engine, so each
     * one is timed after this pause; on the latency workload after the pause and one untimed call of its own,
     * since a call after idle is slower for every engine (minilm-ce (c) after 250 ms idle: rerank4j 18 → 27-29 ms,
     * ORT 20 → 26-27: its threads parked, its weights gone from the shared L3).
     */
    static final int DEFAULT_QUIET_MS = 250;
    /** Calls per engine before timing (the score check included) and timed runs, by cost; see bench/README.md. */
    static final Map<String, int[]> DEFAULT_WARMUP_REPEATS = Map.ofEntries(
            Map.entry("minilm/a", new int[]{3, 7}), Map.entry("minilm/b", new int[]{3, 7}),
            Map.entry("minilm/c", new int[]{20, 50}), Map.entry("minilm/d", new int[]{1, 3}),
            Map.entry("minilm-ce/a", new int[]{3, 7}), Map.entry("minilm-ce/b", new int[]{3, 7}),
            Map.entry("minilm-ce/c", new int[]{20, 50}), Map.entry("minilm-ce/d", new int[]{1, 3}),
            Map.entry("bge/a", new int[]{1, 3}), Map.entry("bge/b", new int[]{1, 3}),
            Map.entry("bge/c", new int[]{5, 15}), Map.entry("bge/d", new int[]{1, 3}));
    static final String USAGE = """
            usage: bench/run-side-by-side [--models minilm,minilm-ce,bge] [--workloads a,b,c,d]
                     [--engines rerank4j,ort-padded,ort-sorted32,torch] [--repeats N] [--warmup N] [--seed S]
                     [--threads T] [--tolerance X] [--quiet-ms MS] [--csv FILE] [--png FILE] [--weights DIR]
                     [--bge DIR] [--python EXE] [--torch-script FILE] [--backend cpu|cuda] [--torch-device cpu|cuda]
            Defaults: every model, every workload except bge (d) (name d in --workloads to run it), every engine
            except ORT's one padded batch on (d) (name ort-padded in --engines to run it), repeats and warm-up
            scaled by cost (bench/README.md), seed 42, 2 threads, tolerance 1e-4, 250 ms idle before each
            timed run (--quiet-ms 0: none), rerank4j and PyTorch on the CPU.""";

    public static void main(String[] args) throws Exception {
        List<BenchModel> models = List.of(BenchModel.values());
        List<Workload.Spec> specs = List.of(Workload.Spec.values());
        boolean specsNamed = false, enginesNamed = false;
        List<String> engineIds = List.of("rerank4j", "ort-padded", "ort-sorted32", "torch");
        Integer repeats = null, warmup = null;
        int threads = 2;
        long seed = Workload.DEFAULT_SEED;
        double tolerance = SCORE_TOLERANCE;
        int quietMs = DEFAULT_QUIET_MS;
        Path csv = Path.of("bench/results/latest.csv"), png = null, weights = null, bgeDir = null;
        Path python = null, script = Path.of("tools/bench_torch.py");
        BackendChoice backend = BackendChoice.CPU;
        String torchDevice = "cpu";
        try {
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (TAKES_A_VALUE.contains(a) && i + 1 == args.length) {
                    throw new IllegalArgumentException(a + " needs a value");
                }
                switch (a) {
                    case "--models" -> models = list(args[++i]).stream().map(BenchModel::of).toList();
                    case "--workloads" -> {
                        specs = list(args[++i]).stream().map(Workload.Spec::of).toList();
                        specsNamed = true;
                    }
                    case "--engines" -> {
                        engineIds = list(args[++i]).stream().map(e -> e.equals(TorchEngine.ID) ? "torch" : e).toList();
                        enginesNamed = true;
                    }
                    case "--repeats" -> repeats = Integer.parseInt(args[++i]);
                    case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                    case "--seed" -> seed = Long.parseLong(args[++i]);
                    case "--threads" -> threads = Integer.parseInt(args[++i]);
                    case "--tolerance" -> tolerance = Double.parseDouble(args[++i]);
                    case "--quiet-ms" -> quietMs = Integer.parseInt(args[++i]);
                    case "--csv" -> csv = Path.of(args[++i]);
                    case "--png" -> png = Path.of(args[++i]);
                    case "--weights" -> weights = Path.of(args[++i]);
                    case "--bge" -> bgeDir = Path.of(args[++i]);
                    case "--python" -> python = Path.of(args[++i]);
                    case "--torch-script" -> script = Path.of(args[++i]);
                    case "--backend" -> backend = BackendChoice.named(args[++i]);
                    case "--torch-device" -> torchDevice = args[++i];
                    case "--help", "-h" -> {
                        System.out.println(USAGE);
                        return;
                    }
                    default -> throw new IllegalArgumentException("unknown option " + a);
                }
            }
            for (String e : engineIds) {
                if (!List.of("rerank4j", "ort-padded", "ort-sorted32", "torch").contains(e)) throw new IllegalArgumentException("unknown engine " + e);
            }
            if (!engineIds.contains("rerank4j")) throw new IllegalArgumentException("--engines must include rerank4j (the reference)");
            if (!List.of("cpu", "cuda").contains(torchDevice)) throw new IllegalArgumentException("--torch-device is cpu or cuda");
            if (quietMs < 0) throw new IllegalArgumentException("--quiet-ms must be ≥ 0");
            if (threads < 1) throw new IllegalArgumentException("--threads must be ≥ 1");
            if (repeats != null && repeats < 1) throw new IllegalArgumentException("--repeats must be ≥ 1");
            if (warmup != null && warmup < 1) throw new IllegalArgumentException("--warmup must be ≥ 1 (the score check is the first warm-up call)");
        } catch (RuntimeException e) {
            System.err.println(e.getMessage() + "\n" + USAGE);
            System.exit(2);
            return;
        }
        if (weights == null) weights = Models.weightsDir();
        if (python == null) python = TorchEngine.defaultPython();
        if (png == null) png = csv.resolveSibling(csv.getFileName().toString().replaceFirst("\\.csv$", "") + ".png");
        if (repeats != null && repeats < 3) System.out.println("NOTE: fewer than 3 timed runs per cell: a smoke test, not a measurement.");

        Options opts = new Options(engineIds, enginesNamed, repeats, warmup, seed, threads, tolerance, quietMs, csv, png, python,
                script, backend, torchDevice);
        System.out.println(machine(opts));
        List<Results.Cell> cells = new ArrayList<>();
        for (BenchModel model : models) {
            List<Workload.Spec> todo = new ArrayList<>();
            for (Workload.Spec spec : specs) {
                if (model == BenchModel.BGE && spec == Workload.Spec.D && !specsNamed) {
                    System.out.println("\nbge (d) is not in the default run (≈ 12 min per round of 3 engines on 2 cores, 4 rounds):"
                            + " run it alone with --models bge --workloads d (≈ 50 min; see bench/README.md)");
                    cells.add(Results.Cell.skipped(model, spec, "not in the default run (--models bge --workloads d)"));
                    continue;
                }
                todo.add(spec);
            }
            if (todo.isEmpty()) continue;
            BenchModel.ModelFiles files;
            try {
                files = model.locate(weights, bgeDir, opts.usesOrt());
            } catch (BenchModel.MissingModelException e) {
                System.out.println("\nSKIPPED " + model.id + " (" + model.label + "): " + e.getMessage());
                for (Workload.Spec spec : todo) cells.add(Results.Cell.skipped(model, spec, e.what));
                continue;
            }
            boolean agreed;
            try {
                agreed = runModel(model, files, todo, opts, cells);
            } catch (CudaException e) { // --backend cuda where no GPU is usable: the message says why, a trace adds nothing
                System.err.println("\nrerank4j cannot run " + model.id + " on CUDA: " + e.getMessage());
                System.exit(2);
                return;
            }
            if (!agreed) {
                write(cells, opts);
                System.exit(1);
            }
        }
        System.out.println("\nSummary (median over the timed runs; ratios run by run, see bench/README.md):\n");
        System.out.print(Results.summary(cells));
        write(cells, opts);
    }

    record Options(List<String> engines, boolean enginesNamed, Integer repeats, Integer warmup, long seed, int threads, double tolerance,
                   int quietMs, Path csv, Path png, Path python, Path script, BackendChoice backend,
                   String torchDevice) {
        /** Whether an ONNX Runtime engine runs: only then are its classes and the model's ONNX file touched. */
        boolean usesOrt() {
            return engines.stream().anyMatch(e -> e.startsWith("ort-"));
        }
    }

    /** Loads the model in every engine, then checks and times each workload; false if the scores disagreed. */
    static boolean runModel(BenchModel model, BenchModel.ModelFiles files, List<Workload.Spec> specs, Options o,
                            List<Results.Cell> cells) throws Exception {
        System.out.printf("%n==== %s (%s)%nrerank4j model: %s%nONNX model:     %s%n", model.id, model.label, files.dir(),
                files.onnx() == null ? "not used" : files.onnx());
        Tokenizer tokenizer = TokenizerJson.load(files.dir().resolve("tokenizer.json"));
        Map<String, String> absent = new LinkedHashMap<>();
        long t0 = System.nanoTime();
        try (Reranker reranker = Reranker.load(files.dir(), model.options(o.threads).withBackend(o.backend));
             OrtEncoder ort = o.usesOrt() ? new OrtEncoder(files.onnx(), model, tokenizer, o.threads) : null) {
            List<Engine> engines = new ArrayList<>();
            engines.add(Engine.inJvm("rerank4j", Results.LABELS.get("rerank4j"), reranker::score));
            for (OrtEncoder.Batching b : OrtEncoder.Batching.values()) {
                if (o.engines.contains(b.id)) engines.add(Engine.inJvm(b.id, b.label, (q, d) -> ort.score(q, d, b)));
                else absent.put(b.id, "not selected");
            }
            System.out.printf("rerank4j%s loaded in %.1f s%n", ort == null ? "" : " and ORT", (System.nanoTime() - t0) / 1e9);
            TorchEngine torch = null;
            if (o.engines.contains("torch")) {
                try {
                    torch = TorchEngine.start(o.python, o.script, model, files.dir(), o.threads, o.torchDevice, Path.of("bench/target"));
                    engines.add(torch);
                    System.out.println("PyTorch: " + torch.versions);
                } catch (TorchEngine.Unavailable e) {
                    absent.put(TorchEngine.ID, e.getMessage());
                    System.out.println("PyTorch column: " + e.getMessage() + "; the run goes on without it");
                }
            } else {
                absent.put(TorchEngine.ID, "not selected");
            }
            try {
                for (Workload.Spec spec : specs) {
                    Results.Cell cell = runCell(model, spec, tokenizer, engines, absent, o);
                    if (cell == null) return false;
                    if (torch != null && torch.failed) absent.put(TorchEngine.ID, "failed");
                    cells.add(cell);
                    write(cells, o);
                }
            } finally {
                if (torch != null) torch.close();
            }
        }
        return true;
    }

    private static final java.util.Set<String> TAKES_A_VALUE = java.util.Set.of("--models", "--workloads", "--engines", "--repeats",
            "--warmup", "--seed", "--threads", "--tolerance", "--quiet-ms", "--csv", "--png", "--weights", "--bge", "--python",
            "--torch-script", "--backend", "--torch-device");

    /** Checks the scores, warms up, times; null if the scores disagreed (nothing timed). */
    static Results.Cell runCell(BenchModel model, Workload.Spec spec, Tokenizer tokenizer, List<Engine> engines,
                                Map<String, String> absentForModel, Options o) throws Exception {
        int[] plan = DEFAULT_WARMUP_REPEATS.get(model.id + "/" + spec.id);
        int warmup = o.warmup != null ? o.warmup : plan[0];
        int plannedRepeats = o.repeats != null ? o.repeats : plan[1];
        Workload w = Workload.generate(tokenizer, spec, o.seed, model.minWords);
        BenchModel.Ids ids = model.tokenize(tokenizer, w.query(), w.docs());
        System.out.printf("%n---- %s (%s)%n", model.id, spec.id);
        System.out.print(w.describe());
        if (model.cross) {
            System.out.printf("query-document pairs: %d tokens in all (mean %.1f, longest %d)%n",
                    ids.tokens(), (double) ids.tokens() / ids.seqs().size(), ids.longest());
        }
        Map<String, String> absent = new LinkedHashMap<>(absentForModel);
        List<Engine> active = new ArrayList<>();
        for (Engine e : engines) {
            if (e instanceof TorchEngine t && t.failed) continue; // dropped earlier: `absent` says so
            if (spec == Workload.Spec.D && e.id().equals(OrtEncoder.Batching.ONE_PADDED_BATCH.id) && !o.enginesNamed) {
                absent.put(e.id(), "not on (d) by default (one 1,000-doc batch: JVM RSS up to 17 GB on MiniLM); name it in --engines");
                continue;
            }
            try {
                e.prepare(w, ids);
                active.add(e);
            } catch (Exception ex) {
                dropOrThrow(e, ex, absent);
            }
        }

        // Correctness first: a benchmark of wrong answers is worthless. This call is also the first warm-up.
        float[] reference = null;
        boolean agree = true;
        for (Engine e : List.copyOf(active)) {
            float[] scores;
            try {
                scores = e.run(w).scores();
            } catch (Exception ex) {
                dropOrThrow(e, ex, absent);
                active.remove(e);
                continue;
            }
            if (reference == null) {
                reference = scores;
                continue;
            }
            double worst = maxAbsDiff(reference, scores);
            agree &= worst <= o.tolerance;
            System.out.printf("scores: max |Δ| rerank4j vs %s = %.2e over %d docs (tolerance %.0e) %s%n",
                    e.label(), worst, scores.length, o.tolerance, worst <= o.tolerance ? "OK" : "FAIL");
        }
        if (!agree) {
            System.out.println("FAIL: the engines disagree; timings would compare different computations. No timing run.");
            return null;
        }
        System.out.printf("tokenization alone: median %.2f ms (in rerank4j's and ORT's times, not in PyTorch's)%n",
                tokenizeMillis(model, tokenizer, w));

        System.out.printf("warm-up: %d call(s) per engine (the score check included), then rounds of one run per engine, the order rotated each round, each run after %d ms idle%n",
                warmup, o.quietMs);
        if (spec.latency) System.out.println("latency: each timed call follows the pause and one untimed call of the same engine");
        for (Engine e : List.copyOf(active)) {
            try {
                for (int i = 1; i < warmup; i++) e.run(w);
            } catch (Exception ex) {
                dropOrThrow(e, ex, absent);
                active.remove(e);
            }
        }
        // the default rounds, made a whole number of rotations, so that each engine runs first and last equally often
        int repeats = o.repeats != null || active.isEmpty() ? plannedRepeats : Math.ceilDiv(plannedRepeats, active.size()) * active.size();
        double load0 = loadAverage();
        Map<String, double[]> seconds = new LinkedHashMap<>();
        for (Engine e : active) seconds.put(e.id(), new double[repeats]);
        double sink = 0;
        for (int r = 0; r < repeats; r++) {
            StringBuilder line = new StringBuilder(String.format("run %d/%d:", r + 1, repeats));
            for (Engine e : inTurn(active, r)) {
                Engine.Timed t;
                try {
                    Thread.sleep(o.quietMs);
                    if (spec.latency) e.run(w); // timed as the next call in a stream of its own, not the first after idle
                    t = e.run(w);
                } catch (Exception ex) {
                    dropOrThrow(e, ex, absent);
                    active.remove(e);
                    seconds.remove(e.id());
                    continue;
                }
                seconds.get(e.id())[r] = t.seconds();
                sink += t.scores()[r % t.scores().length];
                line.append(spec.latency ? String.format(" %s %.2f ms", e.id(), 1e3 * t.seconds())
                        : String.format(" %s %.3f s", e.id(), t.seconds()));
            }
            System.out.println(line);
        }
        double load1 = loadAverage();
        if (Double.isNaN(sink)) System.out.println("(checksum NaN)");
        Results.Cell cell = new Results.Cell(model, spec, null, Results.ordered(seconds), absent, w.docs().size(), load0, load1);
        System.out.print(Results.cellTable(cell));
        return cell;
    }

    /**
     * The engines in the order round {@code round} runs them: rotated by one each round, so that each is first (right
     * after the pause, with the host as the previous round left it) and last equally often, and a load that rises or
     * falls through a round favours no engine.
     */
    static List<Engine> inTurn(List<Engine> engines, int round) {
        List<Engine> order = new ArrayList<>(engines);
        if (!order.isEmpty()) java.util.Collections.rotate(order, -(round % order.size()));
        return order;
    }

    /** A PyTorch failure drops its column for the rest of the model; an engine in this JVM failing stops the run. */
    private static void dropOrThrow(Engine e, Exception ex, Map<String, String> absent) throws Exception {
        if (!(e instanceof TorchEngine)) throw ex;
        System.out.println("PyTorch column dropped: " + ex.getMessage());
        ((TorchEngine) e).failed = true;
        absent.put(e.id(), "failed");
    }

    static void write(List<Results.Cell> cells, Options o) throws IOException {
        Results.writeCsv(o.csv, cells);
        try {
            Chart.write(o.png, cells, machine(o));
            System.out.println("wrote " + o.csv.toAbsolutePath() + " and " + o.png.toAbsolutePath());
        } catch (IOException | LinkageError | InternalError e) {
            // A JRE without java.desktop or fonts (a bare GPU box) still gets the CSV, which holds every figure.
            System.out.println("wrote " + o.csv.toAbsolutePath() + "; no chart (" + e + ")");
        }
    }

    static double maxAbsDiff(float[] a, float[] b) {
        if (a.length != b.length) return Double.POSITIVE_INFINITY;
        double worst = 0;
        for (int i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((double) a[i] - b[i]));
        return Double.isNaN(worst) ? Double.POSITIVE_INFINITY : worst;
    }

    /** Median of 5 tokenizations of the whole workload, after 3 unmeasured ones. */
    static double tokenizeMillis(BenchModel model, Tokenizer tokenizer, Workload w) {
        double[] ms = new double[5];
        for (int r = 0; r < 3 + ms.length; r++) {
            long t0 = System.nanoTime();
            if (model.tokenize(tokenizer, w.query(), w.docs()).tokens() < 0) throw new AssertionError();
            if (r >= 3) ms[r - 3] = (System.nanoTime() - t0) / 1e6;
        }
        return Results.median(ms);
    }

    static double loadAverage() {
        return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    static List<String> list(String csv) {
        return List.of(csv.trim().toLowerCase(java.util.Locale.ROOT).split("\\s*,\\s*"));
    }

    static String machine(Options o) {
        String cpu = "unknown CPU";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse(cpu);
        } catch (IOException ignored) {
            // not Linux: keep "unknown CPU"
        }
        String engines = (o.usesOrt() ? ", ONNX Runtime " + ortVersion() : "")
                + (o.backend == BackendChoice.CPU ? "" : ", rerank4j on " + o.backend)
                + (o.engines.contains("torch") && o.torchDevice.equals("cuda") ? ", PyTorch on cuda" : "");
        return String.format("%s, JDK %s on %s, %d CPUs visible, %d threads per engine%s",
                ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME.withZone(java.time.ZoneOffset.UTC)).replaceFirst("\\.\\d+", ""),
                Runtime.version(), cpu, Runtime.getRuntime().availableProcessors(), o.threads, engines);
    }

    static String ortVersion() {
        Package p = ai.onnxruntime.OrtEnvironment.class.getPackage();
        String v = p == null ? null : p.getImplementationVersion();
        return v == null ? "1.29.0 (from bench/pom.xml)" : v;
    }
}
