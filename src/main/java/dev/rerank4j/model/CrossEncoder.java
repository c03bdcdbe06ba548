package dev.rerank4j.model;

import dev.rerank4j.ModelFormatException;
import dev.rerank4j.backend.Activation;
import dev.rerank4j.backend.Backend;
import dev.rerank4j.backend.LinearWeights;
import dev.rerank4j.io.ModelConfig;
import dev.rerank4j.tokenize.Encoding;

import java.util.List;

/**
 * A sequence-classification cross-encoder with one label. Both supported heads are
 * logit = out(tanh(dense(h[first token]))); only the tensor names differ:
 * <ul>
 *   <li>BertForSequenceClassification: dense = {@code bert.pooler.dense}, out = {@code classifier};</li>
 *   <li>XLMRobertaForSequenceClassification / RobertaForSequenceClassification: dense =
 *       {@code classifier.dense}, out = {@code classifier.out_proj}, on h[&lt;s&gt;], encoder under {@code roberta.}.</li>
 * </ul>
 */
public final class CrossEncoder implements Model {
    private final Encoder encoder;
    private final Backend backend;
    private final LinearWeights pooler;     // [H, H], tanh (BERT pooler or RoBERTa classifier.dense)
    private final LinearWeights classifier; // [1, H] (BERT classifier or RoBERTa classifier.out_proj)

    private CrossEncoder(Encoder encoder, Backend backend, LinearWeights pooler, LinearWeights classifier) {
        this.encoder = encoder;
        this.backend = backend;
        this.pooler = pooler;
        this.classifier = classifier;
    }

    static CrossEncoder load(Weights weights, ModelConfig config, Backend backend) {
        requireOneLabel(config);
        Weights bert = new Weights(weights.file(), Weights.detectPrefix(weights.file(), "embeddings.word_embeddings.weight", "bert.", ""));
        long h = config.hiddenSize();
        if (!bert.has("pooler.dense.weight")) {
            throw new ModelFormatException(weights.file().file() + ": missing tensor 'bert.pooler.dense.weight': "
                    + "BertForSequenceClassification scores through the pooler, so a checkpoint without it cannot be scored faithfully");
        }
        return new CrossEncoder(
                Encoder.load(bert, config, backend),
                backend,
                backend.prepareLinear(bert.get("pooler.dense.weight", h, h), bert.get("pooler.dense.bias", h)),
                backend.prepareLinear(weights.get("classifier.weight", 1, h), weights.get("classifier.bias", 1)));
    }

    /**
     * XLMRobertaForSequenceClassification (or RobertaForSequenceClassification) with one label:
     * logit = classifier.out_proj(tanh(classifier.dense(h[&lt;s&gt;]))), encoder tensors under {@code roberta.}.
     */
    static CrossEncoder loadRoberta(Weights weights, ModelConfig config, Backend backend) {
        requireOneLabel(config);
        if (!config.isRoberta()) {
            throw new ModelFormatException("config.json: architectures " + config.architectures() + " name a RoBERTa head but model_type is '"
                    + config.modelType() + "' (expected \"xlm-roberta\" or \"roberta\"; it decides the position offset)");
        }
        Weights roberta = new Weights(weights.file(), Weights.detectPrefix(weights.file(), "embeddings.word_embeddings.weight", "roberta.", ""));
        long h = config.hiddenSize();
        for (String name : new String[] {"classifier.dense.weight", "classifier.dense.bias", "classifier.out_proj.weight", "classifier.out_proj.bias"}) {
            if (!weights.has(name)) {
                throw new ModelFormatException(weights.file().file() + ": missing tensor '" + name + "': "
                        + config.architectures() + " scores through classifier.dense (tanh) then classifier.out_proj");
            }
        }
        return new CrossEncoder(
                Encoder.load(roberta, config, backend),
                backend,
                backend.prepareLinear(weights.get("classifier.dense.weight", h, h), weights.get("classifier.dense.bias", h)),
                backend.prepareLinear(weights.get("classifier.out_proj.weight", 1, h), weights.get("classifier.out_proj.bias", 1)));
    }

    private static void requireOneLabel(ModelConfig config) {
        if (config.numLabels() != 1) {
            throw new ModelFormatException("config.json: num_labels is " + config.numLabels()
                    + "; rerank4j scores cross-encoders with exactly one output label");
        }
    }

    @Override
    public Encoder encoder() {
        return encoder;
    }

    /** The classification head's outputs for one batch: pooled first-token states, then logits. */
    private record Head(float[] pooled, float[] logits) {}

    /** One raw logit per pair encoding, in the order given. */
    public float[] logits(List<Encoding> pairs, int batchSize) {
        float[] logits = new float[pairs.size()];
        int h = encoder.config().hiddenSize();
        // a batch holds at most batchSize pairs and, each pair a token at least, at most the scratch's tokens
        encoder.forEachBatch(pairs, batchSize, scratch -> {
                    int maxSequences = Math.min(Math.min(batchSize, pairs.size()), scratch.capacity());
                    return new Head(new float[Math.multiplyExact(maxSequences, h)], new float[maxSequences]);
                },
                (slice, scratch, head) -> {
                    RaggedBatch batch = slice.batch();
                    float[] first = encoder.firstTokenStates(batch, scratch);
                    int n = batch.sequences();
                    backend.linear(first, n, pooler, head.pooled, Activation.TANH);
                    backend.linear(head.pooled, n, classifier, head.logits, Activation.NONE);
                    for (int b = 0; b < n; b++) {
                        logits[slice.origins()[b]] = head.logits[b];
                    }
                });
        return logits;
    }
}
