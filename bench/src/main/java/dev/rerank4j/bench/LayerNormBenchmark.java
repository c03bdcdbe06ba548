package dev.rerank4j.bench;

import dev.rerank4j.backend.cpu.CpuBackend;
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

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * {@code Backend.addLayerNorm} with a residual on the CPU backend, as after every attention and FFN block:
 * 2,048 rows of MiniLM's width (384) or bge-reranker-base's (768). One op = one call, which reads x and the
 * residual and writes x: 12 bytes per element, so GB/s = ops/s × {@link #bytes} / 1e9 ({@link JmhReport}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx4g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class LayerNormBenchmark {
    public static final int ROWS = 2048;

    @Param({"384", "768"})
    public int dim;

    @Param({"2"})
    public int threads;

    private CpuBackend backend;
    private float[] x, residual, gamma, beta;

    public static double bytes(int dim) {
        return 12.0 * ROWS * dim;
    }

    @Setup
    public void setUp() {
        SplittableRandom random = new SplittableRandom(42);
        x = new float[ROWS * dim];
        residual = new float[ROWS * dim];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (random.nextDouble() - 0.5) * 4;
            residual[i] = (float) (random.nextDouble() - 0.5) * 4;
        }
        gamma = new float[dim];
        beta = new float[dim];
        for (int i = 0; i < dim; i++) {
            gamma[i] = 1f + (float) (random.nextDouble() - 0.5) * 0.1f;
            beta[i] = (float) (random.nextDouble() - 0.5) * 0.1f;
        }
        backend = new CpuBackend(threads);
    }

    @TearDown
    public void tearDown() {
        backend.close();
    }

    /** x stays bounded across calls: LayerNorm's output has unit variance whatever the input was. */
    @Benchmark
    public float[] addLayerNorm() {
        backend.addLayerNorm(x, residual, ROWS, dim, gamma, beta, 1e-12f);
        return x;
    }
}
