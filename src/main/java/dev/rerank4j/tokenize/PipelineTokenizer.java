package dev.rerank4j.tokenize;

import dev.rerank4j.io.Cancellation;

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
    /** Whether a prefix cut at a {@link SpaceCut} tokenizes to the whole text's first ids (TokenizerJson decides). */
    private final boolean cutsAtSpaces;

    /**
     * Chars a text needs before a cut is tried, and per token wanted: far more than a token takes in any language
     * with spaces (English ≈ 4–5), so the first cut almost always has enough; when not, the next try takes 4× as many.
     */
    static final int CUT_MIN_CHARS = 4096;
    static final int CUT_CHARS_PER_TOKEN = 24;

    PipelineTokenizer(AddedTokens rawAdded, AddedTokens normalizedAdded, Map<String, Integer> addedIds,
                      Normalizer normalizer, PreTokenizer preTokenizer, TokenModel model, TemplateProcessor template,
                      boolean cutsAtSpaces) {
        this.rawAdded = rawAdded;
        this.normalizedAdded = normalizedAdded;
        this.addedIds = Map.copyOf(addedIds);
        this.normalizer = normalizer;
        this.preTokenizer = preTokenizer;
        this.model = model;
        this.template = template;
        this.cutsAtSpaces = cutsAtSpaces;
    }

    @Override
    public Encoding encode(String text, int maxLength) {
        int budget = budget(maxLength, false);
        IntList a = tokenize(text, budget);
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
        IntList a = tokenize(first, budget);
        IntList b = tokenize(second, budget);
        if (a.size() > budget && b.size() > budget && truncation.needsLengthsPastBudget(budget)) {
            a = tokenize(first); // which is longer decides, so neither may stop early
            b = tokenize(second);
        }
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

    /**
     * The ids of one sequence before truncation and special tokens: all of them, or, where the text is long and the
     * pipeline allows, only the ids of a prefix cut at a {@link SpaceCut} once those are more than {@code budget}:
     * the first ids of the whole text, and enough to know it is cut. Every truncation here keeps the first ids and
     * looks at a length beyond the budget only to know it is beyond, but for {@link PairTruncation#needsLengthsPastBudget}
     * (PrefixCutTest checks both).
     */
    IntList tokenize(String text, int budget) {
        if (cutsAtSpaces) {
            long chars = Math.max(CUT_MIN_CHARS, (long) CUT_CHARS_PER_TOKEN * (budget + 1L));
            while (chars < text.length()) {
                int cut = SpaceCut.find(text, (int) chars);
                if (cut < 0 || cut > text.length() / 2) break; // past half, a prefix saves less than a second try costs
                IntList ids = tokenize(text.substring(0, cut));
                if (ids.size() > budget) return ids;
                chars = 4 * (long) cut;
            }
        }
        return tokenize(text);
    }

    /** Words split or tokenized between two looks at the caller's interrupt (a text of many megabytes takes seconds). */
    private static final int WORDS_PER_INTERRUPT_CHECK = 4096;

    /**
     * A piece's words, and a count of the steps (words split or tokenized, pieces, added tokens) the whole text has
     * taken, across its pieces: 40 MB of text splits into millions of words in two seconds, or into millions of pieces
     * between added tokens, so every few thousand steps look at the interrupt.
     */
    private static final class Words extends ArrayList<String> {
        private int steps;

        void step() {
            if (++steps % WORDS_PER_INTERRUPT_CHECK == 0) Cancellation.stopIfInterrupted();
        }

        @Override
        public boolean add(String word) {
            step();
            return super.add(word);
        }
    }

    /**
     * The ids of the whole text, before truncation and special tokens.
     *
     * @throws java.util.concurrent.CancellationException if the thread is interrupted (its status left set)
     */
    IntList tokenize(String text) {
        Cancellation.stopIfInterrupted();
        IntList ids = new IntList(Math.max(8, text.length() / 3));
        Words words = new Words();
        // whether nothing came before: HF's offsets_original().0 == 0, for Metaspace's prepend_scheme "first"
        boolean[] atStart = {true};
        AddedTokens.Sink modelSink = new AddedTokens.Sink() {
            @Override
            public void text(String piece) {
                words.clear();
                preTokenizer.split(piece, atStart[0], words);
                atStart[0] = false;
                for (String word : words) {
                    words.step();
                    model.tokenize(word, ids);
                }
            }

            @Override
            public void token(int id) {
                words.step();
                ids.add(id);
                atStart[0] = false;
            }
        };
        AddedTokens.Sink normalizeSink = new AddedTokens.Sink() {
            @Override
            public void text(String piece) {
                words.step();
                normalizedAdded.split(normalizer.normalize(piece), modelSink);
            }

            @Override
            public void token(int id) {
                words.step();
                ids.add(id);
                atStart[0] = false;
            }
        };
        rawAdded.split(text, normalizeSink);
        return ids;
    }
}
