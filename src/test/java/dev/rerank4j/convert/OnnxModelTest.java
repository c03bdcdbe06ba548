package dev.rerank4j.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rerank4j.ModelFormatException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxModelTest {
    @TempDir
    static Path dir;

    static Path onnx;

    /** Copies the default model's ONNX file (a jar resource) to a real file, once per class. */
    static Path copyResource(String resource, Path target) throws IOException {
        try (InputStream in = OnnxModelTest.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException(resource + " is not on the test class path");
            Files.copy(in, target);
        }
        return target;
    }

    @BeforeAll
    static void copyModel() throws IOException {
        onnx = copyResource("/all-minilm-l6-v2.onnx", dir.resolve("model.onnx"));
    }

    @Test
    void readsInitializersNodesAndInputsOfTheDefaultModel() throws IOException {
        try (OnnxModel model = OnnxModel.open(onnx)) {
            assertEquals(102, model.initializers().size()); // 101 weights + the int64 embeddings.position_ids buffer
            OnnxModel.OnnxTensor words = model.initializer("embeddings.word_embeddings.weight").orElseThrow();
            assertArrayEquals(new long[] {30522, 384}, words.dims());
            assertEquals(OnnxModel.FLOAT, words.dataType());
            assertEquals(List.of("input_ids", "attention_mask", "token_type_ids"),
                    model.inputs().stream().map(OnnxModel.ValueInfo::name).toList());
            assertEquals(OnnxModel.INT64, model.inputs().get(0).elemType());
            assertEquals(48, model.nodes().stream().filter(n -> n.opType().equals("MatMul")).count());
            OnnxModel.Node constant = model.nodes().stream().filter(n -> n.opType().equals("Constant")).findFirst().orElseThrow();
            OnnxModel.Attribute value = constant.attribute("value").orElseThrow();
            assertEquals(OnnxModel.ATTR_TENSOR, value.type());
            assertEquals(1.0f, value.t().floatAt(0)); // the graph's first constant is the 1.0 of the mask (1 - mask)
        }
    }

    @Test
    void rejectsATruncatedFile() throws IOException {
        Path truncated = dir.resolve("truncated.onnx");
        try (InputStream in = Files.newInputStream(onnx); OutputStream out = Files.newOutputStream(truncated)) {
            out.write(in.readNBytes(1 << 20));
        }
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> OnnxModel.open(truncated).close());
        assertTrue(e.getMessage().contains(truncated.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("beyond the end"), e.getMessage());
    }

    @Test
    void rejectsATruncatedVarint() throws IOException {
        Path bad = Files.write(dir.resolve("varint.onnx"), new byte[] {0x08, (byte) 0x80, (byte) 0x80});
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> OnnxModel.open(bad).close());
        assertTrue(e.getMessage().contains("truncated varint"), e.getMessage());
    }

    @Test
    void rejectsAFileWithoutAGraph() throws IOException {
        Path bad = Files.write(dir.resolve("nograph.onnx"), new byte[] {0x08, 0x07}); // ir_version = 7 only
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> OnnxModel.open(bad).close());
        assertTrue(e.getMessage().contains("no graph"), e.getMessage());
    }

    @Test
    void rejectsATensorWhoseDataDoesNotMatchItsShape() throws IOException {
        // graph { initializer { dims: 2, data_type: FLOAT, name: "w", raw_data: 4 bytes } }
        byte[] tensor = {0x08, 0x02, 0x10, 0x01, 0x42, 0x01, 'w', 0x4a, 0x04, 0, 0, 0, 0};
        byte[] graph = concat(new byte[] {0x2a, (byte) tensor.length}, tensor);
        byte[] model = concat(new byte[] {0x3a, (byte) graph.length}, graph);
        Path bad = Files.write(dir.resolve("short.onnx"), model);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> OnnxModel.open(bad).close());
        assertTrue(e.getMessage().contains("tensor w") && e.getMessage().contains("needs 8 bytes"), e.getMessage());
    }

    /** Dims whose bytes overflow a long ([2^61] of INT64: 2^64 bytes, which wrapped to the 0 bytes given) are refused. */
    @Test
    void rejectsATensorLargerThanAnyFile() throws IOException {
        for (long[] dims : new long[][] {{1L << 61}, {1L << 31, 1L << 31, 1L << 31}}) {
            // graph { initializer { dims…, data_type: INT64 (7), name: "w", raw_data: "" } }
            java.io.ByteArrayOutputStream t = new java.io.ByteArrayOutputStream();
            for (long d : dims) t.writeBytes(Proto.varintField(1, d));
            t.writeBytes(Proto.varintField(2, 7));
            t.writeBytes(Proto.field(8, "w"));
            t.writeBytes(Proto.field(9, new byte[0]));
            byte[] model = Proto.field(7, Proto.field(5, t.toByteArray()));
            Path bad = Files.write(dir.resolve("huge.onnx"), model);
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> OnnxModel.open(bad).close());
            assertTrue(e.getMessage().contains("tensor w") && e.getMessage().contains("larger than any file"), e.getMessage());
        }
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
