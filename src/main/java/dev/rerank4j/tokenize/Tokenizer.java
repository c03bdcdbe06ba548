package dev.rerank4j.tokenize;

/**
 * Text to token ids, exactly as the Hugging Face tokenizer described by the model's tokenizer.json.
 * Implementations are immutable and safe to share between threads.
 */
public interface Tokenizer {
    /** One text with the single-sequence template (e.g. {@code [CLS] a [SEP]}), truncated to {@code maxLength} tokens. */
    Encoding encode(String text, int maxLength);

    /**
     * A pair with the pair template (e.g. {@code [CLS] a [SEP] b [SEP]}), truncated to {@code maxLength}
     * tokens as HF's {@code longest_first} does it: the longer side is cut first, down to the shorter
     * side's length if need be, then both share what is left (tokenizers/src/utils/truncation.rs).
     */
    Encoding encodePair(String first, String second, int maxLength);

    /**
     * A pair with the pair template, truncated to {@code maxLength} tokens the way {@code truncation} says:
     * {@link PairTruncation#LONGEST_FIRST} is {@link #encodePair(String, String, int)};
     * {@link PairTruncation#FIRST_CAPPED_THEN_SECOND} is how FlagEmbedding feeds the bge-reranker models
     * (query at most three quarters of {@code maxLength}, the passage gets the rest).
     */
    Encoding encodePair(String first, String second, int maxLength, PairTruncation truncation);

    /** The special tokens the template adds to every input, e.g. 3 for BERT's pair {@code [CLS] a [SEP] b [SEP]}. */
    int specialTokens(boolean pair);

    /** The number of ids in the vocabulary (the largest id + 1). */
    int vocabSize();

    /**
     * The id of one token exactly as written in the vocabulary or the added tokens (e.g. {@code "[unused0]"}),
     * or -1 if there is none. Not normalized and not split: this is a lookup, not an encoding.
     */
    int tokenId(String token);
}
