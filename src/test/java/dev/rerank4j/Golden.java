package dev.rerank4j;

import dev.rerank4j.io.Json;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;

/** Test fixtures: golden files under src/test/resources/golden/ and resources of test dependencies. */
public final class Golden {
    /** The system property choosing the backend golden tests run on: CPU when unset, CUDA in tools/gpu-check. */
    public static final String BACKEND_PROPERTY = "rerank4j.test.backend";
    /**
     * The logit bar for BF16/F16 checkpoints, whose linear layers run on tensor cores on CUDA: the CPU's bar
     * for them (XlmRobertaTextGoldenTest.BF16_TOLERANCE), which the kernel's hi + lo input split keeps with a
     * wide margin (TensorCoreNumericsTest measures 1.6e-4 on the CPU; a single BF16 rounding gives 9e-2).
     * Not yet confirmed on a GPU.
     */
    public static final double TENSOR_CORE_TOLERANCE = 1e-2;

    private Golden() {}

    /** The backend the golden tests load models on: {@value #BACKEND_PROPERTY}, else CPU. */
    public static Options.BackendChoice backend() {
        String name = System.getProperty(BACKEND_PROPERTY, "CPU");
        return Options.BackendChoice.valueOf(name.trim().toUpperCase(java.util.Locale.ROOT));
    }

    /** The tiny golden BERT (bert-tiny-ce) as a sentence-transformers bi-encoder with mean pooling, copied into {@code dir}. */
    public static Path tinyBiEncoder(Path dir) throws IOException {
        Files.createDirectories(dir);
        try (java.util.stream.Stream<Path> files = Files.list(path("bert-tiny-ce"))) {
            for (Path f : files.toList()) Files.copy(f, dir.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        }
        Map<String, Object> config = Json.parseObject(Files.readString(dir.resolve("config.json")));
        config.remove("architectures");
        Files.writeString(dir.resolve("config.json"), Json.write(config));
        Files.writeString(dir.resolve("modules.json"), """
                [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                 {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]""");
        Files.createDirectories(dir.resolve("1_Pooling"));
        Files.writeString(dir.resolve("1_Pooling/config.json"), "{\"word_embedding_dimension\": 32, \"pooling_mode_mean_tokens\": true}");
        return dir;
    }

    /**
     * The golden cross-encoder {@code name} (config.json, model.safetensors, tokenizer.json, tokenizer_config.json) copied
     * into {@code dir/name}, its config.json's first {@code field} (which must be there) replaced by {@code replacement}.
     */
    public static Path copyWithConfig(String name, Path dir, String field, String replacement) throws IOException {
        Path model = dir.resolve(name);
        Files.createDirectories(model);
        for (String file : List.of("model.safetensors", "tokenizer.json", "tokenizer_config.json")) {
            Files.copy(path(name + "/" + file), model.resolve(file));
        }
        String config = Files.readString(path(name + "/config.json"));
        org.junit.jupiter.api.Assertions.assertTrue(config.contains(field), () -> name + "/config.json has no " + field);
        Files.writeString(model.resolve("config.json"), config.replaceFirst(java.util.regex.Pattern.quote(field),
                java.util.regex.Matcher.quoteReplacement(replacement)));
        return model;
    }

    /** bert-tiny-ce's files but its weights (config, tokenizer), copied into {@code dir} (created), for weights in another form. */
    public static Path tinyCrossEncoderWithoutWeights(Path dir) throws IOException {
        Files.createDirectories(dir);
        for (String f : java.util.List.of("config.json", "tokenizer.json", "tokenizer_config.json")) {
            Files.copy(path("bert-tiny-ce").resolve(f), dir.resolve(f));
        }
        return dir;
    }

    /** {@link Options#defaults()} on the golden tests' {@link #backend()}. */
    public static Options options() {
        return Options.defaults().withBackend(backend());
    }

    /** A directory or file under golden/, as a path on disk. */
    public static Path path(String relative) {
        URL url = Golden.class.getResource("/golden/" + relative);
        if (url == null) throw new IllegalStateException("missing golden resource " + relative);
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    public static Map<String, Object> json(String relative) {
        try {
            return Json.parseObject(Files.readString(path(relative), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @SuppressWarnings("unchecked")
    public static List<Map<String, Object>> list(Map<String, Object> json, String key) {
        return (List<Map<String, Object>>) json.get(key);
    }

    /** The documents a golden file pairs with one query, and their logits. */
    public record OneQuery(String query, List<String> docs, double[] logits) {}

    /**
     * Every pair of the cross-encoder golden file {@code name}.json through tokenizer/tokenizer.json and Reranker: the ids as
     * the reference tokenized them, and the raw logit and the sigmoid within {@code tolerance}. Returns the largest
     * |Δlogit|. The file needs a truncated pair, so that the cut is tested too.
     */
    public static double assertCrossEncoderMatches(String name, double tolerance) throws IOException {
        Map<String, Object> golden = json(name + ".json");
        dev.rerank4j.tokenize.Tokenizer tokenizer = dev.rerank4j.tokenize.TokenizerJson.load(path(name + "/tokenizer.json"));
        List<Map<String, Object>> pairs = list(golden, "pairs");
        org.junit.jupiter.api.Assertions.assertTrue(pairs.stream().anyMatch(p -> Boolean.TRUE.equals(p.get("truncated"))),
                name + ".json has a truncated pair");
        double worst = 0;
        for (Map<String, Object> pair : pairs) {
            int maxLength = ((Number) pair.get("max_length")).intValue();
            String query = (String) pair.get("query"), doc = (String) pair.get("doc");
            org.junit.jupiter.api.Assertions.assertArrayEquals(ints(pair.get("input_ids")), tokenizer.encodePair(query, doc, maxLength).ids(),
                    () -> "ids of " + pair.get("id"));
            try (Reranker raw = Reranker.load(path(name), options().withMaxLength(maxLength).withScoreFunction(Options.ScoreFunction.RAW));
                 Reranker sigmoid = Reranker.load(path(name), options().withMaxLength(maxLength).withScoreFunction(Options.ScoreFunction.SIGMOID))) {
                double logit = ((Number) pair.get("logit")).doubleValue();
                float score = raw.score(query, List.of(doc))[0];
                worst = Math.max(worst, Math.abs(score - logit));
                org.junit.jupiter.api.Assertions.assertEquals(logit, score, tolerance, () -> "logit of " + pair.get("id"));
                // what sentence-transformers' CrossEncoder.predict returned for this model (checked by the generator)
                org.junit.jupiter.api.Assertions.assertEquals(((Number) pair.get("sigmoid")).doubleValue(), sigmoid.score(query, List.of(doc))[0],
                        tolerance, () -> "CrossEncoder.predict's score of " + pair.get("id"));
            }
        }
        System.out.printf("%s: %d pairs, max |Δlogit| = %.2e%n", name, pairs.size(), worst);
        return worst;
    }

    /**
     * The first query of {@code golden}'s pairs at {@code maxLength} with every document paired with it there, in the
     * file's order (at least three, so that a batch of two splits them).
     */
    public static OneQuery firstQueryWithItsDocs(Map<String, Object> golden, int maxLength) {
        List<Map<String, Object>> pairs = list(golden, "pairs").stream()
                .filter(p -> ((Number) p.get("max_length")).intValue() == maxLength).toList();
        String query = (String) pairs.getFirst().get("query");
        List<Map<String, Object>> same = pairs.stream().filter(p -> query.equals(p.get("query"))).toList();
        if (same.size() < 3) throw new IllegalStateException("the golden file has " + same.size() + " docs for one query, not ≥ 3");
        return new OneQuery(query, same.stream().map(p -> (String) p.get("doc")).toList(),
                same.stream().mapToDouble(p -> ((Number) p.get("logit")).doubleValue()).toArray());
    }

    public static int[] ints(Object jsonArray) {
        return ((List<?>) jsonArray).stream().mapToInt(v -> ((Number) v).intValue()).toArray();
    }

    /**
     * Copies the tree at {@code from} into {@code to}, replacing files already there; {@code to} may be in another file
     * system (a zip's). Returns {@code to}.
     */
    public static Path copyTree(Path from, Path to) throws IOException {
        try (java.util.stream.Stream<Path> files = Files.walk(from)) {
            for (Path f : files.toList()) {
                Path target = to.resolve(from.relativize(f).toString());
                if (Files.isDirectory(f)) Files.createDirectories(target);
                else Files.copy(f, target, StandardCopyOption.REPLACE_EXISTING);
            }
        }
        return to;
    }

    /** Copies a classpath resource (e.g. from a test-scope jar) to {@code target}. */
    public static Path copyResource(String resource, Path target) {
        try (InputStream in = Golden.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("missing resource " + resource + " on the test class path");
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
