package dev.rerank4j;

import dev.rerank4j.io.Json;
import dev.rerank4j.io.ModelConfig;
import dev.rerank4j.tokenize.PairTruncation;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * How a cross-encoder's own library runs it, read from the files that library wrote. sentence-transformers' CrossEncoder
 * marks what it saves (config_sentence_transformers.json's model_type "CrossEncoder" and activation_fn in version 6;
 * config.json's sentence_transformers.activation_fn in versions 4 and 5, sbert_ce_default_activation_function before),
 * cuts pairs longest first and applies the activation it names (for a file of version 6 naming none, Sigmoid, its
 * default for one label). An XLM-R or RoBERTa model without those marks is a
 * FlagEmbedding reranker (bge-reranker-*), which caps the query at ¾ of the length, cuts only the passage and returns the
 * raw logit; so is, for its score, any model that names no activation.
 *
 * @param sentenceTransformers whether sentence-transformers wrote the files
 * @param activation           the activation they name (a class name such as "torch.nn.modules.activation.Sigmoid"), or null
 * @param source               the file that names it (or would), for errors
 */
record CrossEncoderConventions(boolean sentenceTransformers, String activation, Path source) {
    private static final String ST_CONFIG = "config_sentence_transformers.json";

    /** The conventions of the model in {@code dir}: config_sentence_transformers.json's (as CrossEncoder reads it first), else config.json's. */
    static CrossEncoderConventions of(Path dir, ModelConfig config) {
        Path file = dir.resolve(ST_CONFIG);
        if (Files.isRegularFile(file)) {
            Map<String, Object> st = Json.parseObjectFile(file);
            Object type = st.get("model_type");
            if (type != null && !(type instanceof String)) { // else a damaged type silently picked the other library's score
                throw new ModelFormatException(file + ": field 'model_type' must be a string, found " + Json.typeName(type));
            }
            if ("CrossEncoder".equals(type)) {
                Object fn = st.get("activation_fn");
                if (fn != null && !(fn instanceof String)) {
                    throw new ModelFormatException(file + ": field 'activation_fn' must be a string, found " + Json.typeName(fn));
                }
                String named = fn != null ? (String) fn : config.ceActivation();
                return new CrossEncoderConventions(true, named != null ? named : "torch.nn.modules.activation.Sigmoid",
                        fn != null ? file : dir.resolve("config.json"));
            }
        }
        return new CrossEncoderConventions(config.ceActivation() != null, config.ceActivation(), dir.resolve("config.json"));
    }

    PairTruncation truncation(ModelConfig config) {
        return config.isRoberta() && !sentenceTransformers ? PairTruncation.FIRST_CAPPED_THEN_SECOND : PairTruncation.LONGEST_FIRST;
    }

    /**
     * Whether the model's own library returns sigmoid(logit) (Options.ScoreFunction.MODEL_DEFAULT), else the logit.
     *
     * @throws ModelFormatException if it applies another activation (Tanh, Softmax, ...): scoring it as either would be
     *                              silently wrong
     */
    boolean sigmoid() {
        if (activation == null || activation.endsWith("Identity")) return false;
        if (activation.endsWith("Sigmoid")) return true;
        throw new ModelFormatException(source + ": the cross-encoder's activation " + activation + " is not one rerank4j applies"
                + " (Sigmoid or Identity); choose the score with Options.withScoreFunction(RAW or SIGMOID) (--raw or --sigmoid)");
    }
}
