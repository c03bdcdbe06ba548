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
 * {@code Backend.attention} on the CPU backend over a ragged batch of 32 sequences × 128 tokens (4,096
 * tokens, one batch of the rerank workload's size) with MiniLM's heads (12 × 32) or bge-reranker-base's
 * (12 × 64). One op = one call = 4·L²·heads·headDim FLOPs per sequence (QKᵀ and PV), so
 * GFLOP/s = ops/s × {@link #flops} / 1e9 ({@link JmhReport} prints it). Softmax is not counted.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx4g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class AttentionBenchmark {
    public static final int SEQUENCES = 32, LENGTH = 128;

    /** heads × head dim. */
    @Param({"12x32", "12x64"})
    public String shape;

    @Param({"2"})
    public int threads;

    private CpuBackend backend;
    private float[] qkv;
    private float[] out;
    private int[] starts;
    private int heads, headDim;

    public static double flops(String shape) {
        String[] p = shape.split("x");
        return 4.0 * SEQUENCES * LENGTH * LENGTH * Integer.parseInt(p[0]) * Integer.parseInt(p[1]);
    }

    @Setup
    public void setUp() {
        String[] p = shape.split("x");
        heads = Integer.parseInt(p[0]);
        headDim = Integer.parseInt(p[1]);
        starts = new int[SEQUENCES + 1];
        for (int b = 0; b < SEQUENCES; b++) starts[b + 1] = starts[b] + LENGTH;
        SplittableRandom random = new SplittableRandom(42);
        qkv = new float[SEQUENCES * LENGTH * 3 * heads * headDim];
        for (int i = 0; i < qkv.length; i++) qkv[i] = (float) (random.nextDouble() - 0.5) * 2;
        out = new float[SEQUENCES * LENGTH * heads * headDim];
        backend = new CpuBackend(threads);
    }

    @TearDown
    public void tearDown() {
        backend.close();
    }

    @Benchmark
    public float[] attention() {
        backend.attention(qkv, starts, heads, headDim, out);
        return out;
    }
}
