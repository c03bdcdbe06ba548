package dev.rerank4j.bench;

import dev.rerank4j.backend.DocumentLayout;
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

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * ColBERT MaxSim on the CPU backend: one 32-token query against 1,000 documents × 180 tokens × 128 dims
 * (ColBERTv2's shape; 92 MB of F32 document vectors). One op = one call = 2·32·180·128·1000 = 1.47 GFLOP
 * and 92 MB read, so GFLOP/s = 1.47 × ops/s and GB/s = 0.092 × ops/s ({@link JmhReport} prints both).
 *
 * <p>{@code source}: {@code array}, the vectors in a float[] ({@code Backend.maxSim(float[] …)}); {@code f32} and
 * {@code f16}, in native memory as DocumentEmbeddings keeps them (encodeDocuments, or a mapped version 2 file), read
 * through {@code Backend.maxSim(float[], int, MemorySegment, …)}. Each source runs in a JVM of its own.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx4g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class MaxSimBenchmark {
    public static final int QUERY_TOKENS = 32, DOCS = 1000, DOC_TOKENS = 180, DIM = 128;
    public static final double FLOP = 2.0 * QUERY_TOKENS * DOC_TOKENS * DIM * DOCS;
    public static final double BYTES = 4.0 * DOCS * DOC_TOKENS * DIM;

    @Param({"2"})
    public int threads;

    @Param({"array", "f32", "f16"})
    public String source;

    private CpuBackend backend;
    private float[] query;
    private float[] docs;
    private MemorySegment segment;
    private int[] offsets;
    private long[] longOffsets;
    private int[] all;
    private float[] scores;

    @Setup
    public void setUp() {
        SplittableRandom random = new SplittableRandom(42);
        query = new float[QUERY_TOKENS * DIM];
        for (int i = 0; i < query.length; i++) query[i] = (float) (random.nextDouble() - 0.5) * 0.2f;
        docs = new float[DOCS * DOC_TOKENS * DIM];
        for (int i = 0; i < docs.length; i++) docs[i] = (float) (random.nextDouble() - 0.5) * 0.2f;
        offsets = new int[DOCS + 1];
        for (int k = 0; k < DOCS; k++) offsets[k + 1] = offsets[k] + DOC_TOKENS;
        longOffsets = new long[DOCS + 1];
        for (int k = 0; k <= DOCS; k++) longOffsets[k] = offsets[k];
        all = java.util.stream.IntStream.range(0, DOCS).toArray();
        DocumentLayout.interleave(docs, offsets, DIM);
        boolean half = source.equals("f16");
        if (!source.equals("array")) {
            segment = Arena.ofAuto().allocate((half ? 2L : 4L) * docs.length, 64);
            for (int i = 0; i < docs.length; i++) {
                if (half) segment.setAtIndex(DocumentLayout.F16, i, Float.floatToFloat16(docs[i]));
                else segment.setAtIndex(DocumentLayout.F32, i, docs[i]);
            }
        }
        scores = new float[DOCS];
        backend = new CpuBackend(threads);
    }

    @TearDown
    public void tearDown() {
        backend.close();
    }

    @Benchmark
    public float[] maxSim() {
        if (segment == null) backend.maxSim(query, QUERY_TOKENS, docs, offsets, all, DIM, scores);
        else backend.maxSim(query, QUERY_TOKENS, segment, source.equals("f16"), longOffsets, all, DIM, scores);
        return scores;
    }
}
