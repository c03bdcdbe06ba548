package dev.rerank4j.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rerank4j.ModelFormatException;
import dev.rerank4j.io.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Converts the default model's real ONNX file once for the class and checks what came out. */
class OnnxConverterTest {
    @TempDir
    static Path dir;

    static Path onnx;
    static Path tokenizer;
    static Path out;
    static Map<String, Object> header;
    static long dataStart;

    @BeforeAll
    static void convertTheDefaultModel() throws IOException {
        onnx = OnnxModelTest.copyResource("/all-minilm-l6-v2.onnx", dir.resolve("model.onnx"));
        tokenizer = OnnxModelTest.copyResource("/all-minilm-l6-v2-tokenizer.json", dir.resolve("tok.json"));
        out = dir.resolve("models/all-MiniLM-L6-v2");
        OnnxConverter.convert(onnx, tokenizer, out);
        try (FileChannel ch = FileChannel.open(out.resolve("model.safetensors"))) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(len, 0);
            long n = len.getLong(0);
            ByteBuffer json = ByteBuffer.allocate((int) n);
            ch.read(json, 8);
            header = Json.parseObject(new String(json.array(), StandardCharsets.UTF_8));
            dataStart = 8 + n;
        }
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> info(String name) {
        Map<String, Object> info = (Map<String, Object>) header.get(name);
        if (info == null) throw new AssertionError("no tensor " + name + " in the output");
        return info;
    }

    static List<?> shape(String name) {
        return (List<?>) info(name).get("shape");
    }

    static float outputFloat(String name, long index) throws IOException {
        long start = (Long) ((List<?>) info(name).get("data_offsets")).get(0);
        try (FileChannel ch = FileChannel.open(out.resolve("model.safetensors"))) {
            ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(b, dataStart + start + 4 * index);
            return b.getFloat(0);
        }
    }

    @Test
    void writesEveryBertTensorUnderItsHuggingFaceName() {
        List<String> names = header.keySet().stream().filter(k -> !k.equals("__metadata__")).toList();
        assertEquals(5 + 6 * 16, names.size());
        assertTrue(names.stream().noneMatch(n -> n.startsWith("onnx::")), names.toString());
        assertFalse(names.contains("embeddings.position_ids"), "the int64 position_ids buffer is not a weight");
        assertEquals(List.of(30522L, 384L), shape("embeddings.word_embeddings.weight"));
        assertEquals(List.of(384L, 384L), shape("encoder.layer.0.attention.self.query.weight"));
        assertEquals(List.of(1536L, 384L), shape("encoder.layer.0.intermediate.dense.weight"));
        assertEquals(List.of(384L, 1536L), shape("encoder.layer.5.output.dense.weight"));
        assertEquals(List.of(384L), shape("encoder.layer.5.output.LayerNorm.weight"));
        assertEquals("F32", info("encoder.layer.3.attention.output.dense.weight").get("dtype"));
    }

    @Test
    void transposesMatMulWeightsToOutByIn() throws IOException {
        // intermediate.dense of layer 0 is onnx::MatMul_798, stored [384 in, 1536 out] in the ONNX file.
        try (OnnxModel model = OnnxModel.open(onnx)) {
            OnnxModel.OnnxTensor w = model.initializer("onnx::MatMul_798").orElseThrow();
            assertArrayEquals(new long[] {384, 1536}, w.dims());
            for (long[] rc : new long[][] {{0, 0}, {5, 1000}, {383, 1535}, {200, 7}}) {
                long in = rc[0], outIndex = rc[1];
                float onnxValue = w.floatAt(in * 1536 + outIndex);
                float converted = outputFloat("encoder.layer.0.intermediate.dense.weight", outIndex * 384 + in);
                assertEquals(onnxValue, converted, 0f, "element [out=" + outIndex + ", in=" + in + "]");
            }
            OnnxModel.OnnxTensor bias = model.initializer("encoder.layer.0.intermediate.dense.bias").orElseThrow();
            assertEquals(bias.floatAt(17), outputFloat("encoder.layer.0.intermediate.dense.bias", 17), 0f);
        }
    }

    @Test
    void writesABertConfigReadFromTheGraph() throws IOException {
        Map<String, Object> config = Json.parseObject(Files.readString(out.resolve("config.json")));
        assertEquals(List.of("BertModel"), config.get("architectures"));
        assertEquals("bert", config.get("model_type"));
        assertEquals(12L, config.get("num_attention_heads"));
        assertEquals(1e-12, config.get("layer_norm_eps"));
        assertEquals(6L, config.get("num_hidden_layers"));
        assertEquals(384L, config.get("hidden_size"));
        assertEquals(1536L, config.get("intermediate_size"));
        assertEquals(30522L, config.get("vocab_size"));
        assertEquals(512L, config.get("max_position_embeddings"));
        assertEquals(2L, config.get("type_vocab_size"));
        assertEquals("gelu", config.get("hidden_act"));
        assertEquals(0L, config.get("pad_token_id"));
    }

    @Test
    void writesTheSentenceTransformersLayoutAndCopiesTheTokenizer() throws IOException {
        assertTrue(OnnxConverter.isComplete(out));
        assertEquals(-1L, Files.mismatch(tokenizer, out.resolve("tokenizer.json")));
        List<?> modules = (List<?>) Json.parse(Files.readString(out.resolve("modules.json")));
        assertEquals(3, modules.size());
        assertEquals("1_Pooling", ((Map<?, ?>) modules.get(1)).get("path"));
        assertEquals("sentence_transformers.models.Normalize", ((Map<?, ?>) modules.get(2)).get("type"));
        Map<String, Object> pooling = Json.parseObject(Files.readString(out.resolve("1_Pooling/config.json")));
        assertEquals(true, pooling.get("pooling_mode_mean_tokens"));
        assertEquals(384L, pooling.get("word_embedding_dimension"));
        Map<String, Object> sbert = Json.parseObject(Files.readString(out.resolve("sentence_bert_config.json")));
        assertEquals(256L, sbert.get("max_seq_length"));
        assertEquals(false, sbert.get("do_lower_case"));
    }

    @Test
    void leavesNoTemporaryDirectoryBehind() throws IOException {
        try (Stream<Path> s = Files.list(out.getParent())) {
            assertEquals(List.of(out), s.toList());
        }
    }

    @Test
    void refusesToOverwriteANonEmptyDirectory() {
        assertThrows(IllegalArgumentException.class, () -> OnnxConverter.convert(onnx, tokenizer, out));
    }

    /** A file where the output's folder must go is named as the obstacle (the JDK's message was the path alone). */
    @Test
    void namesAFileInTheWayOfTheOutputFolder() throws IOException {
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OnnxConverter.convert(onnx, tokenizer, file.resolve("model")));
        assertTrue(e.getMessage().equals(file.toAbsolutePath() + " is a file, so the folder " + file.toAbsolutePath().resolve("model")
                + " cannot be made there"), e.getMessage());
    }

    /**
     * The same graph with other constants converts to the same tensors and config, so the converter must check
     * them: the attention scale √32 made 8, and GELU's √2 made 1 (each is in the file six times, one per layer).
     */
    @Test
    void refusesAGraphWhoseAttentionScaleOrGeluIsNotBerts() throws IOException {
        ModelFormatException scale = assertThrows(ModelFormatException.class,
                () -> OnnxConverter.convert(withFloat(5.656854f, 8f, "scale.onnx"), tokenizer, dir.resolve("scale-out")));
        assertTrue(scale.getMessage().contains("not 1/√32"), scale.getMessage());
        ModelFormatException gelu = assertThrows(ModelFormatException.class,
                () -> OnnxConverter.convert(withFloat(1.4142135f, 1f, "gelu.onnx"), tokenizer, dir.resolve("gelu-out")));
        assertTrue(gelu.getMessage().contains("GELU"), gelu.getMessage());
    }

    /**
     * A pooler exported as Gemm: torch writes nn.Linear on a 2-D input as Gemm(x, W, b) with transB = 1 and W as
     * Hugging Face stores it, [out, in]; a Gemm with transB = 0 holds W as [in, out] and must be transposed. The pooler
     * is square, so shapes cannot tell the two apart: the values must.
     */
    @Test
    void readsAGemmWeightByItsTransB() throws IOException {
        float[] w = new float[384 * 384];
        for (int i = 0; i < w.length; i++) w[i] = i / 1000f;
        for (int transB : new int[] {1, 0}) {
            Path model = withGemmPooler(w, "pooler.dense.weight", transB, 1f, "gemm-" + transB + ".onnx");
            Path converted = dir.resolve("gemm-out-" + transB);
            OnnxConverter.convert(model, tokenizer, converted);
            try (dev.rerank4j.io.SafeTensors st = dev.rerank4j.io.SafeTensors.open(converted.resolve("model.safetensors"))) {
                dev.rerank4j.io.Tensor pooler = st.tensor("pooler.dense.weight");
                assertArrayEquals(new long[] {384, 384}, pooler.shape());
                for (int[] oi : new int[][] {{0, 1}, {1, 0}, {5, 300}, {383, 2}}) {
                    int o = oi[0], in = oi[1];
                    float expected = transB == 1 ? w[o * 384 + in] : w[in * 384 + o];
                    assertEquals(expected, pooler.get((long) o * 384 + in), 0f, "transB " + transB + ", [out=" + o + ", in=" + in + "]");
                }
                assertEquals(0.5f, st.tensor("pooler.dense.bias").get(3), 0f);
            }
        }
        ModelFormatException scaled = assertThrows(ModelFormatException.class, () -> OnnxConverter.convert(
                withGemmPooler(w, "pooler.dense.weight", 1, 2f, "gemm-alpha.onnx"), tokenizer, dir.resolve("gemm-alpha-out")));
        assertTrue(scaled.getMessage().contains("alpha 2.0") && scaled.getMessage().contains("not a plain linear layer"), scaled.getMessage());
        ModelFormatException unnamed = assertThrows(ModelFormatException.class, () -> OnnxConverter.convert(
                withGemmPooler(w, "onnx::Gemm_9", 1, 1f, "gemm-unnamed.onnx", ""), tokenizer, dir.resolve("gemm-unnamed-out")));
        assertTrue(unnamed.getMessage().contains("cannot name Gemm weight onnx::Gemm_9"), unnamed.getMessage());
    }

    private static Path withGemmPooler(float[] w, String weightName, int transB, float alpha, String name) throws IOException {
        return withGemmPooler(w, weightName, transB, alpha, name, "pooler.dense.bias");
    }

    /**
     * The default model's ONNX file with a pooler appended to its graph: initializers {@code weightName} (384 × 384,
     * {@code w}) and, if {@code biasName} is not empty, that bias (all 0.5), and a Gemm on the last hidden state.
     * Repeated fields of a protobuf message may be appended, so the graph's bytes get more at their end.
     */
    private static Path withGemmPooler(float[] w, String weightName, int transB, float alpha, String name, String biasName)
            throws IOException {
        java.io.ByteArrayOutputStream more = new java.io.ByteArrayOutputStream();
        more.writeBytes(Proto.field(5, Proto.floatTensor(weightName, new long[] {384, 384}, w)));
        List<String> inputs = new java.util.ArrayList<>(List.of("last_hidden_state", weightName));
        if (!biasName.isEmpty()) {
            float[] b = new float[384];
            java.util.Arrays.fill(b, 0.5f);
            more.writeBytes(Proto.field(5, Proto.floatTensor(biasName, new long[] {384}, b)));
            inputs.add(biasName);
        }
        more.writeBytes(Proto.field(1, Proto.node("/pooler/dense/Gemm", "Gemm", inputs, List.of("pooler_dense_out"),
                Proto.intAttribute("transB", transB), Proto.floatAttribute("alpha", alpha))));
        return Files.write(dir.resolve(name), Proto.withGraphAppended(Files.readAllBytes(onnx), more.toByteArray()));
    }

    /** A copy of the default model's ONNX file with every float32 {@code from} in it replaced by {@code to}. */
    private static Path withFloat(float from, float to, String name) throws IOException {
        byte[] bytes = Files.readAllBytes(onnx);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int replaced = 0;
        for (int i = 0; i + 4 <= bytes.length; i++) {
            if (b.getFloat(i) == from) {
                b.putFloat(i, to);
                replaced++;
            }
        }
        assertEquals(6, replaced, "one constant per layer");
        return Files.write(dir.resolve(name), bytes);
    }

    /** all-MiniLM-L6-v2's tokenizer with one added token past its 30,522 rows: the model could not embed it. */
    @Test
    void refusesATokenizerWithIdsPastTheEmbeddingTable() throws IOException {
        Map<String, Object> json = Json.parseObject(Files.readString(tokenizer));
        @SuppressWarnings("unchecked")
        List<Object> added = new java.util.ArrayList<>((List<Object>) json.get("added_tokens"));
        added.add(Map.of("id", 30522L, "content", "[EXTRA]", "single_word", false, "lstrip", false, "rstrip", false,
                "normalized", false, "special", true));
        json.put("added_tokens", added);
        Path bigger = Files.writeString(dir.resolve("bigger-tokenizer.json"), Json.write(json));
        Path target = dir.resolve("bigger-out");
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> OnnxConverter.convert(onnx, bigger, target));
        assertTrue(e.getMessage().contains("30523 ids") && e.getMessage().contains("30522 rows"), e.getMessage());
        assertFalse(Files.exists(target));
    }

    @Test
    void rejectsATruncatedOnnxFileAndWritesNothing() throws IOException {
        Path truncated = dir.resolve("truncated.onnx");
        try (InputStream in = Files.newInputStream(onnx); OutputStream o = Files.newOutputStream(truncated)) {
            o.write(in.readNBytes(50_000_000));
        }
        Path target = dir.resolve("bad/model");
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> OnnxConverter.convert(truncated, tokenizer, target));
        assertTrue(e.getMessage().contains(truncated.toString()), e.getMessage());
        assertFalse(Files.exists(target));
        try (Stream<Path> s = Files.list(target.getParent())) {
            assertEquals(List.of(), s.toList(), "the temporary directory is removed");
        }
    }
}
