package dev.rerank4j.model;

import dev.rerank4j.ModelFormatException;
import dev.rerank4j.backend.Activation;
import dev.rerank4j.backend.Backend;
import dev.rerank4j.backend.LinearWeights;
import dev.rerank4j.io.ModelConfig;
import dev.rerank4j.tokenize.Encoding;

import java.util.List;

/**
 * A sequence-classification cross-encoder with one label. Every supported head is
 * logit = out(f(dense(h[first token]))); the tensor names and f differ:
 * <ul>
 *   <li>BertForSequenceClassification: dense = {@code bert.pooler.dense}, f = tanh, out = {@code classifier};</li>
 *   <li>XLMRobertaForSequenceClassification / RobertaForSequenceClassification: dense =
 *       {@code classifier.dense}, f = tanh, out = {@code classifier.out_proj}, on h[&lt;s&gt;], encoder under {@code roberta.};</li>
 *   <li>ElectraForSequenceClassification: dense = {@code classifier.dense}, f = GELU (erf form), out =
 *       {@code classifier.out_proj}, encoder under {@code electra.}.</li>
 *   <li>DistilBertForSequenceClassification: dense = {@code pre_classifier}, f = ReLU, out = {@code classifier}, encoder
 *       under {@code distilbert.};</li>
 *   <li>DebertaV2ForSequenceClassification: dense = {@code pooler.dense}, f = GELU, out = {@code classifier}, encoder
 *       under {@code deberta.};</li>
 *   <li>ModernBertForSequenceClassification: dense = {@code head.dense}, f = LayerNorm({@code head.norm}) ∘ GELU, out =
 *       {@code classifier}, on h[CLS] or the mean of h over the tokens (classifier_pooling), encoder under {@code model.}.</li>
 * </ul>
 */
public final class CrossEncoder implements Model {
    private final Encoder encoder;
    private final Backend backend;
    /** Whether the head reads the mean of the last hidden states rather than the first token's. */
    private final boolean meanPooling;
    private final LinearWeights pooler;     // [H, H] (BERT pooler, RoBERTa's and ELECTRA's classifier.dense, ModernBERT's head.dense)
    private final Activation poolerActivation;
    /** ModernBERT's head.norm after the activation; null for the others. */
    private final ModernBertLayers.Norm poolerNorm;
    private final LinearWeights classifier; // [1, H] (BERT classifier, or classifier.out_proj)

    private CrossEncoder(Encoder encoder, Backend backend, boolean meanPooling, LinearWeights pooler, Activation poolerActivation,
                         ModernBertLayers.Norm poolerNorm, LinearWeights classifier) {
        this.encoder = encoder;
        this.backend = backend;
        this.meanPooling = meanPooling;
        this.pooler = pooler;
        this.poolerActivation = poolerActivation;
        this.poolerNorm = poolerNorm;
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
                false,
                backend.prepareLinear(bert.get("pooler.dense.weight", h, h), bert.get("pooler.dense.bias", h)),
                Activation.TANH,
                null,
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
        return withClassificationHead(weights, "roberta.", "classifier.dense", Activation.TANH, "classifier.out_proj", config, backend);
    }

    /**
     * ElectraForSequenceClassification with one label: logit = classifier.out_proj(gelu(classifier.dense(h[CLS]))), GELU
     * in its erf form (transformers' ElectraClassificationHead), encoder tensors under {@code electra.}; embeddings
     * narrower than the encoder pass through {@code electra.embeddings_project} first.
     */
    static CrossEncoder loadElectra(Weights weights, ModelConfig config, Backend backend) {
        requireOneLabel(config);
        if (!config.modelType().equals("electra")) {
            throw new ModelFormatException("config.json: architectures " + config.architectures() + " name an ELECTRA head but model_type is '"
                    + config.modelType() + "' (expected \"electra\"; it decides the embeddings' width)");
        }
        return withClassificationHead(weights, "electra.", "classifier.dense", Activation.GELU, "classifier.out_proj", config, backend);
    }

    /** The encoder under {@code prefix} (or none), scored by out(f(dense(h[first token]))), the head's layers named as it names them. */
    private static CrossEncoder withClassificationHead(Weights weights, String prefix, String dense, Activation f, String out,
                                                       ModelConfig config, Backend backend) {
        Weights encoderWeights = new Weights(weights.file(), Weights.detectPrefix(weights.file(), Encoder.tokenEmbeddings(config), prefix, ""));
        long h = config.hiddenSize();
        for (String name : new String[] {dense + ".weight", dense + ".bias", out + ".weight", out + ".bias"}) {
            if (!weights.has(name)) {
                throw new ModelFormatException(weights.file().file() + ": missing tensor '" + name + "': "
                        + config.architectures() + " scores through " + dense + " (" + f.name().toLowerCase(java.util.Locale.ROOT)
                        + ") then " + out);
            }
        }
        return new CrossEncoder(
                Encoder.load(encoderWeights, config, backend),
                backend,
                false,
                backend.prepareLinear(weights.get(dense + ".weight", h, h), weights.get(dense + ".bias", h)),
                f,
                null,
                backend.prepareLinear(weights.get(out + ".weight", 1, h), weights.get(out + ".bias", 1)));
    }

    /**
     * DistilBertForSequenceClassification with one label: logit = classifier(relu(pre_classifier(h[CLS]))), the encoder's
     * tensors under {@code distilbert.} (transformers' modeling_distilbert.py).
     */
    static CrossEncoder loadDistilBert(Weights weights, ModelConfig config, Backend backend) {
        requireOneLabel(config);
        requireModelType(config, config.modelType().equals("distilbert"), "a DistilBERT", "distilbert");
        return withClassificationHead(weights, "distilbert.", "pre_classifier", Activation.RELU, "classifier", config, backend);
    }

    /**
     * DebertaV2ForSequenceClassification with one label (DeBERTa-v3, mxbai-rerank-*-v1): logit = classifier(gelu(pooler.dense(
     * h[CLS]))), the encoder's tensors under {@code deberta.} (transformers' ContextPooler).
     */
    static CrossEncoder loadDeberta(Weights weights, ModelConfig config, Backend backend) {
        requireOneLabel(config);
        requireModelType(config, config.deberta() != null, "a DeBERTa", "deberta-v2");
        return withClassificationHead(weights, "deberta.", "pooler.dense", Activation.GELU, "classifier", config, backend);
    }

    private static ModernBertLayers.Norm headNorm(Weights weights, long h, ModelConfig config, Backend backend) {
        ModernBertLayers.Norm norm = ModernBertLayers.Norm.of(weights, "head.norm", h, config.modernBert().normBias());
        norm.keepOnDevice(backend);
        return norm;
    }

    /** A head's architecture on the encoder config.json names: the model type decides the encoder's own layout. */
    private static void requireModelType(ModelConfig config, boolean matches, String head, String expected) {
        if (!matches) {
            throw new ModelFormatException("config.json: architectures " + config.architectures() + " name " + head + " head but model_type is '"
                    + config.modelType() + "' (expected \"" + expected + "\")");
        }
    }

    /**
     * ModernBertForSequenceClassification with one label: logit = classifier(head.norm(gelu(head.dense(pooled)))), pooled the
     * first token's last hidden state or their mean over the tokens (classifier_pooling), GELU in its erf form; the encoder's
     * tensors under {@code model.}. head.dense has a bias where classifier_bias says so, head.norm where norm_bias does, the
     * classifier always (transformers' modeling_modernbert.py).
     */
    static CrossEncoder loadModernBert(Weights weights, ModelConfig config, Backend backend) {
        requireOneLabel(config);
        requireModelType(config, config.modernBert() != null, "a ModernBERT", "modernbert");
        Weights encoderWeights = new Weights(weights.file(), Weights.detectPrefix(weights.file(), Encoder.tokenEmbeddings(config), "model.", ""));
        long h = config.hiddenSize();
        return new CrossEncoder(
                Encoder.load(encoderWeights, config, backend),
                backend,
                config.modernBert().meanPooling(),
                ModernBertLayers.linear(weights, backend, "head.dense", h, h, config.modernBert().classifierBias()),
                Activation.GELU,
                headNorm(weights, h, config, backend),
                backend.prepareLinear(weights.get("classifier.weight", 1, h), weights.get("classifier.bias", 1)));
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

    /** The classification head's arrays for one batch: the pooled states (mean pooling only), the head's dense output, the logits. */
    private record Head(float[] means, float[] pooled, float[] logits) {}

    /** One raw logit per pair encoding, in the order given. */
    public float[] logits(List<Encoding> pairs, int batchSize) {
        float[] logits = new float[pairs.size()];
        int h = encoder.config().hiddenSize();
        // a batch holds at most batchSize pairs and, each pair a token at least, at most the scratch's tokens
        encoder.forEachBatch(pairs, batchSize, scratch -> {
                    int maxSequences = Math.min(Math.min(batchSize, pairs.size()), scratch.capacity());
                    return new Head(new float[meanPooling ? Math.multiplyExact(maxSequences, h) : 0],
                            new float[Math.multiplyExact(maxSequences, h)], new float[maxSequences]);
                },
                (slice, scratch, head) -> {
                    RaggedBatch batch = slice.batch();
                    float[] states = meanPooling ? means(encoder.forward(batch, scratch), batch, h, head.means)
                            : encoder.firstTokenStates(batch, scratch);
                    int n = batch.sequences();
                    backend.linear(states, n, pooler, head.pooled, poolerActivation);
                    if (poolerNorm != null) {
                        backend.addLayerNorm(head.pooled, null, n, h, poolerNorm.gamma(), poolerNorm.beta(), encoder.config().layerNormEps());
                    }
                    backend.linear(head.pooled, n, classifier, head.logits, Activation.NONE);
                    for (int b = 0; b < n; b++) {
                        logits[slice.origins()[b]] = head.logits[b];
                    }
                });
        return logits;
    }

    /** Row b of {@code means}: the mean of sequence b's rows of {@code states}, as transformers' masked mean (every token real). */
    private static float[] means(float[] states, RaggedBatch batch, int h, float[] means) {
        for (int b = 0; b < batch.sequences(); b++) batch.meanOfRows(b, states, h, means, b * h);
        return means;
    }
}
