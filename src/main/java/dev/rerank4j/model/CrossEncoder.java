package dev.rerank4j.model;

import dev.rerank4j.ModelFormatException;
import dev.rerank4j.backend.Activation;
import dev.rerank4j.backend.Backend;
import dev.rerank4j.backend.LinearWeights;
import dev.rerank4j.io.ModelConfig;
import dev.rerank4j.tokenize.Encoding;

import java.util.List;

/**
 * BertForSequenceClassification with one label: logit = classifier(tanh(pooler(h[CLS]))).
 */
public final class CrossEncoder implements Model {
    private final Encoder encoder;
    private final Backend backend;
    private final LinearWeights pooler;     // [H, H], tanh
    private final LinearWeights classifier; // [1, H]

    private CrossEncoder(Encoder encoder, Backend backend, LinearWeights pooler, LinearWeights classifier) {
        this.encoder = encoder;
        this.backend = backend;
        this.pooler = pooler;
        this.classifier = classifier;
    }

    static CrossEncoder load(Weights weights, ModelConfig config, Backend backend) {
        if (config.numLabels() != 1) {
            throw new ModelFormatException("config.json: num_labels is " + config.numLabels()
                    + "; rerank4j scores cross-encoders with exactly one output label");
        }
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

    @Override
    public Encoder encoder() {
        return encoder;
    }

    /** One raw logit per pair encoding, in the order given. */
    public float[] logits(List<Encoding> pairs, int batchSize) {
        float[] logits = new float[pairs.size()];
        List<Batcher.Slice> slices = Batcher.split(pairs, batchSize);
        Encoder.Scratch scratch = encoder.newScratch(Batcher.maxTokens(slices));
        int h = encoder.config().hiddenSize();
        for (Batcher.Slice slice : slices) {
            RaggedBatch batch = slice.batch();
            float[] hidden = encoder.forward(batch, scratch);
            int n = batch.sequences();
            float[] cls = new float[n * h];
            for (int b = 0; b < n; b++) {
                System.arraycopy(hidden, batch.start(b) * h, cls, b * h, h);
            }
            float[] pooled = new float[n * h];
            backend.linear(cls, n, pooler, pooled, Activation.TANH);
            float[] out = new float[n];
            backend.linear(pooled, n, classifier, out, Activation.NONE);
            for (int b = 0; b < n; b++) {
                logits[slice.origins()[b]] = out[b];
            }
        }
        return logits;
    }
}
