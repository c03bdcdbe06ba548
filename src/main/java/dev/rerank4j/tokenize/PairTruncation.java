package dev.rerank4j.tokenize;

/**
 * How {@link Tokenizer#encodePair(String, String, int, PairTruncation)} fits a pair into the maximum length.
 * Both cut tokens from the right and count the template's special tokens against the maximum.
 */
public enum PairTruncation {
    /**
     * HF tokenizers' {@code longest_first} (what sentence-transformers' {@code CrossEncoder} uses): the longer
     * side is cut first, down to the shorter side's length if need be, then both share what is left.
     */
    LONGEST_FIRST,

    /**
     * FlagEmbedding's reranker ({@code inference/reranker/encoder_only/base.py}, {@code compute_score}) for the
     * BAAI bge-reranker models: the first text (the query) is cut to {@code maxLength * 3 / 4} tokens, the
     * second (the passage) to {@code maxLength}, then only the second is cut further until the pair with its
     * special tokens fits ({@code prepare_for_model(..., truncation='only_second')}). A long query therefore
     * keeps its first three quarters and never eats into the passage beyond that. One deviation, only where
     * {@code maxLength * 3 / 4} plus the special tokens exceeds {@code maxLength} (below 16 for XLM-R's 4
     * specials): the query is cut further so that the result never exceeds {@code maxLength}, where
     * transformers would return a longer sequence.
     */
    FIRST_CAPPED_THEN_SECOND;

    /**
     * Whether {@link #keep} needs the exact lengths of two sequences that both exceed the budget: longest_first gives
     * an odd budget's odd token to the longer of them. Otherwise any length past the budget keeps alike, so a long
     * text need not be tokenized past its first budget + 1 ids.
     */
    boolean needsLengthsPastBudget(int budget) {
        return this == LONGEST_FIRST && budget % 2 == 1;
    }

    /** The lengths to keep of a pair of lengths {@code n1}, {@code n2} with {@code budget} = maxLength - specials. */
    int[] keep(int n1, int n2, int maxLength, int budget) {
        return switch (this) {
            case LONGEST_FIRST -> Truncation.longestFirst(n1, n2, budget);
            case FIRST_CAPPED_THEN_SECOND -> {
                int first = (int) Math.min(Math.min(n1, (long) maxLength * 3 / 4), budget);
                int second = Math.min(Math.min(n2, maxLength), budget - first);
                yield new int[] {first, second};
            }
        };
    }
}
