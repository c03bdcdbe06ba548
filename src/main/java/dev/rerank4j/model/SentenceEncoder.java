package dev.rerank4j.model;

import dev.rerank4j.ModelFormatException;
import dev.rerank4j.backend.Backend;
import dev.rerank4j.io.ModelConfig;
import dev.rerank4j.io.QwenConfig;
import dev.rerank4j.tokenize.Encoding;

import java.util.List;

/**
 * A sentence-transformers bi-encoder: the token states pooled by their mean over the attention mask, or the first
 * token's taken, or a causal decoder's last token's, then (with a Normalize module, or for cosine similarity) L2 normalisation; see
 * {@link SentenceTransformerPipeline} for what its files may say.
 */
public final class SentenceEncoder implements Model {
    private final Encoder encoder;
    private final SentenceTransformerPipeline.Settings settings;

    private SentenceEncoder(Encoder encoder, SentenceTransformerPipeline.Settings settings) {
        this.encoder = encoder;
        this.settings = settings;
    }

    static SentenceEncoder load(Weights weights, ModelConfig config, Backend backend, SentenceTransformerPipeline.Settings settings) {
        if (settings.pooling() == SentenceTransformerPipeline.Pooling.LAST_TOKEN && config.qwen() == null) {
            throw new ModelFormatException("1_Pooling/config.json: last-token pooling is for causal decoders (Qwen3-Embedding's); "
                    + "this is a " + config.modelType() + " encoder");
        }
        if (config.qwen() != null && config.qwen().generation() == QwenConfig.Generation.QWEN2) {
            // gte-Qwen2-*-instruct, the Qwen2 embedders on the hub, attend both ways through their own modeling code
            throw new ModelFormatException("config.json: a sentence-transformers model on a Qwen2 decoder (gte-Qwen2-*-instruct's kind) "
                    + "is not supported: those attend both ways in their own modeling code, and rerank4j's Qwen2 decoder is causal "
                    + "(it runs mxbai-rerank-*-v2)");
        }
        Weights encoder = new Weights(weights.file(), Weights.detectPrefix(weights.file(), Encoder.tokenEmbeddings(config), "", "bert.",
                "model."));
        return new SentenceEncoder(Encoder.load(encoder, config, backend), settings);
    }

    @Override
    public Encoder encoder() {
        return encoder;
    }

    public int dimension() {
        return encoder.config().hiddenSize();
    }

    /** Put before every query, "" for none. */
    public String queryPrompt() {
        return settings.queryPrompt();
    }

    /** Put before every document, "" for none. */
    public String documentPrompt() {
        return settings.documentPrompt();
    }

    /** Whether the score is the dot product of the embeddings rather than their cosine similarity. */
    public boolean scoresByDotProduct() {
        return settings.dotProduct();
    }

    /** How a text's token states become its embedding, in words: "mean", "first-token" or "last-token". */
    public String pooling() {
        return switch (settings.pooling()) {
            case MEAN -> "mean";
            case FIRST_TOKEN -> "first-token";
            case LAST_TOKEN -> "last-token";
        };
    }

    /** One embedding per encoding, in the order given: unit length unless the model keeps them unnormalised for a dot product. */
    public float[][] embed(List<Encoding> texts, int batchSize) {
        int h = dimension();
        float[][] embeddings = new float[texts.size()][];
        encoder.forEachBatch(texts, batchSize, scratch -> null, (slice, scratch, none) -> {
            RaggedBatch batch = slice.batch();
            boolean last = settings.pooling() == SentenceTransformerPipeline.Pooling.LAST_TOKEN;
            float[] hidden = last ? encoder.lastTokenStates(batch, scratch) : encoder.forward(batch, scratch);
            for (int b = 0; b < batch.sequences(); b++) {
                float[] pooled = new float[h];
                switch (settings.pooling()) {
                    case FIRST_TOKEN -> {
                        if (batch.length(b) > 0) System.arraycopy(hidden, batch.start(b) * h, pooled, 0, h); // no tokens: the zero vector
                    }
                    case LAST_TOKEN -> System.arraycopy(hidden, b * h, pooled, 0, h);
                    case MEAN -> batch.meanOfRows(b, hidden, h, pooled, 0);
                }
                embeddings[slice.origins()[b]] = settings.normalize() ? normalised(pooled) : pooled;
            }
        });
        return embeddings;
    }

    /** sentence-transformers' Normalize is F.normalize: divide by max(‖v‖, 1e-12). */
    private static float[] normalised(float[] v) {
        double norm = 0;
        for (float x : v) norm += (double) x * x;
        float scale = (float) (1.0 / Math.max(Math.sqrt(norm), 1e-12));
        for (int i = 0; i < v.length; i++) v[i] *= scale;
        return v;
    }
}
