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
     * tokens with the {@code longest_first} strategy: one token at a time from the longer sequence.
     */
    Encoding encodePair(String first, String second, int maxLength);

    /** The number of ids in the vocabulary (the largest id + 1). */
    int vocabSize();

    /**
     * The id of one token exactly as written in the vocabulary or the added tokens (e.g. {@code "[unused0]"}),
     * or -1 if there is none. Not normalized and not split: this is a lookup, not an encoding.
     */
    default int tokenId(String token) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " does not expose token ids");
    }
}
