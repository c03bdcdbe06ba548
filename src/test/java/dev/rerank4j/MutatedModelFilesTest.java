package dev.rerank4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rerank4j.io.Json;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Damaged model directories: each trial copies a tiny model (a cross-encoder, a Qwen3 reranker, the same cross-encoder read through vocab.txt and the
 * files beside it instead of tokenizer.json, or ColBERT), damages one of its files
 * (cut short, bytes changed or inserted, a header offset or shape changed, a JSON value replaced or removed) and
 * loads and scores it. Every trial must end in a loaded model or a {@link ModelFormatException} /
 * {@link IllegalArgumentException}: never another exception, a crash or a hang. (Damaged weight values load, and
 * may score NaN: safetensors carries no checksum.)
 */
class MutatedModelFilesTest {
    private static final int TRIALS = 400;
    /** bert-tiny-ce's config and weights with the tokenizer files of a model saved without tokenizer.json. */
    private static final String VOCAB_MODEL = "bert-tiny-ce, vocab.txt";
    private static final List<String> MODELS = List.of("bert-tiny-ce", "colbert-tiny", VOCAB_MODEL, "qwen3-tiny-reranker",
            "mxbai-v2-tiny");
    private static final List<String> FILES = List.of("model.safetensors", "config.json", "tokenizer.json", "tokenizer_config.json",
            "1_Dense/model.safetensors", "1_Dense/config.json", "modules.json", "config_sentence_transformers.json",
            "vocab.txt", "special_tokens_map.json", "added_tokens.json");
    private static final Object[] JSON_VALUES = {null, 0L, -1L, 3_000_000_000L, 1.5, "x", "", true, new ArrayList<>(),
            new LinkedHashMap<>(), "[UNK]", "▁"};

    @TempDir
    Path tmp;

    @Test
    void damagedFilesLoadOrFailWithAClearError() throws IOException {
        Random random = new Random(20261205);
        Map<String, Integer> outcomes = new TreeMap<>();
        List<String> unexpected = new ArrayList<>();
        Path vocabModel = vocabModel(tmp.resolve("vocab-model"));
        for (int trial = 0; trial < TRIALS; trial++) {
            String model = MODELS.get(random.nextInt(MODELS.size()));
            Path dir = Golden.copyTree(model.equals(VOCAB_MODEL) ? vocabModel : Golden.path(model), tmp.resolve("trial-" + trial));
            Path file = dir.resolve(FILES.get(random.nextInt(FILES.size())));
            if (!Files.exists(file)) continue;
            byte[] bytes = Files.readAllBytes(file);
            String damage = damage(file.getFileName().toString(), bytes, random, damaged -> Files.write(file, damaged));
            String outcome;
            try (Reranker reranker = Reranker.load(dir, Options.defaults().withBackend(Options.BackendChoice.CPU))) {
                reranker.score("where is berlin", List.of("berlin has museums", "", "paris"));
                outcome = "loaded";
            } catch (ModelFormatException | IllegalArgumentException e) {
                outcome = e.getClass().getSimpleName();
            } catch (RuntimeException | Error e) {
                outcome = "unexpected";
                unexpected.add(model + "/" + dir.relativize(file) + ", " + damage + ": " + e);
            }
            outcomes.merge(outcome, 1, Integer::sum);
        }
        assertEquals(List.of(), unexpected);
        int tried = outcomes.values().stream().mapToInt(Integer::intValue).sum(); // trials whose file the model has
        assertTrue(outcomes.getOrDefault("ModelFormatException", 0) > tried / 4 && outcomes.getOrDefault("loaded", 0) > tried / 10,
                "both outcomes are exercised: " + outcomes);
    }

    /** {@code bytes} with {@code inserted} put in at {@code at}. */
    static byte[] withInserted(byte[] bytes, int at, byte[] inserted) {
        byte[] out = new byte[bytes.length + inserted.length];
        System.arraycopy(bytes, 0, out, 0, at);
        System.arraycopy(inserted, 0, out, at, inserted.length);
        System.arraycopy(bytes, at, out, at + inserted.length, bytes.length - at);
        return out;
    }

    private interface Writer {
        void write(byte[] bytes) throws IOException;
    }

    /** Damages {@code bytes} one way, writes them, and says how. */
    private static String damage(String name, byte[] bytes, Random random, Writer writer) throws IOException {
        int way = random.nextInt(name.endsWith(".txt") ? 3 : 5); // vocab.txt is neither JSON nor safetensors
        if (way == 0) {
            int cut = random.nextInt(bytes.length + 1);
            writer.write(java.util.Arrays.copyOf(bytes, cut));
            return "cut to " + cut + " bytes";
        }
        if (way == 1) {
            // in a safetensors file, mostly its header, where a changed byte matters most
            int at = name.endsWith(".safetensors") && random.nextBoolean() ? 8 + random.nextInt(Math.min(bytes.length - 8, 400))
                    : random.nextInt(bytes.length);
            bytes[at] = (byte) random.nextInt(256);
            writer.write(bytes);
            return "byte " + at + " changed";
        }
        if (way == 2) {
            int at = random.nextInt(bytes.length + 1);
            byte[] inserted = new byte[1 + random.nextInt(16)];
            random.nextBytes(inserted);
            writer.write(withInserted(bytes, at, inserted));
            return inserted.length + " bytes inserted at " + at;
        }
        if (name.endsWith(".safetensors")) {
            long length = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            String header = new String(bytes, 8, (int) length, StandardCharsets.UTF_8);
            java.util.regex.Matcher numbers = java.util.regex.Pattern.compile("\\d+").matcher(header);
            List<int[]> spans = new ArrayList<>();
            while (numbers.find()) spans.add(new int[] {numbers.start(), numbers.end()});
            int[] span = spans.get(random.nextInt(spans.size()));
            String[] values = {"0", "1", "2", "7", "33", "9999999999", "18446744073709551615"};
            String value = values[random.nextInt(values.length)];
            byte[] newHeader = (header.substring(0, span[0]) + value + header.substring(span[1])).getBytes(StandardCharsets.UTF_8);
            byte[] out = new byte[8 + newHeader.length + bytes.length - 8 - (int) length];
            ByteBuffer.wrap(out, 0, 8).order(ByteOrder.LITTLE_ENDIAN).putLong(newHeader.length);
            System.arraycopy(newHeader, 0, out, 8, newHeader.length);
            System.arraycopy(bytes, 8 + (int) length, out, 8 + newHeader.length, bytes.length - 8 - (int) length);
            writer.write(out);
            return "header number at " + span[0] + " made " + value;
        }
        Object root = Json.parse(new String(bytes, StandardCharsets.UTF_8));
        List<Object[]> slots = new ArrayList<>(); // {container, key or index}
        collect(root, slots);
        if (slots.isEmpty()) {
            writer.write(bytes);
            return "unchanged";
        }
        Object[] slot = slots.get(random.nextInt(slots.size()));
        Object value = JSON_VALUES[random.nextInt(JSON_VALUES.length)];
        boolean remove = random.nextInt(4) == 0;
        if (slot[0] instanceof Map<?, ?> map) {
            @SuppressWarnings("unchecked")
            Map<String, Object> m = (Map<String, Object>) map;
            if (remove) m.remove((String) slot[1]); else m.put((String) slot[1], value);
        } else {
            @SuppressWarnings("unchecked")
            List<Object> list = (List<Object>) slot[0];
            if (remove) list.remove((int) (Integer) slot[1]); else list.set((Integer) slot[1], value);
        }
        writer.write(Json.write(root).getBytes(StandardCharsets.UTF_8));
        return remove ? "JSON " + slot[1] + " removed" : "JSON " + slot[1] + " set to " + value;
    }

    private static void collect(Object node, List<Object[]> slots) {
        if (node instanceof Map<?, ?> map) {
            for (Object key : new ArrayList<>(map.keySet())) {
                slots.add(new Object[] {map, key});
                collect(map.get(key), slots);
            }
        } else if (node instanceof List<?> list) {
            for (int i = 0; i < list.size(); i++) {
                slots.add(new Object[] {list, i});
                collect(list.get(i), slots);
            }
        }
    }

    private static Path vocabModel(Path dir) throws IOException {
        Files.createDirectories(dir);
        for (String f : List.of("config.json", "model.safetensors")) Files.copy(Golden.path("bert-tiny-ce").resolve(f), dir.resolve(f));
        Path layout;
        try {
            layout = Path.of(MutatedModelFilesTest.class.getResource("/tokenize/vocab-files/map").toURI());
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        for (String f : List.of("vocab.txt", "tokenizer_config.json", "special_tokens_map.json")) Files.copy(layout.resolve(f), dir.resolve(f));
        Files.writeString(dir.resolve("added_tokens.json"), "{\"[NEW]\": 1199, \"newword\": 1198}");
        return dir;
    }

}
