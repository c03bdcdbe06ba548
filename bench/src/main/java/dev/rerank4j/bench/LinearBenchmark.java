package dev.rerank4j.bench;

import dev.rerank4j.backend.Activation;
import dev.rerank4j.backend.LinearWeights;
import dev.rerank4j.backend.cpu.CpuBackend;
import dev.rerank4j.io.DType;
import dev.rerank4j.io.Tensor;
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

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * {@code Backend.linear} on the CPU backend: {@code y[M, N] = x[M, K] · Wᵀ + b} with M = 2048 tokens and
 * the (K, N) of MiniLM's layers: (384, 1152) fused QKV, (384, 1536) FFN up, (1536, 384) FFN down.
 * One op = one linear call = 2·M·K·N FLOPs, so GFLOP/s = ops/s × 2·M·K·N / 1e9
 * ({@link JmhReport} prints it).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx4g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class LinearBenchmark {
    public static final int M = 2048;

    /** K×N: input features × output features. */
    @Param({"384x1152", "384x1536", "1536x384"})
    public String kxn;

    @Param({"2"})
    public int threads;

    private Arena arena;
    private CpuBackend backend;
    private LinearWeights weights;
    private float[] x;
    private float[] y;

    public static long flops(String kxn) {
        String[] p = kxn.split("x");
        return 2L * M * Integer.parseInt(p[0]) * Integer.parseInt(p[1]);
    }

    @Setup
    public void setUp() {
        String[] p = kxn.split("x");
        int k = Integer.parseInt(p[0]), n = Integer.parseInt(p[1]);
        SplittableRandom random = new SplittableRandom(42);
        arena = Arena.ofShared();
        MemorySegment w = arena.allocate((long) n * k * Float.BYTES, 64);
        for (long i = 0; i < (long) n * k; i++) w.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (random.nextDouble() - 0.5) * 0.1f);
        MemorySegment b = arena.allocate((long) n * Float.BYTES, 64);
        for (long i = 0; i < n; i++) b.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (random.nextDouble() - 0.5));
        backend = new CpuBackend(threads);
        weights = backend.prepareLinear(new Tensor("weight", DType.F32, new long[]{n, k}, w),
                new Tensor("bias", DType.F32, new long[]{n}, b));
        x = new float[M * k];
        for (int i = 0; i < x.length; i++) x[i] = (float) (random.nextDouble() * 2 - 1);
        y = new float[M * n];
    }

    @TearDown
    public void tearDown() {
        backend.close();
        arena.close();
    }

    @Benchmark
    public float[] linear() {
        backend.linear(x, M, weights, y, Activation.NONE);
        return y;
    }
}
