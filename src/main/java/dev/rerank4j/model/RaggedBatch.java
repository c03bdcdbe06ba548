package dev.rerank4j.model;

import dev.rerank4j.ModelFormatException;
import dev.rerank4j.io.Tensor;
import dev.rerank4j.tokenize.Encoding;

import java.util.List;

/**
 * Sequences of different lengths laid end to end, without padding: sequence {@code b} is tokens
 * {@code seqStarts[b]} (inclusive) to {@code seqStarts[b+1]} (exclusive) of {@code ids}.
 */
public record RaggedBatch(int[] ids, int[] typeIds, int[] seqStarts) {

    /** Sequences that cover the tokens exactly: a token outside them would run through the layers unembedded. */
    public RaggedBatch {
        if (typeIds.length != ids.length) {
            throw new IllegalArgumentException(typeIds.length + " type ids for " + ids.length + " tokens");
        }
        if (seqStarts.length == 0 || seqStarts[0] != 0 || seqStarts[seqStarts.length - 1] != ids.length) {
            throw new IllegalArgumentException("sequence starts must run from 0 to the " + ids.length + " tokens, got "
                    + java.util.Arrays.toString(seqStarts));
        }
        for (int b = 1; b < seqStarts.length; b++) {
            if (seqStarts[b] < seqStarts[b - 1]) {
                throw new IllegalArgumentException("sequence " + (b - 1) + " ends before it starts: " + java.util.Arrays.toString(seqStarts));
            }
        }
    }

    public static RaggedBatch of(List<Encoding> encodings) {
        int[] starts = new int[encodings.size() + 1];
        for (int b = 0; b < encodings.size(); b++) {
            starts[b + 1] = starts[b] + encodings.get(b).length();
        }
        int[] ids = new int[starts[encodings.size()]];
        int[] typeIds = new int[ids.length];
        for (int b = 0; b < encodings.size(); b++) {
            Encoding e = encodings.get(b);
            System.arraycopy(e.ids(), 0, ids, starts[b], e.length());
            System.arraycopy(e.typeIds(), 0, typeIds, starts[b], e.length());
        }
        return new RaggedBatch(ids, typeIds, starts);
    }

    public int sequences() {
        return seqStarts.length - 1;
    }

    public int tokens() {
        return ids.length;
    }

    public int start(int b) {
        return seqStarts[b];
    }

    public int length(int b) {
        return seqStarts[b + 1] - seqStarts[b];
    }

    /** Tokens of the longest sequence, 0 for none. */
    public int longest() {
        int longest = 0;
        for (int b = 0; b < sequences(); b++) longest = Math.max(longest, length(b));
        return longest;
    }

    /**
     * out[at, at + width) = the mean of sequence b's rows of {@code rows} (one per token, {@code width} floats each), summed in
     * token order; a sequence of no tokens is the zero vector (sentence-transformers divides by max(tokens, 1e-9), not 0).
     */
    void meanOfRows(int b, float[] rows, int width, float[] out, int at) {
        java.util.Arrays.fill(out, at, at + width, 0f);
        for (int t = start(b); t < start(b) + length(b); t++) {
            for (int i = 0; i < width; i++) out[at + i] += rows[t * width + i];
        }
        if (length(b) > 0) for (int i = 0; i < width; i++) out[at + i] /= length(b);
    }

    /**
     * Moves each sequence's first row of {@code rows} (one per token, {@code width} floats each) to row b, in place, and
     * returns rows: start(b) ≥ b, so no row is overwritten before it is read.
     */
    float[] firstRowsToFront(float[] rows, int width) {
        for (int b = 0; b < sequences(); b++) System.arraycopy(rows, start(b) * width, rows, b * width, width);
        return rows;
    }

    /**
     * out row t = row ids[t] of {@code table} ({@code rows} rows of {@code width} floats), for every token: the token
     * embeddings of a model without position or type tables.
     *
     * @throws ModelFormatException if an id is outside the table (the tokenizer and the model disagree)
     */
    void tokenRows(Tensor table, int rows, int width, float[] out) {
        for (int t = 0; t < tokens(); t++) {
            int id = ids[t];
            if (id < 0 || id >= rows) {
                throw new ModelFormatException("token id " + id + " is outside the embedding table of " + rows
                        + " rows (tokenizer and model disagree)");
            }
            table.read((long) id * width, width, out, t * width);
        }
    }

    /**
     * Moves each sequence's last row of {@code rows} to row b, in place, and returns rows; every sequence must have a token,
     * so that its last row, start(b + 1) − 1 ≥ b, is read before row b' &gt; b overwrites anything.
     */
    float[] lastRowsToFront(float[] rows, int width) {
        for (int b = 0; b < sequences(); b++) System.arraycopy(rows, (seqStarts[b + 1] - 1) * width, rows, b * width, width);
        return rows;
    }
}
