package dev.rerank4j.tokenize;

import java.util.List;

/**
 * HF {@code Metaspace} (tokenizers/src/pre_tokenizers/metaspace.rs): every space becomes the replacement
 * ({@code ▁}); the replacement is prepended unless the text already starts with it ({@code always}), only
 * for the text at the input's start ({@code first}) or never; with {@code split}, the text is cut before every
 * replacement character (HF's {@code MergedWithNext}), so each word but maybe the first starts with {@code ▁}.
 */
final class MetaspacePreTokenizer implements PreTokenizer {
    enum PrependScheme { ALWAYS, FIRST, NEVER }

    private final char replacement;
    private final PrependScheme prepend;
    private final boolean split;

    MetaspacePreTokenizer(char replacement, PrependScheme prepend, boolean split) {
        this.replacement = replacement;
        this.prepend = prepend;
        this.split = split;
    }

    @Override
    public void split(String text, List<String> out) {
        split(text, true, out);
    }

    @Override
    public void split(String text, boolean atStart, List<String> out) {
        if (text.isEmpty()) {
            return;
        }
        String replaced = text.replace(' ', replacement);
        boolean add = switch (prepend) {
            case ALWAYS -> true;
            case FIRST -> atStart;
            case NEVER -> false;
        };
        if (add && replaced.charAt(0) != replacement) {
            replaced = replacement + replaced;
        }
        if (!split) {
            out.add(replaced);
            return;
        }
        int start = 0;
        for (int i = 1; i < replaced.length(); i++) {
            if (replaced.charAt(i) == replacement) {
                out.add(replaced.substring(start, i));
                start = i;
            }
        }
        out.add(replaced.substring(start));
    }
}
