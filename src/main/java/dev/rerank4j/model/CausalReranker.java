package dev.rerank4j.model;

import dev.rerank4j.ModelFormatException;
import dev.rerank4j.backend.Backend;
import dev.rerank4j.io.ModelConfig;
import dev.rerank4j.io.QwenConfig;
import dev.rerank4j.io.Tensor;
import dev.rerank4j.tokenize.Encoding;

import java.util.List;

/**
 * A reranker on a causal decoder (Qwen2, Qwen3), which reads the whole prompt and speaks at its last token:
 * <ul>
 *   <li>Qwen3ForCausalLM (Qwen/Qwen3-Reranker-*) and Qwen2ForCausalLM (mixedbread-ai/mxbai-rerank-*-v2):
 *       logit = (E[yes] − E[no])·h[last], E the language-model head ({@code lm_head}, or the token embeddings where
 *       tie_word_embeddings), yes and no the answer tokens' ids (the prompt names them);</li>
 *   <li>Qwen3ForSequenceClassification with one label (the converted "-seq-cls" checkpoints): logit = w·h[last], w
 *       {@code score.weight}.</li>
 * </ul>
 * h[last] is the decoder's final, RMS-normed state of the last token.
 */
public final class CausalReranker implements Model {
    private final Encoder decoder;
    /** The language-model head [vocab, H], null for a classifier. */
    private final Tensor answers;
    /** The classifier's weights [H], null for a language model. */
    private final float[] classifier;

    private CausalReranker(Encoder decoder, Tensor answers, float[] classifier) {
        this.decoder = decoder;
        this.answers = answers;
        this.classifier = classifier;
    }

    /** Qwen3ForCausalLM or Qwen2ForCausalLM: the decoder under {@code model.} and its language-model head. */
    static CausalReranker loadLanguageModel(Weights weights, ModelConfig config, Backend backend, QwenConfig.Generation generation) {
        requireQwen(config, generation);
        Weights model = new Weights(weights.file(), "model.");
        long h = config.hiddenSize(), vocab = config.vocabSize();
        Tensor head;
        if (config.qwen().tiedEmbeddings()) {
            head = model.get("embed_tokens.weight", vocab, h);
        } else if (!weights.has("lm_head.weight")) {
            throw new ModelFormatException(weights.file().file() + ": missing tensor 'lm_head.weight', and config.json's "
                    + "tie_word_embeddings is not true, so the answer tokens have no logits to read");
        } else {
            head = weights.get("lm_head.weight", vocab, h);
        }
        return new CausalReranker(Encoder.load(model, config, backend), head, null);
    }

    /** Qwen3ForSequenceClassification with one label: the decoder under {@code model.} and {@code score.weight}, no bias. */
    static CausalReranker loadClassifier(Weights weights, ModelConfig config, Backend backend) {
        requireQwen(config, QwenConfig.Generation.QWEN3);
        if (config.numLabels() != 1) {
            throw new ModelFormatException("config.json: num_labels is " + config.numLabels()
                    + "; rerank4j scores sequence classifiers with exactly one output label");
        }
        Weights model = new Weights(weights.file(), "model.");
        return new CausalReranker(Encoder.load(model, config, backend), null,
                weights.get("score.weight", 1, config.hiddenSize()).toFloatArray());
    }

    private static void requireQwen(ModelConfig config, QwenConfig.Generation generation) {
        if (config.qwen() == null || config.qwen().generation() != generation) {
            String expected = generation == QwenConfig.Generation.QWEN2 ? "qwen2" : "qwen3";
            throw new ModelFormatException("config.json: architectures " + config.architectures() + " name a " + expected
                    + " head but model_type is '" + config.modelType() + "' (expected \"" + expected + "\")");
        }
    }

    @Override
    public Encoder encoder() {
        return decoder;
    }

    /** Whether the logit is read from the language-model head's answer tokens (else from a classifier). */
    public boolean answersWithTokens() {
        return answers != null;
    }

    /**
     * One raw logit per sequence, in the order given: logit[yesId] − logit[noId] at its last token for a language model
     * (the ids are ignored for a classifier, whose own logit it is).
     */
    public float[] logits(List<Encoding> sequences, int batchSize, int yesId, int noId) {
        int h = decoder.config().hiddenSize();
        float[] head = answers != null ? answerRows(yesId, noId) : classifier;
        float[] logits = new float[sequences.size()];
        decoder.forEachBatch(sequences, batchSize, scratch -> null, (slice, scratch, none) -> {
            float[] states = decoder.lastTokenStates(slice.batch(), scratch);
            for (int b = 0; b < slice.batch().sequences(); b++) {
                float logit = dot(head, 0, states, b * h, h);
                logits[slice.origins()[b]] = answers != null ? logit - dot(head, h, states, b * h, h) : logit;
            }
        });
        return logits;
    }

    /** The language-model head's rows of the two answer tokens, yes then no. */
    private float[] answerRows(int yesId, int noId) {
        long vocab = answers.shape()[0];
        int h = decoder.config().hiddenSize();
        if (yesId < 0 || yesId >= vocab || noId < 0 || noId >= vocab) {
            throw new IllegalArgumentException("answer token ids " + yesId + " and " + noId + " must be rows of the " + vocab
                    + "-row language-model head");
        }
        float[] rows = new float[2 * h];
        answers.read((long) yesId * h, h, rows, 0);
        answers.read((long) noId * h, h, rows, h);
        return rows;
    }

    private static float dot(float[] w, int wAt, float[] x, int xAt, int n) {
        float sum = 0;
        for (int i = 0; i < n; i++) sum += w[wAt + i] * x[xAt + i];
        return sum;
    }
}
