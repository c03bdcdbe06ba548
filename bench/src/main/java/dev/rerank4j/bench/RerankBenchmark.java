package dev.rerank4j.bench;

import dev.rerank4j.Reranker;
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

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * End to end: {@code Reranker.score} of the standard workload (a 12-token query and 100 documents of
 * 20–256 tokens, seed 42) on all-MiniLM-L6-v2. One op = one call = 100 pairs, so pairs/s = 100 × ops/s.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx4g"})
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 3, time = 5)
public class RerankBenchmark {
    @Param({"2"})
    public int threads;

    private Reranker reranker;
    private String query;
    private List<String> docs;

    @Setup
    public void setUp() throws Exception {
        Path modelDir = Models.rerank4jModel(Models.weightsDir());
        Workload workload = Workload.standard(TokenizerJson.load(modelDir.resolve("tokenizer.json")));
        query = workload.query();
        docs = workload.docs();
        reranker = Reranker.load(modelDir, BenchModel.MINILM.options(threads));
    }

    @TearDown
    public void tearDown() {
        reranker.close();
    }

    @Benchmark
    public float[] score() {
        return reranker.score(query, docs);
    }
}
