package dev.rerank4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Damaged saved ColBERT document embeddings: each trial damages a file {@link DocumentEmbeddings#save} wrote (F32 or
 * F16; cut short, a byte of the header or of the vectors changed, bytes inserted, a header number or word replaced)
 * and loads it and scores every document of it (a damaged vector is refused when its document is first scored, not at
 * load). Every trial must end in a {@link ModelFormatException} / {@link IllegalArgumentException},
 * or in the scores of the undamaged file: never another exception, and never other scores without a word.
 */
class MutatedDocumentEmbeddingsTest {
    private static final int TRIALS = 400;
    /**
     * How far a loaded file's scores may be from the undamaged one's: a changed low bit of a vector component passes the
     * load's 1% check on each vector's length and moves a MaxSim score (a sum of 32 cosines here) by up to 0.3%.
     */
    private static final double SCORE_TOLERANCE = 0.01;
    private static final List<String> DOCS = List.of("berlin has museums", "paris is in france", "", "a b c d e f g", "the quick brown fox");
    private static final int[] ALL = {0, 1, 2, 3, 4};
    private static final String QUERY = "where is berlin";

    @TempDir
    static Path tmp;

    static Reranker reranker;
    static float[] scores;
    static byte[] f32, f16;

    @BeforeAll
    static void saveEmbeddings() throws IOException {
        reranker = Reranker.load(Golden.path("colbert-tiny"), Options.defaults().withBackend(Options.BackendChoice.CPU));
        DocumentEmbeddings embeddings = reranker.encodeDocuments(DOCS);
        scores = reranker.score(QUERY, embeddings, ALL);
        embeddings.save(tmp.resolve("f32.safetensors"));
        embeddings.save(tmp.resolve("f16.safetensors"), true);
        f32 = Files.readAllBytes(tmp.resolve("f32.safetensors"));
        f16 = Files.readAllBytes(tmp.resolve("f16.safetensors"));
    }

    @AfterAll
    static void close() {
        reranker.close();
    }

    @Test
    void damagedFilesAreRefusedOrScoreAsTheUndamagedOne() throws IOException {
        Random random = new Random(20261206);
        Map<String, Integer> outcomes = new TreeMap<>();
        List<String> unexpected = new ArrayList<>();
        Path file = tmp.resolve("damaged.safetensors");
        for (int trial = 0; trial < TRIALS; trial++) {
            boolean half = random.nextBoolean();
            String damage = (half ? "F16, " : "F32, ") + damage((half ? f16 : f32).clone(), random, file);
            // a damaged vector is found when its document is first scored: every document is
            String outcome = outcome(damage, file, loaded -> reranker.score(QUERY, loaded, java.util.stream.IntStream.range(0, loaded.size()).toArray()),
                    scores, k -> SCORE_TOLERANCE * Math.abs(scores[k]), unexpected);
            outcomes.merge(outcome, 1, Integer::sum);
        }
        assertEquals(List.of(), unexpected);
        assertTrue(outcomes.getOrDefault("ModelFormatException", 0) > TRIALS / 2 && outcomes.getOrDefault("loaded", 0) > TRIALS / 20,
                "both outcomes are exercised: " + outcomes);
    }

    @Test
    void refusesF16VectorsLabelledBf16AndAVectorOfAnotherLength() throws IOException {
        Path relabelled = tmp.resolve("bf16.safetensors");
        Files.write(relabelled, withHeader(f16, h -> h.replace("\"F16\"", "\"BF16\""))); // scored 0.0017 for every document
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> DocumentEmbeddings.load(relabelled));
        assertTrue(e.getMessage().startsWith(relabelled.toString()) && e.getMessage().contains("BF16") && e.getMessage().contains("expected F32 or F16"),
                e.getMessage());
        Path scaled = tmp.resolve("scaled.safetensors");
        byte[] bytes = f32.clone();
        int data = 8 + (int) ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        int lastByteOfFirstFloat = data + 3;
        bytes[lastByteOfFirstFloat] ^= 0x20; // the exponent: the first component of the first vector scaled by 2^±64
        Files.write(scaled, bytes);
        DocumentEmbeddings loaded = DocumentEmbeddings.load(scaled); // vectors are checked when first scored, not at load
        e = assertThrows(ModelFormatException.class, () -> reranker.score(QUERY, loaded, ALL));
        assertTrue(e.getMessage().startsWith(scaled.toString()) && e.getMessage().contains("token vector 0 of document 0"), e.getMessage());
        e = assertThrows(ModelFormatException.class, () -> loaded.vectors(0));
        assertTrue(e.getMessage().contains("token vector 0 of document 0"), e.getMessage());
        assertArrayEquals(Arrays.copyOfRange(scores, 1, ALL.length), reranker.score(QUERY, loaded, new int[] {1, 2, 3, 4}), "the other documents score");
    }

    /**
     * Version 1 files (row-major, written before DocumentLayout went to disk) still load and are scored through the gather:
     * golden/document-embeddings-v1's files damaged the same ways, scored with its 32-token query on the CPU backend.
     * Tolerance: a damaged component that keeps its vector's length within 1% moves it by at most about 0.07, so each
     * query token's maximum by about that: 0.1 per query token.
     */
    @Test
    void damagedVersion1FilesAreRefusedOrScoreAsTheUndamagedOne() throws IOException {
        Map<String, Object> golden = Golden.json("document-embeddings-v1/scores.json");
        int[] candidates = Golden.ints(golden.get("candidates"));
        Map<String, Object> query = Golden.list(golden, "queries").getFirst();
        int tokens = ((Number) query.get("tokens")).intValue();
        float[] vectors = bits(query.get("vectors"));
        Random random = new Random(20261207);
        Map<String, Integer> outcomes = new TreeMap<>();
        List<String> unexpected = new ArrayList<>();
        Path file = tmp.resolve("damaged-v1.safetensors");
        try (var cpu = new dev.rerank4j.backend.cpu.CpuBackend(2)) {
            for (int trial = 0; trial < TRIALS / 2; trial++) {
                boolean half = random.nextBoolean();
                float[] expected = bits(query.get(half ? "f16" : "f32"));
                String damage = (half ? "version 1 F16, " : "version 1 F32, ")
                        + damage(Files.readAllBytes(Golden.path("document-embeddings-v1").resolve(half ? "f16.safetensors" : "f32.safetensors")), random, file);
                String outcome = outcome(damage, file, loaded -> {
                    for (int c : candidates) { // as Reranker.score refuses a candidate outside the documents
                        if (c >= loaded.size()) throw new IllegalArgumentException("candidate " + c + " of " + loaded.size());
                    }
                    float[] got = new float[candidates.length];
                    loaded.maxSim(cpu, vectors, tokens, candidates, got);
                    return got;
                }, expected, k -> 0.1 * tokens, unexpected);
                outcomes.merge(outcome, 1, Integer::sum);
            }
        }
        assertEquals(List.of(), unexpected);
        assertTrue(outcomes.getOrDefault("ModelFormatException", 0) > TRIALS / 4 && outcomes.getOrDefault("loaded", 0) > TRIALS / 40,
                "both outcomes are exercised: " + outcomes);
    }

    /**
     * One trial's outcome: "loaded" when {@code file} loads and {@code score} gives scores within {@code tolerance(k)} of
     * {@code expected} (else noted in {@code unexpected}), the simple name of a documented exception, or "unexpected".
     */
    private static String outcome(String damage, Path file, java.util.function.Function<DocumentEmbeddings, float[]> score,
                                  float[] expected, java.util.function.IntToDoubleFunction tolerance, List<String> unexpected) {
        try {
            float[] got = score.apply(DocumentEmbeddings.load(file));
            for (int k = 0; k < expected.length; k++) {
                if (got.length != expected.length || !(Math.abs(got[k] - expected[k]) <= tolerance.applyAsDouble(k))) {
                    unexpected.add(damage + ": loaded, scores " + Arrays.toString(got) + " instead of " + Arrays.toString(expected));
                    break;
                }
            }
            return "loaded";
        } catch (ModelFormatException | IllegalArgumentException e) {
            return e.getClass().getSimpleName();
        } catch (RuntimeException | Error e) {
            unexpected.add(damage + ": " + e);
            return "unexpected";
        }
    }

    private static float[] bits(Object ints) {
        int[] b = Golden.ints(ints);
        float[] f = new float[b.length];
        for (int i = 0; i < b.length; i++) f[i] = Float.intBitsToFloat(b[i]);
        return f;
    }

    private static String damage(byte[] bytes, Random random, Path out) throws IOException {
        int headerLength = (int) ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        int way = random.nextInt(5);
        if (way == 0) {
            int cut = random.nextInt(bytes.length + 1);
            Files.write(out, Arrays.copyOf(bytes, cut));
            return "cut to " + cut + " bytes";
        }
        if (way == 1) {
            int at = random.nextBoolean() ? random.nextInt(8 + headerLength) : random.nextInt(bytes.length);
            bytes[at] = (byte) random.nextInt(256);
            Files.write(out, bytes);
            return "byte " + at + " changed";
        }
        if (way == 2) {
            int at = random.nextInt(bytes.length + 1);
            byte[] inserted = new byte[1 + random.nextInt(8)];
            random.nextBytes(inserted);
            Files.write(out, MutatedModelFilesTest.withInserted(bytes, at, inserted));
            return inserted.length + " bytes inserted at " + at;
        }
        String[] change = new String[1];
        Files.write(out, withHeader(bytes, header -> {
            if (way == 3) {
                Matcher numbers = Pattern.compile("\\d+").matcher(header);
                List<int[]> spans = new ArrayList<>();
                while (numbers.find()) spans.add(new int[] {numbers.start(), numbers.end()});
                int[] span = spans.get(random.nextInt(spans.size()));
                String[] values = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "15", "16", "17", "32", "2147483647", "4294967296",
                        "9999999999", "18446744073709551615"};
                String value = values[random.nextInt(values.length)];
                change[0] = "header number at " + span[0] + " made " + value;
                return header.substring(0, span[0]) + value + header.substring(span[1]);
            }
            String[] from = {"\"F32\"", "\"F16\"", "\"I64\"", "rerank4j.colbert.documents", "\"version\": \"1\"", "\"version\": \"2\"", "blocks8",
                    "colbert-"};
            String[] to = {"\"F16\"", "\"F32\"", "\"I32\"", "\"BF16\"", "\"U8\"", "\"F64\"", "x", "\"version\": \"2\"", "\"version\": \"1\"",
                    "blocks4", "colbert-d8-"};
            String a = from[random.nextInt(from.length)], b = to[random.nextInt(to.length)];
            change[0] = "header " + a + " made " + b;
            return header.replace(a, b);
        }));
        return change[0];
    }

    /** {@code bytes} with their safetensors header edited. */
    private static byte[] withHeader(byte[] bytes, java.util.function.UnaryOperator<String> edit) {
        int length = (int) ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        byte[] header = edit.apply(new String(bytes, 8, length, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[8 + header.length + bytes.length - 8 - length];
        ByteBuffer.wrap(out, 0, 8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length);
        System.arraycopy(header, 0, out, 8, header.length);
        System.arraycopy(bytes, 8 + length, out, 8 + header.length, bytes.length - 8 - length);
        return out;
    }
}
