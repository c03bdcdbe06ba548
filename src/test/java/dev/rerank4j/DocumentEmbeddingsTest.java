package dev.rerank4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rerank4j.backend.Backend;
import dev.rerank4j.backend.cpu.CpuBackend;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Saved ColBERT document embeddings, mapped rather than read: files written before the mapping (format version 1)
 * score exactly as they did, a damaged vector is refused when its document is first scored, offsets past 2³¹ floats
 * work, and one loaded object scores the same from many threads.
 *
 * <p>{@code golden/document-embeddings-v1} holds an F32 and an F16 file of 30 random documents (0 to 40 tokens, dim 32,
 * one zero vector) written by {@link DocumentEmbeddings#save} at commit 6292bde, before vectors were mapped, and the
 * scores that commit's {@code CpuBackend.maxSim} gave over {@link DocumentEmbeddings#load}'s arrays for two fixed
 * query vectors (32 and 5 tokens), as float bits. The CPU MaxSim is the same on any vector width (each query token is a
 * lane, summed over d in order; the maxima are exact), so the bits hold on any machine.
 */
class DocumentEmbeddingsTest {
    private static final Path DIR = Golden.path("document-embeddings-v1");
    private static final Map<String, Object> GOLDEN = Golden.json("document-embeddings-v1/scores.json");
    private static final int[] CANDIDATES = Golden.ints(GOLDEN.get("candidates"));
    private static final CpuBackend TWO_THREADS = new CpuBackend(2), ONE_THREAD = new CpuBackend(1);

    @TempDir
    Path tmp;

    @AfterAll
    static void close() {
        TWO_THREADS.close();
        ONE_THREAD.close();
    }

    private static List<Map<String, Object>> queries() {
        return Golden.list(GOLDEN, "queries");
    }

    private static float[] floats(Object bits) {
        int[] b = Golden.ints(bits);
        float[] f = new float[b.length];
        for (int i = 0; i < b.length; i++) f[i] = Float.intBitsToFloat(b[i]);
        return f;
    }

    private static float[] scores(DocumentEmbeddings d, Backend backend, Map<String, Object> query, int[] candidates, long budget) {
        float[] scores = new float[candidates.length];
        d.maxSim(backend, floats(query.get("vectors")), ((Number) query.get("tokens")).intValue(), candidates, scores, budget);
        return scores;
    }

    private static void assertBitIdentical(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]),
                    what + ", candidate " + i + ": " + expected[i] + " before, " + actual[i] + " now");
        }
    }

    @Test
    void version1FilesScoreBitIdenticallyToTheCodeBeforeMappingWhateverTheChunksAndThreads() {
        for (String dtype : List.of("f32", "f16")) {
            DocumentEmbeddings d = DocumentEmbeddings.load(DIR.resolve(dtype + ".safetensors"));
            assertEquals(dtype.equals("f16"), d.half());
            for (Map<String, Object> query : queries()) {
                float[] expected = floats(query.get(dtype));
                // 1 float: a chunk per candidate; 700: several documents per chunk, some documents larger than it
                for (long budget : new long[] {1, 700, DocumentEmbeddings.LANE_FLOATS, Backend.MAX_SIM_CHUNK_FLOATS}) {
                    for (Backend backend : List.of(TWO_THREADS, ONE_THREAD)) {
                        assertBitIdentical(expected, scores(d, backend, query, CANDIDATES, budget),
                                dtype + ", " + query.get("tokens") + " query tokens, chunks of " + budget + " floats, " + backend.lanes() + " lanes");
                    }
                }
                float[] defaults = new float[CANDIDATES.length];
                d.maxSim(TWO_THREADS, floats(query.get("vectors")), ((Number) query.get("tokens")).intValue(), CANDIDATES, defaults);
                assertBitIdentical(expected, defaults, dtype + ", default chunks");
            }
        }
    }


    /**
     * A backend with only the array MaxSim (the CPU kernel's): scoring a version 2 file on it takes
     * {@link Backend#maxSim(float[], int, java.lang.foreign.MemorySegment, boolean, long[], int[], int, float[])}'s default,
     * the copy the CUDA backend goes through.
     */
    private static final Backend ARRAYS_ONLY = new Backend() {
        @Override public String name() { return "arrays-only"; }
        @Override public dev.rerank4j.backend.LinearWeights prepareLinear(dev.rerank4j.io.Tensor weight, dev.rerank4j.io.Tensor bias) { throw new UnsupportedOperationException(); }
        @Override public void linear(float[] x, int rows, dev.rerank4j.backend.LinearWeights w, float[] y, dev.rerank4j.backend.Activation activation) { throw new UnsupportedOperationException(); }
        @Override public void addLayerNorm(float[] x, float[] residual, int rows, int dim, float[] gamma, float[] beta, float eps) { throw new UnsupportedOperationException(); }
        @Override public void attention(float[] qkv, int[] seqStarts, int[] keyLengths, int heads, int headDim, float[] out) { throw new UnsupportedOperationException(); }
        @Override public void maxSim(float[] query, int queryTokens, float[] docs, int[] docOffsets, int[] candidates, int dim, float[] scores) {
            TWO_THREADS.maxSim(query, queryTokens, docs, docOffsets, candidates, dim, scores);
        }
        @Override public void close() {}
    };

    @Test
    void aVersion1FileSavedAgainIsVersion2InDocumentLayoutAndScoresTheSameBitsInPlace() throws IOException {
        for (String dtype : List.of("f32", "f16")) {
            DocumentEmbeddings v1 = DocumentEmbeddings.load(DIR.resolve(dtype + ".safetensors"));
            Path file = tmp.resolve(dtype + "-v2.safetensors");
            v1.save(file, v1.half());
            try (dev.rerank4j.io.SafeTensors st = dev.rerank4j.io.SafeTensors.open(file)) {
                assertEquals("2", st.metadata().get("version"));
                assertEquals("blocks8", st.metadata().get("layout"));
            }
            DocumentEmbeddings v2 = DocumentEmbeddings.load(file);
            assertEquals(v1.half(), v2.half());
            assertEquals(v1.size(), v2.size());
            for (int k = 0; k < v1.size(); k++) assertArrayEquals(v1.vectors(k), v2.vectors(k), dtype + ": row-major rows of document " + k);
            for (Map<String, Object> query : queries()) {
                float[] expected = floats(query.get(dtype));
                for (Backend backend : List.of(TWO_THREADS, ONE_THREAD, ARRAYS_ONLY)) {
                    assertBitIdentical(expected, scores(v2, backend, query, CANDIDATES, DocumentEmbeddings.LANE_FLOATS),
                            dtype + " version 2, " + query.get("tokens") + " query tokens, " + backend.name() + " " + backend.lanes() + " lanes");
                    assertBitIdentical(expected, scores(v1, backend, query, CANDIDATES, DocumentEmbeddings.LANE_FLOATS),
                            dtype + " version 1, " + query.get("tokens") + " query tokens, " + backend.name());
                }
            }
            // the first 8 rows of a document of at least 8 are stored dim-major: element d of row j at 8·d + j
            int doc = 0;
            while (v1.tokenCount(doc) < 8) doc++;
            float[] rows = v1.vectors(doc);
            byte[] bytes = Files.readAllBytes(file);
            int data = 8 + (int) ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            long start = 0;
            for (int k = 0; k < doc; k++) start += v1.tokenCount(k);
            int dim = v1.dim(), size = v1.half() ? 2 : 4;
            for (int j = 0; j < 8; j++) {
                for (int d = 0; d < dim; d++) {
                    int at = data + size * (int) (start * dim + 8L * d + j);
                    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
                    float stored = v1.half() ? Float.float16ToFloat(b.getShort(at)) : b.getFloat(at);
                    assertEquals(rows[j * dim + d], stored, dtype + ": element " + d + " of row " + j + " of document " + doc);
                }
            }
            Path again = tmp.resolve(dtype + "-again.safetensors");
            v2.save(again, v2.half());
            assertArrayEquals(bytes, Files.readAllBytes(again), dtype + ": a version 2 file saved again is the same bytes");
        }
    }

    @Test
    void aLayoutThatDisagreesWithTheVersionIsRefused() throws IOException {
        Path v2 = tmp.resolve("v2.safetensors");
        DocumentEmbeddings.load(DIR.resolve("f32.safetensors")).save(v2);
        String header = new String(Files.readAllBytes(v2), StandardCharsets.UTF_8);
        for (String[] edit : new String[][] {{"\"version\": \"2\"", "\"version\": \"1\""}, {"blocks8", "blocks4"}}) { // same lengths: the header keeps its size
            assertTrue(header.contains(edit[0]), header.substring(0, 200));
            Path file = tmp.resolve("edited.safetensors");
            Files.write(file, new String(Files.readAllBytes(v2), StandardCharsets.ISO_8859_1).replace(edit[0], edit[1]).getBytes(StandardCharsets.ISO_8859_1));
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> DocumentEmbeddings.load(file));
            assertTrue(e.getMessage().contains("__metadata__.layout"), e.getMessage());
        }
    }

    /**
     * Token 4 of document 13 damaged (length about 2.2): the file loads, other documents score their golden bits, and the
     * damaged one is refused each time it is scored or read. Version 1 is row-major; in version 2 the token lies in the
     * document's first block, its element 5 at 8·5 + 4.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(ints = {1, 2})
    void aDamagedVectorLoadsAndIsRefusedWhenItsDocumentIsFirstScoredOrRead(int version) throws IOException {
        Path file = tmp.resolve("v" + version + ".safetensors");
        if (version == 1) Files.copy(DIR.resolve("f32.safetensors"), file);
        else DocumentEmbeddings.load(DIR.resolve("f32.safetensors")).save(file);
        byte[] bytes = Files.readAllBytes(file);
        int data = 8 + (int) ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        int dim = 32, doc = 13, token = 4, firstRowOfDoc = 0 + 1 + 7 + 8 + 9 + 15 + 16 + 17 + 31 + 32 + 33 + 2 + 0;
        int element = version == 1 ? (firstRowOfDoc + token) * dim + 5 : firstRowOfDoc * dim + 8 * 5 + token;
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putFloat(data + 4 * element, 2f);
        Path damaged = tmp.resolve("damaged-v" + version + ".safetensors");
        Files.write(damaged, bytes);

        DocumentEmbeddings d = DocumentEmbeddings.load(damaged);
        Map<String, Object> query = queries().getFirst();
        float[] expected = floats(query.get("f32"));
        int[] others = {0, 1, 12, 14, 29, 3};
        float[] got = scores(d, TWO_THREADS, query, others, 1);
        for (int i = 0; i < others.length; i++) {
            assertEquals(Float.floatToRawIntBits(expected[others[i]]), Float.floatToRawIntBits(got[i]), "document " + others[i]);
        }
        for (int attempt = 0; attempt < 2; attempt++) { // refused every time, not only the first
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> scores(d, TWO_THREADS, query, new int[] {2, doc, 5}, 700));
            assertTrue(e.getMessage().startsWith(damaged.toString()) && e.getMessage().contains("token vector " + token + " of document " + doc)
                    && e.getMessage().contains("expected 1"), e.getMessage());
        }
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> d.vectors(doc));
        assertTrue(e.getMessage().contains("token vector " + token + " of document " + doc), e.getMessage());
        assertEquals(dim * d.tokenCount(doc + 1), d.vectors(doc + 1).length);
    }

    /**
     * A sparse file (no disk blocks for its zeros) of 2³¹ + 4,096 floats: two documents of 2²³ zero vectors (length 0
     * is allowed), then one of 32 real ones that starts past float 2³¹ and byte 4 GB. It loads, and that document scores
     * exactly as the same 32 vectors do in a file of their own. The code before mapping refused the file at load, as
     * more floats than one array holds. Version 1 F16 (scored through the gather) and version 2 F32 (read in place by the
     * kernel at long offsets, 8.6 GB mapped).
     */
    @Test
    void documentsPastTwoToThe31FloatsLoadAndScore() throws IOException {
        sparse(false);
        sparse(true);
    }

    private void sparse(boolean version2) throws IOException {
        int dim = 128, tail = 32;
        long big = 1L << 23, tokens = 2 * big + tail;
        SplittableRandom random = new SplittableRandom(7);
        float[] rows = new float[tail * dim];
        for (int t = 0; t < tail; t++) {
            double n = 0;
            for (int i = 0; i < dim; i++) n += Math.pow(rows[t * dim + i] = (float) random.nextGaussian(), 2);
            for (int i = 0; i < dim; i++) rows[t * dim + i] /= (float) Math.sqrt(n);
        }
        Path small = tmp.resolve("small.safetensors");
        DocumentEmbeddings.of(rows, new long[] {0, tail}, dim, "colbert-d128-sparse").save(small, !version2);

        Path file = tmp.resolve("sparse.safetensors");
        int size = version2 ? 4 : 2;
        String json = "{\"__metadata__\":{\"format\":\"rerank4j.colbert.documents\",\"version\":\"" + (version2 ? "2\",\"layout\":\"blocks8" : "1")
                + "\",\"fingerprint\":\"colbert-d128-sparse\","
                + "\"dim\":\"128\",\"documents\":\"3\"},\"embeddings\":{\"dtype\":\"" + (version2 ? "F32" : "F16") + "\",\"shape\":[" + tokens + "," + dim + "],"
                + "\"data_offsets\":[0," + size * tokens * dim + "]},\"offsets\":{\"dtype\":\"I64\",\"shape\":[4],\"data_offsets\":["
                + size * tokens * dim + "," + (size * tokens * dim + 32) + "]}}";
        byte[] head = (json + " ".repeat((8 - json.length() % 8) % 8)).getBytes(StandardCharsets.US_ASCII);
        long data = 8 + head.length;
        float[] stored = rows.clone();
        if (version2) dev.rerank4j.backend.DocumentLayout.interleave(stored, new int[] {0, tail}, dim);
        ByteBuffer tailVectors = ByteBuffer.allocate(size * tail * dim).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : stored) {
            if (version2) tailVectors.putFloat(v);
            else tailVectors.putShort(Float.floatToFloat16(v));
        }
        ByteBuffer offsets = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN).putLong(0).putLong(big).putLong(2 * big).putLong(tokens);
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(data + size * tokens * dim + 32); // the gap stays a hole: zeros that take no disk
            f.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(head.length).array());
            f.write(head);
            f.seek(data + size * 2 * big * dim);
            f.write(tailVectors.array());
            f.write(offsets.array());
        }
        assertTrue(2 * big * dim > Integer.MAX_VALUE, "the last document starts past float 2^31");

        DocumentEmbeddings d = DocumentEmbeddings.load(file);
        assertEquals(!version2, d.half());
        assertEquals(3, d.size());
        assertEquals(tokens, d.totalTokens());
        assertEquals(tail, d.tokenCount(2));
        DocumentEmbeddings alone = DocumentEmbeddings.load(small);
        assertArrayEquals(alone.vectors(0), d.vectors(2));
        float[] query = Arrays.copyOf(rows, 4 * dim);
        float[] expected = new float[1], got = new float[3];
        alone.maxSim(TWO_THREADS, query, 4, new int[] {0}, expected);
        d.maxSim(TWO_THREADS, query, 4, new int[] {2, 2, 2}, got);
        for (float g : got) assertEquals(Float.floatToRawIntBits(expected[0]), Float.floatToRawIntBits(g), "version 2: " + version2);
        assertTrue(expected[0] > 1, "the query's tokens are among the document's: " + expected[0]);
        Files.delete(file);
        Files.delete(small);
    }


    @Test
    void oneLoadedFileScoresTheSameFromManyThreadsAtOnce() throws Exception {
        for (String dtype : List.of("f32", "f16")) {
            DocumentEmbeddings d = DocumentEmbeddings.load(DIR.resolve(dtype + ".safetensors")); // unchecked: the threads race to check
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<Future<?>> running = new ArrayList<>();
                for (int thread = 0; thread < 8; thread++) {
                    Map<String, Object> query = queries().get(thread % 2);
                    Backend backend = thread % 3 == 0 ? ONE_THREAD : TWO_THREADS;
                    long budget = new long[] {1, 700, DocumentEmbeddings.LANE_FLOATS}[thread % 3];
                    running.add(pool.submit(() -> {
                        for (int repeat = 0; repeat < 50; repeat++) {
                            assertBitIdentical(floats(query.get(dtype)), scores(d, backend, query, CANDIDATES, budget), dtype + " from a thread");
                        }
                        return null;
                    }));
                }
                for (Future<?> f : running) f.get();
            } finally {
                pool.shutdownNow();
            }
        }
    }
}
