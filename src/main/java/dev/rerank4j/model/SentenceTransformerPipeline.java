package dev.rerank4j.model;

import dev.rerank4j.ModelFormatException;
import dev.rerank4j.io.Json;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A sentence-transformers bi-encoder's files, checked to be a pipeline {@link SentenceEncoder} runs: Transformer →
 * Pooling (mean, the first token's state, or a decoder's last token's) → Normalize (optional), scored by cosine similarity or the dot product, each
 * text after its prompt. Both layouts are read: sentence-transformers ≤ 5 ({@code sentence_transformers.models.Pooling},
 * {@code pooling_mode_mean_tokens}) and 6 ({@code sentence_transformers.sentence_transformer.modules.pooling.Pooling},
 * {@code pooling_mode: "mean"}, where missing modes mean "mean" as its Pooling reads them). Any other module (a Dense
 * projection), pooling or similarity is refused by name rather than skipped.
 *
 * <p>Prompts are taken as sentence-transformers 6.2's {@code encode_query} and {@code encode_document} take them from a
 * loaded model: {@code prompts["query"]} and {@code prompts["document"]}, "" where absent. On load it fills in both keys,
 * so its fallback to "passage" or "corpus", and {@code default_prompt_name}, never apply to them: E5's {"query": "query:
 * ", "passage": "passage: "} prompts its queries and not its documents there (checked, tools/make_golden.py).
 */
final class SentenceTransformerPipeline {
    /** sentence-transformers ≤ 5's boolean pooling keys and the mode each turns on (sentence_transformer/modules/pooling.py). */
    private static final Map<String, String> LEGACY_MODES = legacyModes();

    private SentenceTransformerPipeline() {}

    /**
     * What a bi-encoder's files decide.
     *
     * @param pooling        how the token states become one embedding
     * @param normalize      whether embeddings are scaled to unit length (a Normalize module, or cosine similarity)
     * @param dotProduct     whether similarity_fn_name is the dot product rather than the cosine
     * @param queryPrompt    put before every query ("" for none)
     * @param documentPrompt put before every document ("" for none)
     */
    record Settings(Pooling pooling, boolean normalize, boolean dotProduct, String queryPrompt, String documentPrompt) {}

    /** The Pooling module's modes rerank4j runs. */
    enum Pooling {
        /** The mean over the tokens ("mean"). */
        MEAN,
        /** The first token's state ("cls"). */
        FIRST_TOKEN,
        /** The last token's state ("lasttoken", Qwen3-Embedding's), for a causal decoder. */
        LAST_TOKEN
    }

    /**
     * The bi-encoder {@code dir} holds, if it holds one: empty where it has no modules.json or no Pooling module.
     *
     * @throws ModelFormatException if it is a sentence-transformers pipeline that rerank4j would not run faithfully
     */
    static java.util.Optional<Settings> read(Path dir) {
        Path modules = dir.resolve("modules.json");
        if (!Files.isRegularFile(modules)) return java.util.Optional.empty();
        if (!(Json.parseFile(modules) instanceof List<?> list)) {
            throw new ModelFormatException(modules + ": expected an array of modules");
        }
        String pooling = null;
        boolean normalize = false;
        for (Object module : list) {
            if (!(module instanceof Map<?, ?> m) || !(m.get("type") instanceof String type)) {
                throw new ModelFormatException(modules + ": a module without a string 'type': " + Json.write(module));
            }
            if (type.endsWith(".Transformer")) continue;
            if (type.endsWith(".LogitScore")) return java.util.Optional.empty(); // a CrossEncoder on a causal language model
            if (type.endsWith(".Normalize")) {
                normalize = true;
            } else if (type.endsWith(".Pooling")) {
                pooling = pooling(moduleDir(dir, modules, m, "Pooling").resolve("config.json"));
            } else {
                throw new ModelFormatException(modules + ": module " + Json.write(m.get("name")) + " of type " + type
                        + " is not supported: rerank4j runs bi-encoders as Transformer → Pooling (mean or cls) → Normalize");
            }
        }
        if (pooling == null) return java.util.Optional.empty();
        return java.util.Optional.of(settings(dir.resolve("config_sentence_transformers.json"), pooling, normalize));
    }

    /**
     * The folder of {@code module}, an entry of {@code modules} (dir/modules.json) of the kind named: its 'path', which must be
     * a relative path inside {@code dir}. One that is no path (a NUL, a lone surrogate) threw InvalidPathException, and one
     * such as "../other-model" or "/" was read from outside the model.
     */
    static Path moduleDir(Path dir, Path modules, Map<?, ?> module, String kind) {
        if (!(module.get("path") instanceof String path)) {
            throw new ModelFormatException(modules + ": the " + kind + " module has no string 'path', found " + Json.write(module.get("path")));
        }
        Path relative;
        try {
            relative = dir.getFileSystem().getPath(path);
        } catch (java.nio.file.InvalidPathException e) {
            throw new ModelFormatException(modules + ": the " + kind + " module's path " + Json.write(path) + " is not a path here ("
                    + e.getReason() + ")");
        }
        boolean up = false;
        for (Path part : relative) up |= part.toString().equals("..");
        if (relative.isAbsolute() || relative.getRoot() != null || up) {
            throw new ModelFormatException(modules + ": the " + kind + " module's path " + Json.write(path)
                    + " must be a folder inside the model directory");
        }
        return dir.resolve(relative);
    }

    /** The Pooling module's one mode, "mean", "cls" or "lasttoken"; a prompt kept out of the pooling (include_prompt false) is refused. */
    private static String pooling(Path config) {
        if (!(Json.parseFile(config) instanceof Map<?, ?> p)) throw new ModelFormatException(config + ": expected an object");
        List<String> modes = new ArrayList<>();
        Object mode = p.get("pooling_mode");
        if (mode instanceof String s) {
            modes.add(s);
        } else if (mode instanceof List<?> l && l.stream().allMatch(String.class::isInstance)) {
            l.forEach(x -> modes.add((String) x));
        } else if (mode != null) {
            throw new ModelFormatException(config + ": pooling_mode must be a string or a list of strings, found " + Json.write(mode));
        } else {
            LEGACY_MODES.forEach((key, name) -> {
                if (truthy(p.get(key))) modes.add(name);
            });
            if (modes.isEmpty()) modes.add("mean");
        }
        if (modes.size() != 1 || !List.of("mean", "cls", "lasttoken").contains(modes.getFirst())) {
            throw new ModelFormatException(config + ": pooling " + modes + " is not supported (rerank4j pools by the mean, the first token "
                    + "or the last)");
        }
        if (Boolean.FALSE.equals(p.get("include_prompt"))) {
            throw new ModelFormatException(config + ": include_prompt false is not supported (rerank4j pools the prompt's tokens too)");
        }
        return modes.getFirst();
    }

    /** Python's truth of a JSON value, as sentence-transformers tests the legacy keys ({@code kwargs.get(key, False)}). */
    private static boolean truthy(Object v) {
        return v instanceof Boolean b ? b : v instanceof Number n ? n.doubleValue() != 0
                : v instanceof String str ? !str.isEmpty() : v instanceof List<?> l ? !l.isEmpty() : v instanceof Map<?, ?> m && !m.isEmpty();
    }

    /** The similarity (cosine or dot product) and the prompts of config_sentence_transformers.json, where there is one. */
    private static Settings settings(Path stConfig, String pooling, boolean normalize) {
        Map<String, Object> st = Files.isRegularFile(stConfig) ? Json.parseObjectFile(stConfig) : Map.of();
        Object similarity = st.get("similarity_fn_name");
        boolean dot = "dot".equals(similarity) || "dot_product".equals(similarity);
        if (similarity != null && !"cosine".equals(similarity) && !dot) {
            throw new ModelFormatException(stConfig + ": similarity_fn_name " + Json.write(similarity)
                    + " is not supported (rerank4j scores bi-encoders by cosine similarity or the dot product)");
        }
        Object prompts = st.getOrDefault("prompts", Map.of());
        if (!(prompts instanceof Map<?, ?> byName)) throw new ModelFormatException(stConfig + ": prompts must be an object, found " + Json.write(prompts));
        Pooling mode = switch (pooling) {
            case "cls" -> Pooling.FIRST_TOKEN;
            case "lasttoken" -> Pooling.LAST_TOKEN;
            default -> Pooling.MEAN;
        };
        return new Settings(mode, normalize || !dot, dot, prompt(byName, "query", stConfig), prompt(byName, "document", stConfig));
    }

    private static String prompt(Map<?, ?> prompts, String name, Path stConfig) {
        Object p = prompts.get(name);
        if (p == null) return "";
        if (!(p instanceof String text)) throw new ModelFormatException(stConfig + ": prompt \"" + name + "\" must be a string, found " + Json.write(p));
        return text;
    }

    private static Map<String, String> legacyModes() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("pooling_mode_cls_token", "cls");
        m.put("pooling_mode_max_tokens", "max");
        m.put("pooling_mode_mean_tokens", "mean");
        m.put("pooling_mode_mean_sqrt_len_tokens", "mean_sqrt_len_tokens");
        m.put("pooling_mode_weightedmean_tokens", "weightedmean");
        m.put("pooling_mode_lasttoken", "lasttoken");
        return m;
    }
}
