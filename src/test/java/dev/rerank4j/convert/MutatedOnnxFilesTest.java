package dev.rerank4j.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rerank4j.ModelFormatException;
import dev.rerank4j.Options;
import dev.rerank4j.Reranker;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Damaged ONNX files: each trial damages {@link TinyOnnxBert}'s export (cut short, bytes changed or inserted; or, on
 * its decoded protobuf fields, a field removed, repeated, moved into another message, given another wire type, another
 * varint or string value, a node's input renamed to a node's output, an initializer renamed, a field added), converts
 * it and, if that worked, loads and scores the result. Every trial must end in a converted model or a
 * {@link ModelFormatException} / {@link IllegalArgumentException}: never another exception, a crash or a hang.
 */
class MutatedOnnxFilesTest {
    private static final int TRIALS = 200;
    /** The words of the base model's embeddings: byte damage goes to the graph's other fields, where it matters. */
    private static final int WORD_EMBEDDING_BYTES = TinyOnnxBert.VOCAB * TinyOnnxBert.HIDDEN * Float.BYTES;
    private static final long[] VARINTS = {0, 1, 2, 3, 4, 7, 8, 30522, -1, Integer.MAX_VALUE, 1L << 31, 1L << 32, 1L << 61,
            1L << 62, Long.MAX_VALUE, Long.MIN_VALUE, 6, 13, 14, 20};
    private static final String[] STRINGS = {"", "x0", "shape4", "MatMul", "Add", "Reshape", "Concat", "Transpose", "Erf",
            "LayerNormalization", "Gemm", "Constant", "Softmax", "Div", "Mul", "Gelu", "value", "epsilon", "transB", "alpha",
            "encoder.layer.99999999999.output.dense.bias", "encoder.layer.2000000000.output.dense.bias",
            "encoder.layer.3.output.dense.bias", "../../etc/passwd", "/etc/passwd", "onnx::MatMul_1", "embeddings.word_embeddings.weight",
            "pooler.dense.bias", "encoder.layer.0.attention.self.query.bias", "a0", "r0", "t0", "scores", "probs", "c_one", "\u0000"};

    @TempDir
    static Path dir;

    static Path tokenizer;

    @BeforeAll
    static void copyTokenizer() throws IOException {
        tokenizer = OnnxModelTest.copyResource("/all-minilm-l6-v2-tokenizer.json", dir.resolve("tokenizer.json"));
    }

    @Test
    void damagedOnnxFilesConvertOrFailWithAClearError() throws IOException {
        byte[] base = TinyOnnxBert.model(1);
        assertEquals("converted", convertAndScore(base, "base"), "the undamaged model converts");
        Random random = new Random(20261206);
        Map<String, Integer> outcomes = new TreeMap<>();
        List<String> unexpected = new ArrayList<>();
        for (int trial = 0; trial < TRIALS; trial++) {
            byte[] bytes = base.clone();
            StringBuilder damage = new StringBuilder();
            for (int round = 1 + random.nextInt(3); round > 0; round--) bytes = damage(bytes, random, damage);
            byte[] damaged = bytes;
            String outcome;
            try {
                outcome = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> convertAndScore(damaged, "trial-"), damage::toString);
            } catch (ModelFormatException | IllegalArgumentException e) {
                outcome = e.getClass().getSimpleName();
            } catch (RuntimeException | Error e) {
                outcome = "unexpected";
                unexpected.add(damage + ": " + e);
            }
            outcomes.merge(outcome, 1, Integer::sum);
        }
        assertEquals(List.of(), unexpected);
        assertTrue(outcomes.getOrDefault("ModelFormatException", 0) > TRIALS / 4 && outcomes.getOrDefault("converted", 0) > TRIALS / 20,
                "both outcomes are exercised: " + outcomes);
    }

    @Test
    void refusesANodeThatReadsItsOwnOutputThroughTransposes() {
        // Transpose "loop" reads "loop": finding what a scores MatMul reads went round it forever
        byte[] more = concat(Proto.field(1, Proto.node("loop", "Transpose", List.of("loop"), List.of("loop"))),
                Proto.field(1, Proto.node("scores2", "MatMul", List.of("loop", "t1"), List.of("s2"))));
        ModelFormatException e = assertRefused(TinyOnnxBert.model(1, "shape4", more), "cycle.onnx");
        assertTrue(e.getMessage().contains("cycle") && e.getMessage().contains("loop"), e.getMessage());
    }

    @Test
    void refusesReshapeTargetsThatAreConcatsOfThemselvesOrOfATreeOfConcats() {
        // "cat" = Concat("cat", ...) overflowed the stack
        byte[] self = Proto.field(1, Proto.node("cat", "Concat", List.of("cat", "shape4"), List.of("cat")));
        assertTrue(assertRefused(TinyOnnxBert.model(1, "cat", self), "self-concat.onnx").getMessage().contains("attention heads"));
        // 40 levels of Concat(next, next): 2^40 lookups
        ByteArrayOutputStream tree = new ByteArrayOutputStream();
        for (int level = 0; level < 40; level++) {
            tree.writeBytes(Proto.field(1, Proto.node("cat" + level, "Concat", List.of("cat" + (level + 1), "cat" + (level + 1)),
                    List.of("cat" + level))));
        }
        assertTrue(assertRefused(TinyOnnxBert.model(1, "cat0", tree.toByteArray()), "concat-tree.onnx").getMessage()
                .contains("attention heads"));
    }

    @Test
    void refusesALayerIndexNoGraphCouldHold() {
        for (String layer : List.of("2000000000", "99999999999")) { // 32 billion tensors expected; not an int
            byte[] more = Proto.field(5, Proto.floatTensor("encoder.layer." + layer + ".output.dense.bias", new long[] {4}, new float[4]));
            ModelFormatException e = assertRefused(TinyOnnxBert.model(1, "shape4", more), "layer-" + layer + ".onnx");
            assertTrue(e.getMessage().contains("encoder.layer." + layer + ".output.dense.bias"), e.getMessage());
        }
    }

    @Test
    void refusesAMatMulWithoutAnOutput() {
        byte[] more = Proto.field(1, Proto.node("orphan", "MatMul", List.of("x0", "onnx::MatMul_1"), List.of()));
        ModelFormatException e = assertRefused(TinyOnnxBert.model(1, "shape4", more), "no-output.onnx");
        assertTrue(e.getMessage().contains("orphan") && e.getMessage().contains("no output"), e.getMessage());
    }

    private static ModelFormatException assertRefused(byte[] onnx, String name) {
        Path file = dir.resolve(name);
        ModelFormatException e = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            Files.write(file, onnx);
            return assertThrows(ModelFormatException.class, () -> OnnxConverter.convert(file, tokenizer, dir.resolve(name + "-out")));
        });
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        return e;
    }

    private static int converted;

    /** "converted" if {@code onnx} converts into a model that loads and scores; throws what the conversion or the load threw. */
    private static String convertAndScore(byte[] onnx, String name) throws IOException {
        Path file = dir.resolve(name + ".onnx");
        Path out = dir.resolve(name + "-out-" + converted++);
        Files.write(file, onnx);
        try {
            OnnxConverter.convert(file, tokenizer, out);
            try (Reranker reranker = Reranker.load(out, Options.defaults().withBackend(Options.BackendChoice.CPU))) {
                reranker.score("where is berlin", List.of("berlin has museums", "", "paris"));
            }
            return "converted";
        } finally {
            dev.rerank4j.io.TemporaryFiles.deleteRecursively(out);
        }
    }

    // ---- damage ----

    /** A protobuf field: its number, wire type, and value (a varint, the bytes, and the fields within when they parse as a message). */
    private static final class Field {
        int number, wire;
        long varint;
        byte[] bytes;
        List<Field> fields;

        Field(int number, int wire) {
            this.number = number;
            this.wire = wire;
        }
    }

    /** Damages {@code bytes} one way, appending how to {@code how}. */
    private static byte[] damage(byte[] bytes, Random random, StringBuilder how) {
        int way = random.nextInt(13);
        int structural = Math.max(1, bytes.length - WORD_EMBEDDING_BYTES);
        if (way == 0) {
            int cut = random.nextInt(bytes.length + 1);
            how.append("cut to ").append(cut).append("; ");
            return Arrays.copyOf(bytes, cut);
        }
        if (way == 1) {
            int at = random.nextInt(Math.min(structural, bytes.length));
            bytes[at] = (byte) random.nextInt(256);
            how.append("byte ").append(at).append(" changed; ");
            return bytes;
        }
        if (way == 2) {
            int at = random.nextInt(Math.min(structural, bytes.length) + 1);
            byte[] inserted = new byte[1 + random.nextInt(8)];
            random.nextBytes(inserted);
            how.append(inserted.length).append(" bytes inserted at ").append(at).append("; ");
            return concat(concat(Arrays.copyOf(bytes, at), inserted), Arrays.copyOfRange(bytes, at, bytes.length));
        }
        List<Field> root = decode(bytes, 0, bytes.length, 0);
        if (root == null) return bytes; // damaged beyond decoding by an earlier round
        List<Field> all = new ArrayList<>();
        List<List<Field>> owners = new ArrayList<>();
        List<List<Field>> messages = new ArrayList<>();
        collect(root, all, owners, messages);
        int pick = random.nextInt(all.size());
        Field f = all.get(pick);
        List<Field> owner = owners.get(pick);
        List<Field> graph = root.stream().filter(x -> x.number == 7 && x.fields != null).findFirst().map(x -> x.fields).orElse(List.of());
        List<Field> nodes = graph.stream().filter(x -> x.number == 1 && x.fields != null).toList();
        List<Field> initializers = graph.stream().filter(x -> x.number == 5 && x.fields != null).toList();
        if (way >= 10 && (nodes.isEmpty() || initializers.isEmpty())) way = 3;
        switch (way) {
            case 3 -> {
                owner.remove(f);
                how.append("field ").append(f.number).append(" removed; ");
            }
            case 4 -> {
                owner.add(random.nextInt(owner.size() + 1), f);
                how.append("field ").append(f.number).append(" repeated; ");
            }
            case 5 -> {
                List<Field> varints = all.stream().filter(x -> x.wire == ProtoReader.VARINT).toList();
                Field v = varints.get(random.nextInt(varints.size()));
                v.varint = VARINTS[random.nextInt(VARINTS.length)];
                how.append("varint field ").append(v.number).append(" made ").append(v.varint).append("; ");
            }
            case 6 -> {
                List<Field> strings = all.stream().filter(x -> x.wire == ProtoReader.LENGTH_DELIMITED && x.bytes.length < 200).toList();
                Field s = strings.get(random.nextInt(strings.size()));
                String value = STRINGS[random.nextInt(STRINGS.length)];
                set(s, value.getBytes(StandardCharsets.UTF_8));
                how.append("field ").append(s.number).append(" made '").append(value).append("'; ");
            }
            case 7 -> {
                int wire = new int[] {ProtoReader.VARINT, ProtoReader.FIXED64, ProtoReader.LENGTH_DELIMITED, ProtoReader.FIXED32,
                        ProtoReader.START_GROUP}[random.nextInt(5)];
                how.append("field ").append(f.number).append(" given wire type ").append(wire).append("; ");
                f.wire = wire;
                f.varint = 5;
                set(f, new byte[switch (wire) {
                    case ProtoReader.FIXED64 -> 8;
                    case ProtoReader.FIXED32 -> 4;
                    case ProtoReader.LENGTH_DELIMITED -> random.nextInt(5);
                    default -> 0;
                }]);
            }
            case 8 -> {
                owner.remove(f);
                List<Field> to = messages.get(random.nextInt(messages.size()));
                to.add(random.nextInt(to.size() + 1), f);
                how.append("field ").append(f.number).append(" moved; ");
            }
            case 9 -> {
                int number = new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 14, 15, 20}[random.nextInt(14)];
                Field added;
                if (random.nextBoolean()) {
                    added = new Field(number, ProtoReader.VARINT);
                    added.varint = VARINTS[random.nextInt(VARINTS.length)];
                } else {
                    added = new Field(number, ProtoReader.LENGTH_DELIMITED);
                    added.bytes = STRINGS[random.nextInt(STRINGS.length)].getBytes(StandardCharsets.UTF_8);
                }
                owner.add(random.nextInt(owner.size() + 1), added);
                how.append("field ").append(number).append(" added; ");
            }
            case 10, 11 -> { // a node reads an output: its own or another node's, which may close a cycle
                Field node = nodes.get(random.nextInt(nodes.size()));
                Field other = random.nextBoolean() ? node : nodes.get(random.nextInt(nodes.size()));
                List<Field> inputs = node.fields.stream().filter(x -> x.number == 1 && x.wire == ProtoReader.LENGTH_DELIMITED).toList();
                List<Field> outputs = other.fields.stream().filter(x -> x.number == 2 && x.wire == ProtoReader.LENGTH_DELIMITED).toList();
                if (!inputs.isEmpty() && !outputs.isEmpty()) {
                    byte[] name = outputs.get(random.nextInt(outputs.size())).bytes.clone();
                    set(inputs.get(random.nextInt(inputs.size())), name);
                    how.append("a node reads ").append(new String(name, StandardCharsets.UTF_8)).append("; ");
                }
            }
            default -> {
                Field tensor = initializers.get(random.nextInt(initializers.size()));
                String name = STRINGS[random.nextInt(STRINGS.length)];
                for (Field x : tensor.fields) if (x.number == 8 && x.wire == ProtoReader.LENGTH_DELIMITED) set(x, name.getBytes(StandardCharsets.UTF_8));
                how.append("an initializer renamed ").append(name).append("; ");
            }
        }
        return encode(root);
    }

    private static void set(Field f, byte[] bytes) {
        f.bytes = bytes;
        f.fields = null;
    }

    private static void collect(List<Field> message, List<Field> all, List<List<Field>> owners, List<List<Field>> messages) {
        messages.add(message);
        for (Field f : message) {
            all.add(f);
            owners.add(message);
            if (f.fields != null) collect(f.fields, all, owners, messages);
        }
    }

    /** The fields of bytes[from, to), or null if they are not a message. */
    private static List<Field> decode(byte[] b, int from, int to, int depth) {
        List<Field> fields = new ArrayList<>();
        int[] pos = {from};
        while (pos[0] < to) {
            long tag = varint(b, pos, to);
            if (tag < 0 || (tag >>> 3) == 0 || (tag >>> 3) > 1000) return null;
            Field f = new Field((int) (tag >>> 3), (int) (tag & 7));
            switch (f.wire) {
                case ProtoReader.VARINT -> f.varint = varint(b, pos, to);
                case ProtoReader.FIXED64, ProtoReader.FIXED32 -> {
                    int n = f.wire == ProtoReader.FIXED64 ? 8 : 4;
                    if (to - pos[0] < n) return null;
                    f.bytes = Arrays.copyOfRange(b, pos[0], pos[0] + n);
                    pos[0] += n;
                }
                case ProtoReader.LENGTH_DELIMITED -> {
                    long length = varint(b, pos, to);
                    if (length < 0 || length > to - pos[0]) return null;
                    int end = pos[0] + (int) length;
                    f.bytes = Arrays.copyOfRange(b, pos[0], end);
                    if (depth < 8 && length > 0 && length != WORD_EMBEDDING_BYTES) f.fields = decode(b, pos[0], end, depth + 1);
                    pos[0] = end;
                }
                default -> {
                    return null;
                }
            }
            if (f.wire == ProtoReader.VARINT && pos[0] < 0) return null;
            fields.add(f);
        }
        return fields;
    }

    /** A varint, or -1 (and pos past the end) when truncated or too long. */
    private static long varint(byte[] b, int[] pos, int to) {
        long value = 0;
        for (int shift = 0; shift < 64 && pos[0] < to; shift += 7) {
            byte x = b[pos[0]++];
            value |= (long) (x & 0x7f) << shift;
            if (x >= 0) return value;
        }
        pos[0] = Integer.MIN_VALUE;
        return -1;
    }

    private static byte[] encode(List<Field> fields) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Field f : fields) {
            writeVarint(out, (long) f.number << 3 | f.wire);
            if (f.wire == ProtoReader.VARINT) {
                writeVarint(out, f.varint);
            } else if (f.wire == ProtoReader.LENGTH_DELIMITED) {
                byte[] value = f.fields != null ? encode(f.fields) : f.bytes;
                writeVarint(out, value.length);
                out.writeBytes(value);
            } else {
                out.writeBytes(f.bytes);
            }
        }
        return out.toByteArray();
    }

    private static void writeVarint(ByteArrayOutputStream out, long value) {
        while ((value & ~0x7FL) != 0) {
            out.write((int) (value & 0x7F) | 0x80);
            value >>>= 7;
        }
        out.write((int) value);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
