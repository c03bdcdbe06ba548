package dev.rerank4j.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.rerank4j.tokenize.Encoding;
import dev.rerank4j.tokenize.Tokenizer;

import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * all-MiniLM-L6-v2 scored through ONNX Runtime Java on the original ONNX file, the way its users run it:
 * token ids from rerank4j's tokenizer (so both engines see the same ids), int64 {@code input_ids},
 * {@code attention_mask}, {@code token_type_ids} in padded [B, L] batches, then mean pooling of
 * {@code last_hidden_state} over the mask, L2 normalisation and the dot product with the query embedding.
 */
final class OrtBiEncoder implements AutoCloseable {
    /** How documents are put into padded batches. */
    enum Batching {
        /** One batch of all documents padded to the longest one (langchain4j's embedAll). */
        ONE_PADDED_BATCH("ORT one padded batch"),
        /** Documents sorted by length, longest first, in batches of 32 padded to the batch's longest (sentence-transformers' encode). */
        SORTED_BATCHES_32("ORT sorted batches of 32");

        final String label;

        Batching(String label) {
            this.label = label;
        }
    }

    private final OrtEnvironment env;
    private final OrtSession.SessionOptions options;
    private final OrtSession session;
    private final Tokenizer tokenizer;
    private final int maxLength;
    private final Set<String> inputs;

    /**
     * How every harness runs ONNX Runtime: {@code threads} intra-op threads, one inter-op thread, sequential
     * execution, all graph optimisations (the comparison is fair only if both harnesses agree on this).
     */
    static OrtSession.SessionOptions sessionOptions(int threads) throws OrtException {
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setIntraOpNumThreads(threads);
        options.setInterOpNumThreads(1);
        options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
        options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        return options;
    }

    OrtBiEncoder(Path onnxFile, Tokenizer tokenizer, int maxLength, int threads) throws OrtException {
        this.env = OrtEnvironment.getEnvironment();
        this.options = sessionOptions(threads);
        this.session = env.createSession(onnxFile.toString(), options);
        this.tokenizer = tokenizer;
        this.maxLength = maxLength;
        this.inputs = session.getInputNames();
    }

    /** One cosine score per document, in the documents' order: what is timed, tokenization included. */
    float[] score(String query, List<String> docs, Batching batching) throws OrtException {
        int[] q = tokenizer.encode(query, maxLength).ids();
        List<int[]> ids = new ArrayList<>(docs.size());
        for (String doc : docs) {
            Encoding e = tokenizer.encode(doc, maxLength);
            ids.add(e.ids());
        }
        float[] queryEmbedding = embed(List.of(q))[0];
        float[][] docEmbeddings = switch (batching) {
            case ONE_PADDED_BATCH -> embed(ids);
            case SORTED_BATCHES_32 -> embedSorted(ids, 32);
        };
        float[] scores = new float[docs.size()];
        for (int i = 0; i < scores.length; i++) {
            float dot = 0;
            for (int k = 0; k < queryEmbedding.length; k++) dot += queryEmbedding[k] * docEmbeddings[i][k];
            scores[i] = dot;
        }
        return scores;
    }

    private float[][] embedSorted(List<int[]> ids, int batchSize) throws OrtException {
        Integer[] order = new Integer[ids.size()];
        for (int i = 0; i < order.length; i++) order[i] = i;
        java.util.Arrays.sort(order, Comparator.comparingInt((Integer i) -> -ids.get(i).length)); // stable: ties keep input order
        float[][] out = new float[ids.size()][];
        for (int from = 0; from < order.length; from += batchSize) {
            int to = Math.min(order.length, from + batchSize);
            List<int[]> batch = new ArrayList<>(to - from);
            for (int j = from; j < to; j++) batch.add(ids.get(order[j]));
            float[][] embeddings = embed(batch);
            for (int j = from; j < to; j++) out[order[j]] = embeddings[j - from];
        }
        return out;
    }

    /** One padded [B, L] run, L = the longest sequence; unit-length mean-pooled embeddings. */
    float[][] embed(List<int[]> batch) throws OrtException {
        int b = batch.size();
        int l = 0;
        for (int[] s : batch) l = Math.max(l, s.length);
        long[] ids = new long[b * l];
        long[] mask = new long[b * l];
        long[] types = new long[b * l];
        for (int i = 0; i < b; i++) {
            int[] s = batch.get(i);
            for (int t = 0; t < s.length; t++) {
                ids[i * l + t] = s[t];
                mask[i * l + t] = 1;
            }
        }
        long[] shape = {b, l};
        try (OnnxTensor idsTensor = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape);
             OnnxTensor maskTensor = OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape);
             OnnxTensor typesTensor = OnnxTensor.createTensor(env, LongBuffer.wrap(types), shape)) {
            Map<String, OnnxTensor> feed = new HashMap<>();
            feed.put("input_ids", idsTensor);
            if (inputs.contains("attention_mask")) feed.put("attention_mask", maskTensor);
            if (inputs.contains("token_type_ids")) feed.put("token_type_ids", typesTensor);
            try (OrtSession.Result result = session.run(feed)) {
                OnnxTensor hidden = (OnnxTensor) result.get("last_hidden_state")
                        .orElseThrow(() -> new IllegalStateException("the ONNX model has no output last_hidden_state"));
                long[] outShape = hidden.getInfo().getShape();
                int h = (int) outShape[2];
                FloatBuffer states = hidden.getFloatBuffer();
                float[][] out = new float[b][];
                for (int i = 0; i < b; i++) {
                    out[i] = meanPoolNormalised(states, i * l * h, batch.get(i).length, h);
                }
                return out;
            }
        }
    }

    /** Mean over the first {@code length} token rows (the mask's ones), then L2 normalisation. */
    private static float[] meanPoolNormalised(FloatBuffer states, int offset, int length, int h) {
        float[] sum = new float[h];
        for (int t = 0; t < length; t++) {
            int row = offset + t * h;
            for (int i = 0; i < h; i++) sum[i] += states.get(row + i);
        }
        double norm = 0;
        for (int i = 0; i < h; i++) {
            sum[i] /= length;
            norm += (double) sum[i] * sum[i];
        }
        float inv = (float) (1 / Math.max(Math.sqrt(norm), 1e-12)); // sentence-transformers' Normalize: eps 1e-12
        for (int i = 0; i < h; i++) sum[i] *= inv;
        return sum;
    }

    @Override
    public void close() throws OrtException {
        session.close();
        options.close();
    }
}
