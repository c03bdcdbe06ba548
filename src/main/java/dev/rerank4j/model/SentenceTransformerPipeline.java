package dev.rerank4j.model;

import dev.rerank4j.ModelFormatException;
import dev.rerank4j.io.Json;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A sentence-transformers bi-encoder's modules.json, checked to be the pipeline {@link SentenceEncoder} runs: Transformer →
 * Pooling (mean) → Normalize (optional: cosine similarity does not need it), scored by cosine similarity. Both layouts
 * are read: sentence-transformers ≤ 5 ({@code sentence_transformers.models.Pooling}, {@code pooling_mode_mean_tokens}) and 6
 * ({@code sentence_transformers.sentence_transformer.modules.pooling.Pooling}, {@code pooling_mode: "mean"}, where
 * missing modes mean "mean" as its Pooling reads them). Any other module (a Dense projection, another pooling), or a
 * dot-product similarity over unnormalised embeddings, is refused by name rather than skipped.
 */
final class SentenceTransformerPipeline {
    /** sentence-transformers ≤ 5's boolean pooling keys and the mode each turns on (sentence_transformer/modules/pooling.py). */
    private static final Map<String, String> LEGACY_MODES = legacyModes();

    private SentenceTransformerPipeline() {}

    /**
     * Whether {@code dir} holds a bi-encoder rerank4j runs: false where it has no modules.json or no Pooling module.
     *
     * @throws ModelFormatException if it is a sentence-transformers pipeline that rerank4j would not run faithfully
     */
    static boolean isMeanPoolingBiEncoder(Path dir) {
        Path modules = dir.resolve("modules.json");
        if (!Files.isRegularFile(modules)) return false;
        if (!(Json.parseFile(modules) instanceof List<?> list)) {
            throw new ModelFormatException(modules + ": expected an array of modules");
        }
        boolean pooling = false, normalize = false;
        for (Object module : list) {
            if (!(module instanceof Map<?, ?> m) || !(m.get("type") instanceof String type)) {
                throw new ModelFormatException(modules + ": a module without a string 'type': " + Json.write(module));
            }
            if (type.endsWith(".Transformer")) continue;
            if (type.endsWith(".Normalize")) {
                normalize = true;
            } else if (type.endsWith(".Pooling")) {
                if (!(m.get("path") instanceof String path)) throw new ModelFormatException(modules + ": the Pooling module has no 'path'");
                requireMeanPooling(dir.resolve(path).resolve("config.json"));
                pooling = true;
            } else {
                throw new ModelFormatException(modules + ": module " + Json.write(m.get("name")) + " of type " + type
                        + " is not supported: rerank4j runs bi-encoders as Transformer → Pooling (mean) → Normalize");
            }
        }
        if (pooling) requireCosineWithoutPrompts(dir.resolve("config_sentence_transformers.json"), normalize);
        return pooling;
    }

    private static void requireMeanPooling(Path config) {
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
        if (!modes.equals(List.of("mean"))) {
            throw new ModelFormatException(config + ": pooling " + modes + " is not supported (rerank4j pools by the mean only)");
        }
    }

    /** Python's truth of a JSON value, as sentence-transformers tests the legacy keys ({@code kwargs.get(key, False)}). */
    private static boolean truthy(Object v) {
        return v instanceof Boolean b ? b : v instanceof Number n ? n.doubleValue() != 0
                : v instanceof String str ? !str.isEmpty() : v instanceof List<?> l ? !l.isEmpty() : v instanceof Map<?, ?> m && !m.isEmpty();
    }

    /**
     * The similarity must be the cosine, and no prompt may be put before the texts: sentence-transformers' encode_query
     * and encode_document would prepend one, which rerank4j does not.
     */
    private static void requireCosineWithoutPrompts(Path stConfig, boolean normalize) {
        if (!Files.isRegularFile(stConfig)) return;
        Map<String, Object> st = Json.parseObjectFile(stConfig);
        if (st.get("prompts") instanceof Map<?, ?> prompts && prompts.values().stream().anyMatch(v -> v != null && !"".equals(v))) {
            throw new ModelFormatException(stConfig + ": prompts " + Json.write(prompts)
                    + " are not supported (rerank4j encodes queries and documents without a prompt)");
        }
        if (st.get("default_prompt_name") != null) {
            throw new ModelFormatException(stConfig + ": default_prompt_name " + Json.write(st.get("default_prompt_name"))
                    + " is not supported (rerank4j encodes queries and documents without a prompt)");
        }
        Object similarity = st.get("similarity_fn_name");
        if (similarity == null || "cosine".equals(similarity)) return;
        if (normalize && Set.of("dot", "dot_product").contains(similarity)) return; // on unit vectors the dot product is the cosine
        throw new ModelFormatException(stConfig + ": similarity_fn_name " + Json.write(similarity)
                + " is not supported" + (normalize ? "" : " without a Normalize module") + " (rerank4j scores bi-encoders by cosine similarity)");
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
