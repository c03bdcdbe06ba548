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
