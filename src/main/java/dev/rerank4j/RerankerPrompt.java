package dev.rerank4j;

import dev.rerank4j.io.ModelConfig;
import dev.rerank4j.io.QwenConfig;
import dev.rerank4j.tokenize.Encoding;
import dev.rerank4j.tokenize.Tokenizer;

/**
 * How a reranker on a causal language model is asked about a pair, as its reference builds the input; the model answers
 * at the last token, logit = logit[yes] − logit[no] (or its classifier's logit).
 */
sealed interface RerankerPrompt permits RerankerPrompt.Qwen3Card, RerankerPrompt.MxbaiV2 {
    /** The prompt of the reranker family {@code config} describes: Qwen3's model card for Qwen3, mxbai_rerank's for Qwen2. */
    static RerankerPrompt of(ModelConfig config) {
        return config.qwen().generation() == QwenConfig.Generation.QWEN2 ? MxbaiV2.INSTANCE : Qwen3Card.INSTANCE;
    }

    /** The answer token whose logit speaks for the pair. */
    String yes();

    /** The answer token whose logit it is compared with. */
    String no();

    /** Whether the reference reports sigmoid(logit) rather than the logit where the caller names no score function. */
    boolean sigmoidByDefault();

    /** The limit the reference runs with where the caller gives none (before the model's positions bound it). */
    int defaultMaxLength();

    /** Where {@link #defaultMaxLength} comes from, and what it bounds. */
    String defaultMaxLengthSource();

    /** The instruction where the caller gives none, for the description; null where the prompt has none then. */
    String defaultInstruction();

    /** How a pair is cut to fit, for the description. */
    String cutting();

    /**
     * Encodes the fixed parts on {@code tokenizer} for pairs within {@code maxLength} tokens, in the reference's sense;
     * {@code positions} is the model's position count.
     *
     * @throws IllegalArgumentException if the limit leaves no room for a pair
     */
    PairEncoder bind(Tokenizer tokenizer, String instruction, int maxLength, int positions);

    /**
     * A prompt bound to a tokenizer: each pair's ids, and whether any of its text was cut.
     *
     * @param maxLength the limit in effect, in the reference's sense (lowered where the reference lowers it)
     */
    record PairEncoder(int maxLength, java.util.function.BiFunction<String, String, Encoding> encoder) {
        Encoding encode(String query, String doc) {
            return encoder.apply(query, doc);
        }
    }

    private static int[] ids(Tokenizer tokenizer, String text) {
        return tokenizer.encode(text, Integer.MAX_VALUE).ids();
    }

    private static Encoding concat(boolean truncated, int[]... parts) {
        int length = 0;
        for (int[] part : parts) length += part.length;
        int[] ids = new int[length];
        int at = 0;
        for (int[] part : parts) {
            System.arraycopy(part, 0, ids, at, part.length);
            at += part.length;
        }
        return new Encoding(ids, new int[length], truncated);
    }

    /**
     * Qwen/Qwen3-Reranker-*'s, from its model card ("Transformers Usage"); its "-seq-cls" conversions take the same: prefix,
     * then {@code <Instruct>: …\n<Query>: …\n<Document>: …} encoded whole and cut from its end so that all of it fits
     * max_length, then suffix; score P(yes) = sigmoid(logit).
     */
    record Qwen3Card() implements RerankerPrompt {
        static final Qwen3Card INSTANCE = new Qwen3Card();
        static final String PREFIX = "<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the "
                + "Instruct provided. Note that the answer can only be \"yes\" or \"no\".<|im_end|>\n<|im_start|>user\n";
        static final String SUFFIX = "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n";
        static final String DEFAULT_INSTRUCTION = "Given a web search query, retrieve relevant passages that answer the query";

        @Override public String yes() { return "yes"; }
        @Override public String no() { return "no"; }
        @Override public boolean sigmoidByDefault() { return true; }
        @Override public int defaultMaxLength() { return 8192; }
        @Override public String defaultMaxLengthSource() { return "the Qwen3-Reranker model card's max_length, the whole prompt's"; }
        @Override public String defaultInstruction() { return DEFAULT_INSTRUCTION; }

        @Override
        public String cutting() {
            return "the instruction, query and document, from their end, to fit with the prompt's prefix and suffix (the model card's)";
        }

        @Override
        public PairEncoder bind(Tokenizer tokenizer, String instruction, int maxLength, int positions) {
            int[] prefix = ids(tokenizer, PREFIX), suffix = ids(tokenizer, SUFFIX);
            int room = maxLength - prefix.length - suffix.length;
            if (room <= 0) {
                throw new IllegalArgumentException("a limit of " + maxLength + " tokens leaves no room for the pair: the prompt's prefix and "
                        + "suffix take " + (prefix.length + suffix.length));
            }
            String told = instruction != null ? instruction : DEFAULT_INSTRUCTION;
            return new PairEncoder(maxLength, (query, doc) -> {
                Encoding body = tokenizer.encode("<Instruct>: " + told + "\n<Query>: " + query + "\n<Document>: " + doc, room);
                return concat(body.truncated(), prefix, body.ids(), suffix);
            });
        }
    }

    /**
     * mixedbread-ai/mxbai-rerank-*-v2's, as mxbai_rerank 0.1.6's MxbaiRerankV2 builds it: prefix, the query part
     * ({@code instruction: …\n} where there is one, then {@code query: …}) cut at 3/4 of max_length, "\n", the document
     * part ({@code document: …}) cut so that the two fit max_length, "\n", the task prompt, suffix; each part encoded on
     * its own. max_length bounds the pair, the template comes on top, and where the two would pass the model's positions
     * max_length is lowered to fit, as the library does. Score: the raw logit (predict's default, normalize=False).
     */
    record MxbaiV2() implements RerankerPrompt {
        static final MxbaiV2 INSTANCE = new MxbaiV2();
        static final String PREFIX = "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
                + "<|im_start|>user\n";
        static final String SUFFIX = "<|im_end|>\n<|im_start|>assistant\n";
        static final String SEPARATOR = "\n";
        static final String TASK = "You are a search relevance expert who evaluates how well documents match search queries. For each "
                + "query-document pair, carefully analyze the semantic relationship between them, then provide your binary relevance "
                + "judgment (0 for not relevant, 1 for relevant).\nRelevance:";

        @Override public String yes() { return "1"; }
        @Override public String no() { return "0"; }
        @Override public boolean sigmoidByDefault() { return false; }
        @Override public int defaultMaxLength() { return 8192; }
        @Override public String defaultMaxLengthSource() { return "mxbai_rerank's max_length, the pair's, the template on top"; }
        @Override public String defaultInstruction() { return null; }

        @Override
        public String cutting() {
            return "the query to 3/4 of the length, then the document, from their end (mxbai_rerank's)";
        }

        @Override
        public PairEncoder bind(Tokenizer tokenizer, String instruction, int maxLength, int positions) {
            int[] prefix = ids(tokenizer, PREFIX), separator = ids(tokenizer, SEPARATOR), task = ids(tokenizer, TASK),
                    suffix = ids(tokenizer, SUFFIX);
            int template = prefix.length + task.length + suffix.length + separator.length;
            int limit = Math.min(maxLength, positions - template);
            int queryRoom = limit * 3 / 4;
            if (queryRoom < 1 || queryRoom + separator.length > limit) { // the library would cut into the separator
                throw new IllegalArgumentException("a limit of " + maxLength + " tokens leaves no room for the pair"
                        + (limit < maxLength ? " (lowered to " + limit + ": the template's " + template + " tokens and the model's "
                        + positions + " positions)" : ""));
            }
            // Python's `if instruction`: an empty instruction is none
            String queryPrefix = instruction != null && !instruction.isEmpty() ? "instruction: " + instruction + SEPARATOR + "query: " : "query: ";
            return new PairEncoder(limit, (query, doc) -> {
                Encoding q = tokenizer.encode(queryPrefix + query, queryRoom);
                // the library cuts the document to min(positions − query − template, max_length), then separator and document
                // to fit max_length with the query; with max_length ≤ positions − template the second cut is the tighter
                Encoding d = tokenizer.encode("document: " + doc, limit - q.length() - separator.length);
                return concat(q.truncated() || d.truncated(), prefix, q.ids(), separator, d.ids(), separator, task, suffix);
            });
        }
    }
}
