package dev.rerank4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.rerank4j.io.SafeTensorsWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * On the CPU, a document's score is the same float, bit for bit, whatever else the call holds and however many threads
 * run it: one document alone (the few-rows GEMM, one sequence's attention), a few, or a list long enough for the
 * many-rows GEMM and length-sorted batches. So a caller may cache scores, or split and merge candidate lists, and ranks never flip between
 * two calls on the same texts. (An optimisation whose rounding depends on the batch, such as a Strassen step, breaks it.)
 */
class BatchInvarianceTest {
    private static final String QUERY = "how many people live in berlin?";
    /** The wide model's widths: past the GEMM's k-block of 384, so that a product sums over two and three blocks. */
    private static final int WIDE_HIDDEN = 448, WIDE_INNER = 896, WIDE_HEADS = 7;

    @TempDir
    static Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"bert-tiny-ce", "bi-tiny-cls-dot", "colbert-tiny", "deberta-tiny-ce", "modernbert-tiny-ce",
            "qwen3-tiny-reranker", "mxbai-v2-tiny", "wide"})
    void aDocumentScoresTheSameBitsAloneOrInAnyCompany(String model) {
        Path dir = model.equals("wide") ? wideCrossEncoder() : Golden.path(model);
        List<String> docs = documents(240);
        Options cpu = Options.defaults().withBackend(Options.BackendChoice.CPU); // the CUDA kernels make no such promise
        try (Reranker two = Reranker.load(dir, cpu.withThreads(2)); Reranker one = Reranker.load(dir, cpu.withThreads(1))) {
            float[] all = two.score(QUERY, docs);
            assertArrayEquals(all, one.score(QUERY, docs), "one thread against two");
            for (int size : new int[] {1, 3, 16}) {
                for (int from = 0; from + size <= 48; from += size) {
                    float[] part = two.score(QUERY, docs.subList(from, from + size));
                    assertArrayEquals(Arrays.copyOfRange(all, from, from + size), part, "documents " + from + " to " + (from + size - 1));
                }
            }
        }
    }

    /** bert-tiny-ce's tokenizer and shape, 448 wide with 896 inner, random weights (the golden models are all narrower than a k-block). */
    private static synchronized Path wideCrossEncoder() {
        Path dir = tmp.resolve("wide");
        if (Files.exists(dir.resolve("model.safetensors"))) return dir;
        try {
            Files.createDirectories(dir);
            Path tiny = Golden.path("bert-tiny-ce");
            for (String f : List.of("tokenizer.json", "tokenizer_config.json")) Files.copy(tiny.resolve(f), dir.resolve(f));
            Files.writeString(dir.resolve("config.json"), Files.readString(tiny.resolve("config.json"))
                    .replace("\"hidden_size\": 32", "\"hidden_size\": " + WIDE_HIDDEN)
                    .replace("\"intermediate_size\": 64", "\"intermediate_size\": " + WIDE_INNER)
                    .replace("\"num_attention_heads\": 4", "\"num_attention_heads\": " + WIDE_HEADS));
            Random random = new Random(448);
            SafeTensorsWriter w = new SafeTensorsWriter();
            int h = WIDE_HIDDEN;
            tensor(w, random, "bert.embeddings.word_embeddings.weight", 1200, h);
            tensor(w, random, "bert.embeddings.position_embeddings.weight", 64, h);
            tensor(w, random, "bert.embeddings.token_type_embeddings.weight", 2, h);
            norm(w, random, "bert.embeddings.LayerNorm", h);
            for (int layer = 0; layer < 2; layer++) {
                String l = "bert.encoder.layer." + layer + ".";
                for (String m : List.of("query", "key", "value")) linear(w, random, l + "attention.self." + m, h, h);
                linear(w, random, l + "attention.output.dense", h, h);
                norm(w, random, l + "attention.output.LayerNorm", h);
                linear(w, random, l + "intermediate.dense", WIDE_INNER, h);
                linear(w, random, l + "output.dense", h, WIDE_INNER);
                norm(w, random, l + "output.LayerNorm", h);
            }
            linear(w, random, "bert.pooler.dense", h, h);
            linear(w, random, "classifier", 1, h);
            w.write(dir.resolve("model.safetensors"));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void tensor(SafeTensorsWriter w, Random random, String name, long... shape) {
        float[] values = new float[(int) Arrays.stream(shape).reduce(1, (a, b) -> a * b)];
        for (int i = 0; i < values.length; i++) values[i] = 0.05f * (float) random.nextGaussian();
        w.add(name, shape, values);
    }

    private static void linear(SafeTensorsWriter w, Random random, String name, int out, int in) {
        tensor(w, random, name + ".weight", out, in);
        tensor(w, random, name + ".bias", out);
    }

    private static void norm(SafeTensorsWriter w, Random random, String name, int n) {
        float[] gain = new float[n];
        for (int i = 0; i < n; i++) gain[i] = 1 + 0.1f * (float) random.nextGaussian();
        w.add(name + ".weight", new long[] {n}, gain);
        tensor(w, random, name + ".bias", n);
    }

    /** Words of a small vocabulary, 1 to 120 of them: short documents and documents the models cut. */
    private static List<String> documents(int n) {
        Random random = new Random(20261206);
        String[] words = "berlin city museum river wall people live million capital germany history art music park street".split(" ");
        List<String> docs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            StringBuilder text = new StringBuilder();
            for (int w = 1 + random.nextInt(120); w > 0; w--) text.append(words[random.nextInt(words.length)]).append(' ');
            docs.add(text.toString().strip());
        }
        return docs;
    }
}
