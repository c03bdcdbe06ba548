package dev.rerank4j.tokenize;

/**
 * HF {@code longest_first} truncation (right side, stride 0), on the sequences before the template's
 * special tokens are added. The result equals removing one token at a time from the longer sequence;
 * when both end up cut, the one that was longer (or the second, on a tie) keeps the odd token.
 */
final class Truncation {
    private Truncation() {
    }

    /** The lengths to keep of a pair of sequences of lengths {@code n1}, {@code n2} within {@code budget}. */
    static int[] longestFirst(int n1, int n2, int budget) {
        if (n1 + n2 <= budget) {
            return new int[] {n1, n2};
        }
        boolean swap = n1 > n2;
        int shorter = swap ? n2 : n1;
        int longer;
        if (shorter > budget) {
            longer = shorter;
        } else {
            longer = Math.max(shorter, budget - shorter);
        }
        if (shorter + longer > budget) {
            shorter = budget / 2;
            longer = shorter + budget % 2;
        }
        return swap ? new int[] {longer, shorter} : new int[] {shorter, longer};
    }
}
