package dev.rerank4j.tokenize;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The HF tokenizers pipeline for one sequence: split out added tokens on the raw text, normalize the rest,
 * split out normalized added tokens, pre-tokenize, run the model; then truncate and apply the template.
 */
final class PipelineTokenizer implements Tokenizer {
    private final AddedTokens rawAdded;
    private final AddedTokens normalizedAdded;
    private final Map<String, Integer> addedIds;
    private final Normalizer normalizer;
    private final PreTokenizer preTokenizer;
    private final TokenModel model;
    private final TemplateProcessor template;

    PipelineTokenizer(AddedTokens rawAdded, AddedTokens normalizedAdded, Map<String, Integer> addedIds,
                      Normalizer normalizer, PreTokenizer preTokenizer, TokenModel model, TemplateProcessor template) {
        this.rawAdded = rawAdded;
        this.normalizedAdded = normalizedAdded;
        this.addedIds = Map.copyOf(addedIds);
        this.normalizer = normalizer;
        this.preTokenizer = preTokenizer;
        this.model = model;
        this.template = template;
    }

    @Override
    public Encoding encode(String text, int maxLength) {
        int budget = budget(maxLength, false);
        IntList a = tokenize(text);
        int keep = Math.min(a.size(), budget);
        return template.apply(a, keep, null, 0, keep < a.size());
    }

    @Override
    public Encoding encodePair(String first, String second, int maxLength) {
        return encodePair(first, second, maxLength, PairTruncation.LONGEST_FIRST);
    }

    @Override
    public Encoding encodePair(String first, String second, int maxLength, PairTruncation truncation) {
        int budget = budget(maxLength, true);
        IntList a = tokenize(first);
        IntList b = tokenize(second);
        int[] keep = truncation.keep(a.size(), b.size(), maxLength, budget);
        boolean truncated = keep[0] < a.size() || keep[1] < b.size();
        return template.apply(a, keep[0], b, keep[1], truncated);
    }

    private int budget(int maxLength, boolean pair) {
        int specials = template.specialCount(pair);
        if (maxLength < specials) {
            throw new IllegalArgumentException("maxLength " + maxLength + " is smaller than the " + specials
                    + " special tokens the " + (pair ? "pair" : "single") + " template adds");
        }
        return maxLength - specials;
    }

    @Override
    public int specialTokens(boolean pair) {
        return template.specialCount(pair);
    }

    @Override
    public int vocabSize() {
        int max = model.vocabSize();
        for (int id : addedIds.values()) {
            max = Math.max(max, id + 1);
        }
        return max;
    }

    @Override
    public int tokenId(String token) {
        Integer added = addedIds.get(token);
        return added != null ? added : model.tokenId(token);
    }

    /** The ids of one sequence, before truncation and special tokens. */
    IntList tokenize(String text) {
        IntList ids = new IntList(Math.max(8, text.length() / 3));
        List<String> words = new ArrayList<>();
        // whether nothing came before: HF's offsets_original().0 == 0, for Metaspace's prepend_scheme "first"
        boolean[] atStart = {true};
        AddedTokens.Sink modelSink = new AddedTokens.Sink() {
            @Override
            public void text(String piece) {
                words.clear();
                preTokenizer.split(piece, atStart[0], words);
                atStart[0] = false;
                for (String word : words) {
                    model.tokenize(word, ids);
                }
            }

            @Override
            public void token(int id) {
                ids.add(id);
                atStart[0] = false;
            }
        };
        AddedTokens.Sink normalizeSink = new AddedTokens.Sink() {
            @Override
            public void text(String piece) {
                normalizedAdded.split(normalizer.normalize(piece), modelSink);
            }

            @Override
            public void token(int id) {
                ids.add(id);
                atStart[0] = false;
            }
        };
        rawAdded.split(text, normalizeSink);
        return ids;
    }
}
