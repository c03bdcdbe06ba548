package dev.rerank4j.tokenize;

import java.nio.file.Path;

/** PLACEHOLDER, replaced by branch tokenizer. */
public final class TokenizerJson {
    private TokenizerJson() {}

    public static Tokenizer load(Path file) {
        throw new UnsupportedOperationException("tokenizer not merged yet");
    }
}
