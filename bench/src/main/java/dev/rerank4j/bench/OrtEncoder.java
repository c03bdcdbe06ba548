package dev.rerank4j.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.rerank4j.tokenize.Tokenizer;

import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A {@link BenchModel} scored through ONNX Runtime Java, the way its users run it: token ids from
 * rerank4j's tokenizer ({@link BenchModel#tokenize}, so every engine sees the same ids), int64
 * {@code input_ids}, {@code attention_mask} and (when the graph has it) {@code token_type_ids} (the pair's
 * segment ids; 0 for a bi-encoder's texts and for padding) in padded [B, L] batches. Bi-encoder: mean pooling of {@code last_hidden_state} over the mask, L2
 * normalisation, dot product with the query's embedding (the query is a batch of its own). Cross-encoder:
 * {@code logits[:, 0]}.
 */
final class OrtEncoder implements AutoCloseable {
    /** How sequences are put into padded batches. */
    enum Batching {
        /** One batch of all sequences padded to the longest one (langchain4j's embedAll). */
        ONE_PADDED_BATCH("ort-padded", "ORT one padded batch"),
        /** Sorted by length, longest first, in batches of 32 padded to the batch's longest (sentence-transformers' encode, CrossEncoder.predict). */
        SORTED_BATCHES_32("ort-sorted32", "ORT sorted batches of 32");

        final String id;
        final String label;

        Batching(String id, String label) {
            this.id = id;
            this.label = label;
        }
    }

    private final OrtEnvironment env;
    private final OrtSession.SessionOptions options;
    private final OrtSession session;
    private final BenchModel model;
    private final Tokenizer tokenizer;
    private final Set<String> inputs;

    /**
     * How the harness runs ONNX Runtime: {@code threads} intra-op threads, one inter-op thread, sequential
     * execution, all graph optimisations, the CPU execution provider.
     */
    static OrtSession.SessionOptions sessionOptions(int threads) throws OrtException {
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setIntraOpNumThreads(threads);
        options.setInterOpNumThreads(1);
        options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
        options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        return options;
    }

    OrtEncoder(Path onnxFile, BenchModel model, Tokenizer tokenizer, int threads) throws OrtException {
        this.env = OrtEnvironment.getEnvironment();
        this.options = sessionOptions(threads);
        this.session = env.createSession(onnxFile.toString(), options);
        this.model = model;
        this.tokenizer = tokenizer;
        this.inputs = session.getInputNames();
    }

    /** One score per document, in the documents' order: what is timed, tokenization included. */
    float[] score(String query, List<String> docs, Batching batching) throws OrtException {
        BenchModel.Ids ids = model.tokenize(tokenizer, query, docs);
        float[][] out = switch (batching) {
            case ONE_PADDED_BATCH -> forward(ids.seqs(), ids.types());
            case SORTED_BATCHES_32 -> forwardSorted(ids.seqs(), ids.types(), SideBySide.BATCH);
        };
        float[] scores = new float[docs.size()];
        if (model.cross) {
            for (int i = 0; i < scores.length; i++) scores[i] = out[i][0];
            return scores;
        }
        float[] q = forward(List.of(ids.query()), null)[0];
        for (int i = 0; i < scores.length; i++) {
            float dot = 0;
            for (int k = 0; k < q.length; k++) dot += q[k] * out[i][k];
            scores[i] = dot;
        }
        return scores;
    }

    private float[][] forwardSorted(List<int[]> seqs, List<int[]> types, int batchSize) throws OrtException {
        Integer[] order = new Integer[seqs.size()];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, Comparator.comparingInt((Integer i) -> -seqs.get(i).length)); // stable: ties keep input order
        float[][] out = new float[seqs.size()][];
        for (int from = 0; from < order.length; from += batchSize) {
            int to = Math.min(order.length, from + batchSize);
            List<int[]> batch = new ArrayList<>(to - from);
            List<int[]> batchTypes = types == null ? null : new ArrayList<>(to - from);
            for (int j = from; j < to; j++) {
                batch.add(seqs.get(order[j]));
                if (types != null) batchTypes.add(types.get(order[j]));
            }
            float[][] rows = forward(batch, batchTypes);
            for (int j = from; j < to; j++) out[order[j]] = rows[j - from];
        }
        return out;
    }

    /**
     * One padded [B, L] run, L = the longest sequence: unit-length mean-pooled embeddings, or {logit} per row;
     * {@code types}: each sequence's segment ids, null for all 0.
     */
    private float[][] forward(List<int[]> batch, List<int[]> types) throws OrtException {
        int b = batch.size();
        int l = 0;
        for (int[] s : batch) l = Math.max(l, s.length);
        long[] ids = new long[b * l];
        long[] mask = new long[b * l];
        long[] segments = new long[b * l];
        Arrays.fill(ids, model.padId);
        for (int i = 0; i < b; i++) {
            int[] s = batch.get(i);
            for (int t = 0; t < s.length; t++) {
                ids[i * l + t] = s[t];
                mask[i * l + t] = 1;
                if (types != null) segments[i * l + t] = types.get(i)[t];
            }
        }
        long[] shape = {b, l};
        try (OnnxTensor idsTensor = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape);
             OnnxTensor maskTensor = OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape);
             OnnxTensor typesTensor = OnnxTensor.createTensor(env, LongBuffer.wrap(segments), shape)) {
            Map<String, OnnxTensor> feed = new HashMap<>();
            feed.put("input_ids", idsTensor);
            if (inputs.contains("attention_mask")) feed.put("attention_mask", maskTensor);
            if (inputs.contains("token_type_ids")) feed.put("token_type_ids", typesTensor);
            try (OrtSession.Result result = session.run(feed)) {
                float[][] out = new float[b][];
                if (model.cross) {
                    float[][] logits = (float[][]) result.get("logits")
                            .orElseThrow(() -> new IllegalStateException("the ONNX model has no output logits")).getValue();
                    for (int i = 0; i < b; i++) out[i] = new float[]{logits[i][0]};
                    return out;
                }
                OnnxTensor hidden = (OnnxTensor) result.get("last_hidden_state")
                        .orElseThrow(() -> new IllegalStateException("the ONNX model has no output last_hidden_state"));
                int h = (int) hidden.getInfo().getShape()[2];
                FloatBuffer states = hidden.getFloatBuffer();
                for (int i = 0; i < b; i++) out[i] = meanPoolNormalised(states, i * l * h, batch.get(i).length, h);
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
