package dev.rerank4j.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.rerank4j.Options;
import dev.rerank4j.Reranker;
import dev.rerank4j.tokenize.PairTruncation;
import dev.rerank4j.tokenize.Tokenizer;
import dev.rerank4j.tokenize.TokenizerJson;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * rerank4j vs ONNX Runtime Java on a cross-encoder (query/doc pairs → one logit each): the same model
 * directory for rerank4j ({@code Reranker.score}, raw logits) and its ONNX export for ORT (inputs
 * {@code input_ids}, {@code attention_mask}; output {@code logits}), fed the same pair ids
 * ({@code encodePair(q, d, 512, FIRST_CAPPED_THEN_SECOND)}, as FlagEmbedding cuts XLM-R pairs) in
 * length-sorted batches of 32 padded with {@code pad_token_id} 1. Workload: {@link Workload} (12-token
 * query, docs of 20–256 tokens) generated with the model's own tokenizer. Timed per run: tokenization of
 * every pair plus the forward passes, from strings to 100 logits. Written for the random
 * bge-reranker-base of {@code tools/make_full_size.py} (see bench/README.md).
 *
 * <pre>
 * CrossEncoderSideBySide --model DIR [--onnx FILE (DIR/model.onnx)] [--repeats N (3)] [--warmup N (3)]
 *                        [--seed S] [--threads T] [--csv FILE] [--tolerance X (1e-3)]
 * </pre>
 */
public final class CrossEncoderSideBySide {
    static final int MAX_LENGTH = 512;
    static final int BATCH = 32;
    static final long PAD_ID = 1;

    public static void main(String[] args) throws Exception {
        int repeats = 3, warmup = 3, threads = 2;
        long seed = Workload.DEFAULT_SEED;
        double tolerance = 1e-3;
        Path csv = Path.of("bench/results/cross-encoder-latest.csv");
        Path modelDir = null, onnx = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--model" -> modelDir = Path.of(args[++i]);
                case "--onnx" -> onnx = Path.of(args[++i]);
                case "--repeats" -> repeats = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--seed" -> seed = Long.parseLong(args[++i]);
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--csv" -> csv = Path.of(args[++i]);
                case "--tolerance" -> tolerance = Double.parseDouble(args[++i]);
                default -> {
                    System.err.println("usage: CrossEncoderSideBySide --model DIR [--onnx FILE] [--repeats N] [--warmup N] [--seed S] [--threads T] [--csv FILE] [--tolerance X]");
                    System.exit(2);
                }
            }
        }
        if (modelDir == null) throw new IllegalArgumentException("--model DIR is required");
        if (onnx == null) onnx = modelDir.resolve("model.onnx");

        System.out.println(SideBySide.machine(threads));
        System.out.printf("rerank4j model: %s%nONNX model:     %s%n", modelDir, onnx);
        Tokenizer tokenizer = TokenizerJson.load(modelDir.resolve("tokenizer.json"));
        Workload workload = Workload.generate(tokenizer, Workload.Spec.A, seed, 50);
        System.out.print(workload.describe());
        System.out.println("query: " + workload.query());
        String query = workload.query();
        List<String> texts = workload.docs();
        int pairTokens = 0, longest = 0;
        for (String d : texts) {
            int n = tokenizer.encodePair(query, d, MAX_LENGTH, PairTruncation.FIRST_CAPPED_THEN_SECOND).length();
            pairTokens += n;
            longest = Math.max(longest, n);
        }
        System.out.printf("pairs: %d tokens in all (mean %.1f, longest %d), <s> q </s></s> d </s>%n",
                pairTokens, (double) pairTokens / texts.size(), longest);

        long t0 = System.nanoTime();
        Options options = Options.defaults().withThreads(threads).withBatchSize(BATCH).withMaxLength(MAX_LENGTH)
                .withScoreFunction(Options.ScoreFunction.RAW);
        try (Reranker reranker = Reranker.load(modelDir, options);
             OrtCrossEncoder ort = new OrtCrossEncoder(onnx, tokenizer, threads)) {
            System.out.printf("both engines loaded in %.1f s%n", (System.nanoTime() - t0) / 1e9);
            List<SideBySide.Engine> engines = List.of(
                    SideBySide.engine("rerank4j", reranker::score),
                    SideBySide.engine("ORT sorted batches of 32", ort::score));

            float[][] answers = new float[engines.size()][];
            for (int e = 0; e < engines.size(); e++) answers[e] = engines.get(e).score(query, texts);
            double worst = SideBySide.maxAbsDiff(answers[0], answers[1]);
            double lo = Double.MAX_VALUE, hi = -Double.MAX_VALUE;
            for (float v : answers[1]) {
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
            System.out.printf("logits: ORT range %.5f .. %.5f; max |Δ| rerank4j vs ORT = %.2e over %d pairs (tolerance %.0e) %s%n",
                    lo, hi, worst, texts.size(), tolerance, worst <= tolerance ? "OK" : "FAIL");
            System.out.printf("first logits rerank4j %s%n               ORT      %s%n",
                    Arrays.toString(Arrays.copyOf(answers[0], 4)), Arrays.toString(Arrays.copyOf(answers[1], 4)));
            if (worst > tolerance) {
                System.out.println("FAIL: the engines disagree; no timing run.");
                System.exit(1);
            }

            String name = String.format("%s-query%d-docs%d-len%d-%d-seed%d", modelDir.getFileName(), workload.queryLength(),
                    texts.size(), Workload.Spec.A.minTokens, Workload.Spec.A.maxTokens, seed);
            SideBySide.timeAlternating(engines, query, texts, warmup, repeats, csv, name);
        }
    }

    /** The ONNX export through ORT: pair ids from rerank4j's tokenizer, length-sorted padded batches of 32. */
    static final class OrtCrossEncoder implements AutoCloseable {
        private final OrtEnvironment env;
        private final OrtSession.SessionOptions options;
        private final OrtSession session;
        private final Tokenizer tokenizer;

        OrtCrossEncoder(Path onnxFile, Tokenizer tokenizer, int threads) throws OrtException {
            this.env = OrtEnvironment.getEnvironment();
            this.options = OrtBiEncoder.sessionOptions(threads);
            this.session = env.createSession(onnxFile.toString(), options);
            this.tokenizer = tokenizer;
        }

        /** One raw logit per document, in the documents' order (tokenization included). */
        float[] score(String query, List<String> docs) throws OrtException {
            List<int[]> ids = new ArrayList<>(docs.size());
            for (String d : docs) ids.add(tokenizer.encodePair(query, d, MAX_LENGTH, PairTruncation.FIRST_CAPPED_THEN_SECOND).ids());
            Integer[] order = new Integer[ids.size()];
            for (int i = 0; i < order.length; i++) order[i] = i;
            Arrays.sort(order, Comparator.comparingInt((Integer i) -> -ids.get(i).length));
            float[] out = new float[ids.size()];
            for (int from = 0; from < order.length; from += BATCH) {
                int to = Math.min(order.length, from + BATCH);
                int b = to - from, l = 0;
                for (int j = from; j < to; j++) l = Math.max(l, ids.get(order[j]).length);
                long[] inputIds = new long[b * l];
                long[] mask = new long[b * l];
                Arrays.fill(inputIds, PAD_ID);
                for (int i = 0; i < b; i++) {
                    int[] s = ids.get(order[from + i]);
                    for (int t = 0; t < s.length; t++) {
                        inputIds[i * l + t] = s[t];
                        mask[i * l + t] = 1;
                    }
                }
                long[] shape = {b, l};
                try (OnnxTensor idsTensor = OnnxTensor.createTensor(env, java.nio.LongBuffer.wrap(inputIds), shape);
                     OnnxTensor maskTensor = OnnxTensor.createTensor(env, java.nio.LongBuffer.wrap(mask), shape);
                     OrtSession.Result result = session.run(Map.of("input_ids", idsTensor, "attention_mask", maskTensor))) {
                    float[][] logits = (float[][]) result.get(0).getValue();
                    for (int i = 0; i < b; i++) out[order[from + i]] = logits[i][0];
                }
            }
            return out;
        }

        @Override
        public void close() throws OrtException {
            session.close();
            options.close();
        }
    }
}
