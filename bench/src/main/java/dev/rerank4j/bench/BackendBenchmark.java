package dev.rerank4j.bench;

import dev.rerank4j.Options;
import dev.rerank4j.Reranker;
import dev.rerank4j.backend.Activation;
import dev.rerank4j.backend.Backend;
import dev.rerank4j.backend.Backends;
import dev.rerank4j.backend.LinearWeights;
import dev.rerank4j.backend.cuda.CudaProbe;
import dev.rerank4j.io.DType;
import dev.rerank4j.io.Tensor;
import dev.rerank4j.tokenize.TokenizerJson;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * CPU against CUDA on the same calls ({@code bench/run-backends}, or {@code bench/run-jmh BackendBenchmark}):
 * <ul>
 *   <li>{@code score}: {@code Reranker.score} of workload (a) (12-token query, 100 documents of 20–256 tokens,
 *       seed 42), batches of 32, on all-MiniLM-L6-v2 ({@code -p model=minilm}, the default) or on the
 *       bge-reranker-base-shaped model of tools/make_full_size.py ({@code -p model=bge}); one op = 100 pairs.</li>
 *   <li>{@code linear}: one {@code Backend.linear} of M = 2048 rows through bge-base's FFN up-projection
 *       (K = 768 → N = 3072, GELU), weights F32 or BF16; one op = 2·M·K·N = 9.66 GFLOP. On CUDA this includes
 *       copying x to the device and y back, as every call does today.</li>
 * </ul>
 * Where CUDA cannot run, {@link #main} leaves its runs out and prints why; through plain JMH instead, the CUDA
 * runs fail in their setup with that reason and the CPU runs still complete.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx4g"})
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 3, time = 5)
public class BackendBenchmark {
    public static final int M = 2048, K = 768, N = 3072;
    public static final double LINEAR_FLOP = 2.0 * M * K * N;

    /** What both calls share: the backend and the CPU's threads. */
    @State(Scope.Benchmark)
    public static class Settings {
        @Param({"CPU", "CUDA"})
        public String backend;

        @Param({"2"})
        public int threads;

        Options.BackendChoice choice() {
            return Options.BackendChoice.named(backend);
        }

        @Setup
        public void setUp() {
            if (choice() == Options.BackendChoice.CUDA) {
                CudaProbe.Result probe = CudaProbe.probe();
                if (!probe.usable()) throw new IllegalStateException("CUDA skipped: " + probe.description());
            }
        }
    }

    /** A model of {@link BenchModel} (its files as the side-by-side harness finds them) and workload (a). */
    @State(Scope.Benchmark)
    public static class Pipeline {
        /** minilm, minilm-ce or bge (weights/bge-reranker-base-random; see BenchModel for how each is made). */
        @Param({"minilm"})
        public String model;

        Reranker reranker;
        String query;
        List<String> docs;

        @Setup
        public void setUp(Settings settings) throws Exception {
            BenchModel m = BenchModel.of(model);
            Path modelDir = m.locate(Models.weightsDir(), null, false).dir();
            Workload workload = Workload.generate(TokenizerJson.load(modelDir.resolve("tokenizer.json")), Workload.Spec.A,
                    Workload.DEFAULT_SEED, m.minWords);
            query = workload.query();
            docs = workload.docs();
            reranker = Reranker.load(modelDir, m.options(settings.threads).withBackend(settings.choice()));
        }

        @TearDown
        public void tearDown() {
            if (reranker != null) reranker.close();
        }
    }

    /** One linear layer at bge-base's FFN shape, random weights (seed 42). */
    @State(Scope.Benchmark)
    public static class Kernel {
        /** The weights' precision: the CPU widens BF16 to F32 once at load, CUDA runs it on tensor cores. */
        @Param({"F32", "BF16"})
        public String weights;

        Arena arena;
        Backend backend;
        LinearWeights linear;
        float[] x, y;

        @Setup
        public void setUp(Settings settings) {
            SplittableRandom random = new SplittableRandom(42);
            DType dtype = DType.valueOf(weights);
            arena = Arena.ofShared();
            MemorySegment w = arena.allocate((long) N * K * dtype.byteSize(), 64);
            for (long i = 0; i < (long) N * K; i++) {
                float v = (float) (random.nextDouble() - 0.5) * 0.1f;
                if (dtype == DType.F32) w.setAtIndex(ValueLayout.JAVA_FLOAT, i, v);
                else w.setAtIndex(ValueLayout.JAVA_SHORT, i, (short) (Float.floatToRawIntBits(v) >>> 16));
            }
            MemorySegment b = arena.allocate((long) N * Float.BYTES, 64);
            for (long i = 0; i < N; i++) b.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (random.nextDouble() - 0.5));
            backend = Backends.select(settings.choice(), settings.threads).backend();
            linear = backend.prepareLinear(new Tensor("weight", dtype, new long[]{N, K}, w),
                    new Tensor("bias", DType.F32, new long[]{N}, b));
            x = new float[M * K];
            for (int i = 0; i < x.length; i++) x[i] = (float) (random.nextDouble() * 2 - 1);
            y = new float[M * N];
        }

        @TearDown
        public void tearDown() {
            if (backend != null) backend.close();
            if (arena != null) arena.close();
        }
    }

    @Benchmark
    public float[] score(Pipeline p) {
        return p.reranker.score(p.query, p.docs);
    }

    @Benchmark
    public float[] linear(Kernel k) {
        k.backend.linear(k.x, M, k.linear, k.y, Activation.GELU);
        return k.y;
    }

    /**
     * Runs this benchmark on the backends this machine has (any JMH option works, e.g. {@code -wi 1 -i 3}) and
     * prints pairs/s, GFLOP/s and the CUDA / CPU ratio of each.
     */
    public static void main(String[] args) throws Exception {
        CudaProbe.Result probe = CudaProbe.probe();
        String[] backends = probe.usable() ? new String[] {"CPU", "CUDA"} : new String[] {"CPU"};
        System.out.println(probe.usable() ? "CUDA: " + probe.description() : "CUDA: skipped, " + probe.description());
        var options = new OptionsBuilder().parent(new CommandLineOptions(args))
                .include(BackendBenchmark.class.getName()).param("backend", backends).build();
        Collection<RunResult> results = new Runner(options).run();

        System.out.println();
        System.out.printf("%-8s %-8s %-9s %12s %12s  %s%n", "call", "backend", "input", "ops/s", "± (99.9%)", "derived");
        for (RunResult r : results) {
            String call = r.getParams().getBenchmark().substring(r.getParams().getBenchmark().lastIndexOf('.') + 1);
            double ops = r.getPrimaryResult().getScore(), err = r.getPrimaryResult().getScoreError();
            String derived = call.equals("score") ? String.format("%.1f pairs/s", ops * Workload.Spec.A.docs)
                    : String.format("%.1f GFLOP/s", ops * LINEAR_FLOP / 1e9);
            String ratio = ratio(results, r);
            String input = call.equals("score") ? r.getParams().getParam("model") : r.getParams().getParam("weights");
            System.out.printf("%-8s %-8s %-9s %12.3f %12.3f  %s%s%n", call, r.getParams().getParam("backend"),
                    input, ops, Double.isNaN(err) ? 0 : err, derived, ratio);
        }
    }

    /** For a CUDA result, "  (N.N× CPU)" against the CPU result of the same call and weights. */
    private static String ratio(Collection<RunResult> results, RunResult cuda) {
        if (!"CUDA".equals(cuda.getParams().getParam("backend"))) return "";
        for (RunResult r : results) {
            if (r.getParams().getBenchmark().equals(cuda.getParams().getBenchmark())
                    && "CPU".equals(r.getParams().getParam("backend"))
                    && java.util.Objects.equals(r.getParams().getParam("weights"), cuda.getParams().getParam("weights"))
                    && java.util.Objects.equals(r.getParams().getParam("model"), cuda.getParams().getParam("model"))) {
                return String.format("  (%.1f× CPU)", cuda.getPrimaryResult().getScore() / r.getPrimaryResult().getScore());
            }
        }
        return "";
    }
}
