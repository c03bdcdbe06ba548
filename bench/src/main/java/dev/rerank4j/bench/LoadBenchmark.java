package dev.rerank4j.bench;

import dev.rerank4j.Options;
import dev.rerank4j.Reranker;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * {@code Reranker.load} of all-MiniLM-L6-v2 after JIT warm-up: open and validate the safetensors file, mmap it,
 * read config and tokenizer, pack every weight into the GEMM's panels; then close. Average ms per load.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx4g"})
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
public class LoadBenchmark {
    private Path modelDir;

    @Setup
    public void setUp() throws Exception {
        modelDir = Models.rerank4jModel(Models.weightsDir());
    }

    @Benchmark
    public int load() {
        try (Reranker reranker = Reranker.load(modelDir, Options.defaults().withThreads(2))) {
            return reranker.maxLength();
        }
    }
}
