package dev.rerank4j.model;

import dev.rerank4j.tokenize.Encoding;

import java.util.List;

/**
 * Sequences of different lengths laid end to end, without padding: sequence {@code b} is tokens
 * {@code seqStarts[b]} (inclusive) to {@code seqStarts[b+1]} (exclusive) of {@code ids}.
 */
public record RaggedBatch(int[] ids, int[] typeIds, int[] seqStarts) {

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
}
