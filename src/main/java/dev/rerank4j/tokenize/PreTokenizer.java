package dev.rerank4j.tokenize;

import java.util.ArrayList;
import java.util.List;

/**
 * The pre_tokenizer stage of tokenizer.json: normalized text to words the model tokenizes one by one.
 * A new type is one more small class and one case in {@link TokenizerJson}.
 */
interface PreTokenizer {
    /** Appends the words of {@code text} to {@code out}, in order. */
    void split(String text, List<String> out);

    /**
     * As {@link #split(String, List)}, knowing whether {@code text} begins at offset 0 of the caller's input
     * (HF's {@code offsets_original().0 == 0}); only {@code Metaspace} with {@code prepend_scheme: first} cares.
     */
    default void split(String text, boolean atStart, List<String> out) {
        split(text, out);
    }

    /** No pre-tokenizer: the whole text is one word (if not empty). */
    PreTokenizer NONE = (text, out) -> {
        if (!text.isEmpty()) {
            out.add(text);
        }
    };

    /** HF {@code WhitespaceSplit}: words between runs of Unicode White_Space, the spaces dropped. */
    PreTokenizer WHITESPACE_SPLIT = (text, out) -> {
        int n = text.length();
        int start = -1;
        for (int i = 0; i < n; ) {
            int cp = text.codePointAt(i);
            boolean space = UnicodeProps.isWhitespace(cp);
            if (space && start >= 0) {
                out.add(text.substring(start, i));
                start = -1;
            } else if (!space && start < 0) {
                start = i;
            }
            i += Character.charCount(cp);
        }
        if (start >= 0) {
            out.add(text.substring(start));
        }
    };

    /**
     * HF {@code Sequence}: each pre-tokenizer on every word of the one before. A word counts as being at the
     * input's start if it is the first word and a prefix of the text it came from.
     */
    static PreTokenizer sequence(List<PreTokenizer> steps) {
        PreTokenizer[] all = steps.toArray(PreTokenizer[]::new);
        return new PreTokenizer() {
            @Override
            public void split(String text, List<String> out) {
                split(text, true, out);
            }

            @Override
            public void split(String text, boolean atStart, List<String> out) {
                List<String> words = new ArrayList<>();
                words.add(text);
                boolean firstAtStart = atStart;
                for (PreTokenizer step : all) {
                    List<String> next = new ArrayList<>();
                    for (int w = 0; w < words.size(); w++) {
                        step.split(words.get(w), w == 0 && firstAtStart, next);
                    }
                    firstAtStart = firstAtStart && !next.isEmpty() && !words.isEmpty()
                            && words.getFirst().startsWith(next.getFirst());
                    words = next;
                }
                for (String w : words) {
                    if (!w.isEmpty()) {
                        out.add(w);
                    }
                }
            }
        };
    }
}
