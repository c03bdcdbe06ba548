package dev.rerank4j.bench;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The machine's F32 FMA peak as Java reaches it: 12 independent FMA chains on the widest vectors, no loads,
 * on 2 JMH threads (one per core here). One op = {@link #ITERATIONS} × 12 FMAs per thread; JmhReport turns the
 * summed throughput into GFLOP/s (= ops/s × ITERATIONS × 12 × 2 × lanes / 1e9). The GEMM's percentage is
 * against this figure.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Threads(2)
public class FmaPeakBenchmark {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    public static final int ITERATIONS = 100_000;
    public static final int LANES = S.length();

    @Param({"1.0"})
    public float seed;

    @Benchmark
    public float fma() {
        FloatVector a = FloatVector.broadcast(S, 0.999f), b = FloatVector.broadcast(S, 1e-4f);
        FloatVector c0 = FloatVector.broadcast(S, seed), c1 = c0.add(1), c2 = c0.add(2), c3 = c0.add(3);
        FloatVector c4 = c0.add(4), c5 = c0.add(5), c6 = c0.add(6), c7 = c0.add(7);
        FloatVector c8 = c0.add(8), c9 = c0.add(9), c10 = c0.add(10), c11 = c0.add(11);
        for (int i = 0; i < ITERATIONS; i++) {
            c0 = a.fma(b, c0); c1 = a.fma(b, c1); c2 = a.fma(b, c2); c3 = a.fma(b, c3);
            c4 = a.fma(b, c4); c5 = a.fma(b, c5); c6 = a.fma(b, c6); c7 = a.fma(b, c7);
            c8 = a.fma(b, c8); c9 = a.fma(b, c9); c10 = a.fma(b, c10); c11 = a.fma(b, c11);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11)
                .reduceLanes(VectorOperators.ADD);
    }
}
