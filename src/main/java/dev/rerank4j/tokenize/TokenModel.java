package dev.rerank4j.tokenize;

/**
 * The model stage of tokenizer.json: one pre-tokenized word to ids. A new type (e.g. {@code Unigram}) is
 * one more small class and one case in {@link TokenizerJson}.
 */
interface TokenModel {
    /** Appends the ids of {@code word} (never empty) to {@code out}. */
    void tokenize(String word, IntList out);

    /** The id of a token in the model's vocabulary, or -1. */
    int tokenId(String token);

    /** The largest id + 1. */
    int vocabSize();

    /** The number of tokens in the vocabulary (tokenizers' get_vocab_size), from which added tokens are numbered. */
    default int entries() {
        return vocabSize();
    }
}
