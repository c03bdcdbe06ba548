package dev.rerank4j.tokenize;

import java.util.List;

/**
 * The pre_tokenizer stage of tokenizer.json: normalized text to words the model tokenizes one by one.
 * A new type (e.g. {@code Metaspace}) is one more small class and one case in {@link TokenizerJson}.
 */
interface PreTokenizer {
    /** Appends the words of {@code text} to {@code out}, in order. */
    void split(String text, List<String> out);

    /** No pre-tokenizer: the whole text is one word (if not empty). */
    PreTokenizer NONE = (text, out) -> {
        if (!text.isEmpty()) {
            out.add(text);
        }
    };
}
