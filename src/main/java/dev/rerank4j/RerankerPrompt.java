package dev.rerank4j;

/**
 * How an instruction-following reranker on a causal language model is asked about a pair, as its model card builds the
 * input: prefix, then {@code <Instruct>: …\n<Query>: …\n<Document>: …} (the part that is cut to fit), then suffix; the
 * model answers "yes" or "no" at the last token.
 *
 * @param prefix             text before the pair, encoded without special tokens of the tokenizer's own
 * @param suffix             text after it, likewise
 * @param defaultInstruction the instruction where the caller gives none
 */
record RerankerPrompt(String prefix, String suffix, String defaultInstruction) {
    /** Qwen/Qwen3-Reranker-*'s, from its model card ("Transformers Usage"); its "-seq-cls" conversions take the same. */
    static final RerankerPrompt QWEN3 = new RerankerPrompt(
            "<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the Instruct provided. "
                    + "Note that the answer can only be \"yes\" or \"no\".<|im_end|>\n<|im_start|>user\n",
            "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n",
            "Given a web search query, retrieve relevant passages that answer the query");

    /** The answer tokens whose logits are compared. */
    static final String YES = "yes", NO = "no";

    /** The part between prefix and suffix; {@code instruction} null for the default. */
    String body(String instruction, String query, String doc) {
        return "<Instruct>: " + (instruction != null ? instruction : defaultInstruction) + "\n<Query>: " + query + "\n<Document>: " + doc;
    }
}
