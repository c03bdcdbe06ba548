package dev.rerank4j.model;

import dev.rerank4j.io.Cancellation;
import dev.rerank4j.tokenize.Encoding;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.stream.IntStream;

/**
 * Splits encodings into ragged batches, of similar lengths (sorted longest first) to run one after another, or
 * of nearly equal work to run side by side on several cores, and remembers where each sequence came from, so
 * results go back to the caller's order.
 */
final class Batcher {
    /** Bounds activation memory per call: ~8k tokens is past the point where larger GEMMs run faster. */
    static final int MAX_TOKENS_PER_BATCH = 8192;
    /**
     * How far past an even split of the work the last lane may end: half of what splitting every kernel across
     * two cores loses against batches side by side (4% on MiniLM-L6, 100 × 128 tokens).
     */
    static final double LANE_IMBALANCE = 0.02;

    /** One batch and, for each of its sequences, the index of the encoding it came from. */
    record Slice(RaggedBatch batch, int[] origins) {}

    private Batcher() {}

    static List<Slice> split(List<Encoding> encodings, int maxSequences) {
        if (maxSequences < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + maxSequences);
        }
        Integer[] order = longestFirst(encodings);
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
            slices.add(slice(encodings, java.util.Arrays.stream(order, from, to).mapToInt(Integer::intValue).toArray()));
            from = to;
        }
        return slices;
    }

    private static Integer[] longestFirst(List<Encoding> encodings) {
        return IntStream.range(0, encodings.size()).boxed()
                .sorted(Comparator.comparingInt((Integer i) -> encodings.get(i).length()).reversed())
                .toArray(Integer[]::new);
    }

    private static Slice slice(List<Encoding> encodings, int[] origins) {
        List<Encoding> members = new ArrayList<>(origins.length);
        for (int i : origins) members.add(encodings.get(i));
        return new Slice(RaggedBatch.of(members), origins);
    }

    /**
     * Batches for {@code lanes} cores that run one whole batch each, side by side (see {@link dev.rerank4j.backend.Backend#lanes}):
     * a multiple of {@code lanes} batches of nearly equal work, most work first, each of at most
     * ⌈maxSequences / lanes⌉ sequences and {@link #MAX_TOKENS_PER_BATCH} / lanes tokens (a longer sequence
     * alone), so that the lanes' activations together take what one batch of {@code maxSequences} did. A sequence
     * of n tokens is n · (width + n) work: width = 2·hidden + intermediate is its share of the products per
     * token, n its attention's. Empty where the work does not split so that the lanes, taking batches in turn
     * as they come free, end within {@link #LANE_IMBALANCE} of each other (three equal sequences on two
     * lanes, one long and a few short ones): then split every kernel across the cores instead.
     */
    static Optional<List<Slice>> sideBySide(List<Encoding> encodings, int maxSequences, int lanes, int width) {
        if (maxSequences < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + maxSequences);
        }
        int n = encodings.size();
        if (lanes < 2 || n < lanes) return Optional.empty();
        int perBatch = Math.ceilDiv(maxSequences, lanes);
        int tokenCap = MAX_TOKENS_PER_BATCH / lanes;
        Integer[] order = longestFirst(encodings);
        long tokens = 0;
        for (Encoding e : encodings) tokens += e.length();
        // sequences longer than the cap make the token count overestimate: no more batches than sequences
        int least = (int) Math.min(n, Math.max(Math.ceilDiv(n, perBatch), Math.ceilDiv(tokens, tokenCap)));
        // batches = rounds · lanes. The token count is a lower bound that sequences packing unevenly under the cap
        // can miss by a fraction of n: the fewest rounds that deal are found in O(log n) deals, not one deal per round
        int fewest = Math.ceilDiv(least, lanes), most = n / lanes;
        List<List<Integer>> dealt = null;
        int failed = fewest - 1, step = 1;
        for (int rounds = fewest; rounds <= most; rounds = Math.min(most, rounds + step), step *= 2) {
            dealt = deal(encodings, order, rounds * lanes, perBatch, tokenCap, width);
            if (dealt != null) break;
            failed = rounds; // some sequence fit no batch under the token cap: more batches
            if (rounds == most) return Optional.empty();
        }
        if (dealt == null) return Optional.empty();
        for (int lo = failed, hi = dealt.size() / lanes; hi - lo > 1; ) {
            int mid = (lo + hi) >>> 1;
            List<List<Integer>> fewer = deal(encodings, order, mid * lanes, perBatch, tokenCap, width);
            if (fewer != null) {
                dealt = fewer;
                hi = mid;
            } else {
                lo = mid;
            }
        }
        if (!balanced(dealt, encodings, lanes, width)) return Optional.empty();
        List<Slice> slices = new ArrayList<>(dealt.size());
        for (List<Integer> members : dealt) slices.add(slice(encodings, members.stream().mapToInt(Integer::intValue).toArray()));
        return Optional.of(slices);
    }

    /**
     * Each sequence, most work first, into the batch with the least work so far that has room for it; the
     * batches then sorted most work first. Null if a sequence finds no room.
     */
    private static List<List<Integer>> deal(List<Encoding> encodings, Integer[] order, int batches, int perBatch, int tokenCap,
                                            int width) {
        List<List<Integer>> members = new ArrayList<>(batches);
        long[] work = new long[batches];
        int[] tokens = new int[batches];
        // batches with room for more sequences, least work first (ties: lowest index, so the deal is reproducible)
        PriorityQueue<Integer> open = new PriorityQueue<>(Comparator.comparingLong((Integer b) -> work[b]).thenComparingInt(b -> b));
        // batches found too full for the sequence at hand, most room first: sequences only get shorter, so each comes
        // back once one fits (each batch waits at most once per sequence it takes, so a deal is O(n log batches))
        PriorityQueue<Integer> waiting = new PriorityQueue<>(Comparator.comparingInt((Integer b) -> tokens[b]));
        for (int b = 0; b < batches; b++) {
            members.add(new ArrayList<>());
            open.add(b);
        }
        for (int k = 0; k < order.length; k++) {
            if (k % 4096 == 4095) Cancellation.stopIfInterrupted(); // a deal of 100,000 sequences takes a while
            int i = order[k];
            int length = encodings.get(i).length();
            while (!waiting.isEmpty() && tokens[waiting.peek()] + length <= tokenCap) open.add(waiting.poll());
            Integer best;
            while ((best = open.poll()) != null && !members.get(best).isEmpty() && tokens[best] + length > tokenCap) waiting.add(best);
            if (best == null) return null;
            members.get(best).add(i);
            work[best] += work(length, width);
            tokens[best] += length;
            if (members.get(best).size() < perBatch) open.add(best);
        }
        members.sort(Comparator.comparingLong((List<Integer> m) -> work(m, encodings, width)).reversed());
        return members;
    }

    /** Whether lanes that each take the next batch as they come free end within {@link #LANE_IMBALANCE} of an even split. */
    private static boolean balanced(List<List<Integer>> batches, List<Encoding> encodings, int lanes, int width) {
        long[] lane = new long[lanes];
        long total = 0;
        for (List<Integer> batch : batches) {
            long w = work(batch, encodings, width);
            int next = 0;
            for (int l = 1; l < lanes; l++) if (lane[l] < lane[next]) next = l;
            lane[next] += w;
            total += w;
        }
        long last = java.util.Arrays.stream(lane).max().orElse(0);
        return last <= (1 + LANE_IMBALANCE) * total / lanes;
    }

    private static long work(List<Integer> batch, List<Encoding> encodings, int width) {
        long w = 0;
        for (int i : batch) w += work(encodings.get(i).length(), width);
        return w;
    }

    private static long work(int length, int width) {
        return (long) length * (width + length);
    }

    static int maxTokens(List<Slice> slices) {
        return slices.stream().mapToInt(s -> s.batch().tokens()).max().orElse(0);
    }
}
