package dev.rerank4j.model;

import dev.rerank4j.model.Encoder.Scratch;

/**
 * The math of one family of encoders, from a batch's token ids to its last hidden states, in the work arrays of an
 * {@link Encoder}'s scratch; {@link Encoder} batches, lends the arrays, checks that a batch fits them and the model's
 * positions, and stops calls. Immutable after loading.
 */
sealed interface EncoderLayers permits BertLayers, ModernBertLayers {
    /** As {@link Encoder#forward(RaggedBatch, int[], Scratch)}. */
    float[] forward(RaggedBatch batch, int[] keyLengths, Scratch scratch);

    /** As {@link Encoder#firstTokenStates}. */
    float[] firstTokenStates(RaggedBatch batch, Scratch scratch);

    /** Floats of the feed-forward's work array ({@link Scratch#ffn()}) for a batch of {@code tokens} tokens. */
    int feedForwardFloats(int tokens);

    /** Floats of the second feed-forward work array ({@link Scratch#gated()}), 0 where there is none. */
    default int gatedFloats(int tokens) {
        return 0;
    }
}
