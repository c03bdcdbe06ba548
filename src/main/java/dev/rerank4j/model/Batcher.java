package dev.rerank4j.model;

import dev.rerank4j.tokenize.Encoding;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Splits encodings into ragged batches of similar lengths (sorted longest first) and remembers
 * where each sequence came from, so results go back to the caller's order.
 */
final class Batcher {
    /** Bounds activation memory per call: ~8k tokens is past the point where larger GEMMs run faster. */
    static final int MAX_TOKENS_PER_BATCH = 8192;

    /** One batch and, for each of its sequences, the index of the encoding it came from. */
    record Slice(RaggedBatch batch, int[] origins) {}

    private Batcher() {}

    static List<Slice> split(List<Encoding> encodings, int maxSequences) {
        if (maxSequences < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + maxSequences);
        }
        int[] order = IntStream.range(0, encodings.size()).boxed()
                .sorted(Comparator.comparingInt((Integer i) -> encodings.get(i).length()).reversed())
                .mapToInt(Integer::intValue).toArray();
        List<Slice> slices = new ArrayList<>();
        int from = 0;
        while (from < order.length) {
            int to = from;
            int tokens = 0;
            while (to < order.length && to - from < maxSequences
                    && (to == from || tokens + encodings.get(order[to]).length() <= MAX_TOKENS_PER_BATCH)) {
                tokens += encodings.get(order[to]).length();
                to++;
            }
            int[] origins = java.util.Arrays.copyOfRange(order, from, to);
            List<Encoding> members = new ArrayList<>(origins.length);
            for (int i : origins) members.add(encodings.get(i));
            slices.add(new Slice(RaggedBatch.of(members), origins));
            from = to;
        }
        return slices;
    }

    static int maxTokens(List<Slice> slices) {
        return slices.stream().mapToInt(s -> s.batch().tokens()).max().orElse(0);
    }
}
