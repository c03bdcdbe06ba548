package dev.rerank4j.bench;

import java.util.List;

/** One way of scoring a workload that the side-by-side harness times. */
interface Engine extends AutoCloseable {
    /** Short name for the CSV and the chart: rerank4j, ort-padded, ort-sorted32, torch-sorted32. */
    String id();

    /** Name for the table. */
    String label();

    /** Called once per workload before any {@link #run}, outside the timing. */
    default void prepare(Workload workload, BenchModel.Ids ids) throws Exception {}

    /** One complete scoring of the workload, and the seconds it took as this engine measures them. */
    Timed run(Workload workload) throws Exception;

    @Override
    default void close() throws Exception {}

    /** @param scores one per document, in the documents' order */
    record Timed(float[] scores, double seconds) {}

    interface Scoring {
        float[] apply(String query, List<String> docs) throws Exception;
    }

    /** An engine in this JVM, timed with {@code System.nanoTime} around one call: strings in, scores out. */
    static Engine inJvm(String id, String label, Scoring scoring) {
        return new Engine() {
            @Override public String id() { return id; }
            @Override public String label() { return label; }
            @Override public Timed run(Workload w) throws Exception {
                long t0 = System.nanoTime();
                float[] scores = scoring.apply(w.query(), w.docs());
                return new Timed(scores, (System.nanoTime() - t0) / 1e9);
            }
        };
    }
}
