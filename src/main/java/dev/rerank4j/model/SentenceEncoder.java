package dev.rerank4j.model;

import dev.rerank4j.backend.Backend;
import dev.rerank4j.io.ModelConfig;
import dev.rerank4j.tokenize.Encoding;

import java.util.List;

/**
 * A sentence-transformers bi-encoder: mean of the token states over the attention mask, then L2
 * normalisation (the Transformer → Pooling(mean) → Normalize pipeline of all-MiniLM-L6-v2).
 */
public final class SentenceEncoder implements Model {
    private final Encoder encoder;

    private SentenceEncoder(Encoder encoder) {
        this.encoder = encoder;
    }

    static SentenceEncoder load(Weights weights, ModelConfig config, Backend backend) {
        Weights bert = new Weights(weights.file(), Weights.detectPrefix(weights.file(), Encoder.tokenEmbeddings(config), "", "bert."));
        return new SentenceEncoder(Encoder.load(bert, config, backend));
    }

    @Override
    public Encoder encoder() {
        return encoder;
    }

    public int dimension() {
        return encoder.config().hiddenSize();
    }

    /** One unit-length embedding per encoding, in the order given. */
    public float[][] embed(List<Encoding> texts, int batchSize) {
        int h = dimension();
        float[][] embeddings = new float[texts.size()][];
        encoder.forEachBatch(texts, batchSize, scratch -> null, (slice, scratch, none) -> {
            RaggedBatch batch = slice.batch();
            float[] hidden = encoder.forward(batch, scratch);
            for (int b = 0; b < batch.sequences(); b++) {
                embeddings[slice.origins()[b]] = meanPoolNormalised(hidden, batch.start(b), batch.length(b), h);
            }
        });
        return embeddings;
    }

    private static float[] meanPoolNormalised(float[] hidden, int start, int length, int h) {
        float[] sum = new float[h];
        for (int t = start; t < start + length; t++) {
            int row = t * h;
            for (int i = 0; i < h; i++) sum[i] += hidden[row + i];
        }
        double norm = 0;
        // sentence-transformers divides by max(tokens, 1e-9): a text of no tokens (a tokenizer that adds no special
        // tokens, an empty text) is the zero vector, scored 0, not NaN
        for (int i = 0; i < h; i++) {
            if (length > 0) sum[i] /= length;
            norm += (double) sum[i] * sum[i];
        }
        // sentence-transformers' Normalize is F.normalize: divide by max(‖v‖, 1e-12).
        float scale = (float) (1.0 / Math.max(Math.sqrt(norm), 1e-12));
        for (int i = 0; i < h; i++) sum[i] *= scale;
        return sum;
    }
}
