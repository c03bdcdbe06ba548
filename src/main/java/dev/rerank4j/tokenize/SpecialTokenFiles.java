package dev.rerank4j.tokenize;

import dev.rerank4j.ModelFormatException;
import dev.rerank4j.io.Json;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The special and added tokens of a model saved without tokenizer.json, as transformers 5.23 reads them beside the
 * vocabulary (tokenization_utils_base.py, _from_pretrained), for {@link BertVocabFiles} and {@link RobertaVocabFiles}.
 * Where the files disagree, transformers' order decides (checked by tools/make_vocab_fixture.py and a review's 63
 * layouts): added_tokens_decoder, where tokenizer_config.json has one, and then special_tokens_map.json and
 * added_tokens.json are not read; else special_tokens_map.json over tokenizer_config.json over the class's defaults.
 * Every token keeps its vocabulary id, whatever id the files write. What transformers would resolve by rules of its own is
 * refused by name: a token missing from the vocabulary (it would get a new id), additional special tokens in both files,
 * split_special_tokens, *_token keys beyond the standard seven, a null token the pipeline needs.
 */
final class SpecialTokenFiles {
    /** transformers' special-token attributes, in the order it adds them. */
    static final List<String> SPECIAL_ATTRIBUTES = List.of("bos_token", "eos_token", "unk_token", "sep_token",
            "pad_token", "cls_token", "mask_token");

    /**
     * The added_tokens entries of a tokenizer.json, by id, and the content of each special-token attribute that is set.
     */
    record Resolved(List<Map<String, Object>> addedTokens, Map<String, String> contents) {}

    private final Path dir;
    private final Path vocabFile;
    private final Map<String, Long> vocab;
    private final Map<String, Object> tokenizerConfig;
    private final Map<String, Object> specialTokensMap;
    private final Map<String, String> defaults;
    private final Set<String> required;
    /** By content, in the order added; an earlier entry keeps its id and flags. */
    private final Map<String, Map<String, Object>> added = new LinkedHashMap<>();

    private SpecialTokenFiles(Path dir, Map<String, Object> tokenizerConfig, Path vocabFile, Map<String, Long> vocab,
                              Map<String, String> defaults, Set<String> required) {
        this.dir = dir;
        this.vocabFile = vocabFile;
        this.vocab = vocab;
        this.tokenizerConfig = tokenizerConfig;
        this.specialTokensMap = optionalObject(dir.resolve("special_tokens_map.json"));
        this.defaults = defaults;
        this.required = required;
    }

    /**
     * The tokens of {@code dir}'s tokenizer files ({@code tokenizerConfig} is its {@link #tokenizerConfig}) over
     * {@code vocab} (read from {@code vocabFile}), with the class's {@code defaults} for attributes no file sets, and the
     * {@code required} attributes refused when set to null.
     */
    static Resolved resolve(Path dir, Map<String, Object> tokenizerConfig, Path vocabFile, Map<String, Long> vocab,
                            Map<String, String> defaults, Set<String> required) {
        return new SpecialTokenFiles(dir, tokenizerConfig, vocabFile, vocab, defaults, required).resolve();
    }

    /** {@code dir}'s tokenizer_config.json, or an empty object where it has none: read once, passed to the rest. */
    static Map<String, Object> tokenizerConfig(Path dir) {
        return optionalObject(dir.resolve("tokenizer_config.json"));
    }

    /** A true/false field of tokenizer_config.json, {@code fallback} where it is absent or null. */
    static boolean setting(Path dir, Map<String, Object> tokenizerConfig, String name, boolean fallback) {
        Object v = tokenizerConfig.get(name);
        if (v == null) return fallback;
        if (!(v instanceof Boolean b)) {
            throw new ModelFormatException(dir.resolve("tokenizer_config.json") + ": field '" + name + "' must be true or false, found " + Json.write(v));
        }
        return b;
    }

    /**
     * Refuses a folder whose tokenizer is not {@code what} (e.g. "vocab.txt"): tokenizer_config.json's tokenizer_class
     * must be one of {@code classes}, or, where it names none, config.json's {@code modelType} one of {@code modelTypes}.
     */
    static void requireTokenizerClass(Path dir, Map<String, Object> tokenizerConfig, String what, Set<String> classes,
                                      Set<String> modelTypes, String modelType) {
        Object tokenizerClass = tokenizerConfig.get("tokenizer_class");
        if (tokenizerClass != null) {
            if (!classes.contains(tokenizerClass)) {
                throw new ModelFormatException(dir.resolve("tokenizer_config.json") + ": tokenizer_class " + Json.write(tokenizerClass)
                        + " has no tokenizer.json, and rerank4j builds one from " + what + " only for "
                        + String.join(", ", classes.stream().sorted().toList())
                        + " (transformers' AutoTokenizer.from_pretrained(dir).save_pretrained(dir) writes tokenizer.json)");
            }
        } else if (!modelTypes.contains(modelType)) {
            throw new ModelFormatException(dir + ": no tokenizer.json, and rerank4j builds a tokenizer from " + what + " only for"
                    + " model types " + String.join(", ", modelTypes.stream().sorted().toList()) + ", not '" + modelType + "'");
        }
    }

    /** The JSON object in {@code file}, or an empty one where there is no such file. */
    private static Map<String, Object> optionalObject(Path file) {
        return Files.isRegularFile(file) ? Json.parseObjectFile(file) : Map.of();
    }

    private Resolved resolve() {
        if (Boolean.TRUE.equals(tokenizerConfig.get("split_special_tokens"))) {
            throw refused("split_special_tokens true (special tokens written in the text split into word pieces)");
        }
        for (String key : tokenizerConfig.keySet()) {
            if (key.endsWith("_token") && !SPECIAL_ATTRIBUTES.contains(key) && tokenizerConfig.get(key) instanceof String) {
                throw refused("the special token " + key + " (transformers adds any such *_token as a special token)");
            }
        }
        // transformers reads special_tokens_map.json and added_tokens.json only where added_tokens_decoder is absent
        boolean decoderGiven = tokenizerConfig.containsKey("added_tokens_decoder");
        Map<String, Object> map = decoderGiven ? Map.of() : specialTokensMap;
        if (decoderGiven) {
            if (!(tokenizerConfig.get("added_tokens_decoder") instanceof Map<?, ?> decoder)) {
                throw new ModelFormatException(dir.resolve("tokenizer_config.json") + ": added_tokens_decoder must be an object");
            }
            for (Map.Entry<?, ?> e : decoder.entrySet()) {
                if (!(e.getValue() instanceof Map<?, ?> token) || !(token.get("content") instanceof String content)) {
                    throw new ModelFormatException(dir.resolve("tokenizer_config.json") + ": added_tokens_decoder." + e.getKey()
                            + ": expected an object with a string 'content'");
                }
                add(content, token, flag(token, "special", false), "added_tokens_decoder");
            }
        }
        Map<String, String> contents = new LinkedHashMap<>();
        for (String attribute : SPECIAL_ATTRIBUTES) {
            Object value = specialToken(attribute, map);
            if (value != null) contents.put(attribute, addSpecial(value, attribute));
        }
        for (Object value : extraSpecialTokens(map)) addSpecial(value, "additional_special_tokens");
        if (!decoderGiven) {
            for (Map.Entry<String, Object> e : optionalObject(dir.resolve("added_tokens.json")).entrySet()) {
                if (added.containsKey(e.getKey())) {
                    throw refused("added_tokens.json naming the special token " + e.getKey()); // transformers then changes its flags
                }
                add(e.getKey(), Map.of(), false, "added_tokens.json");
            }
        }
        return new Resolved(added.values().stream().sorted(Comparator.comparingLong(t -> (Long) t.get("id"))).toList(), contents);
    }

    /**
     * The additional special tokens: tokenizer_config.json's (extra_special_tokens, or additional_special_tokens), or
     * special_tokens_map.json's. Where both files name some, transformers merges them by rules of its own: refused.
     */
    private List<?> extraSpecialTokens(Map<String, Object> map) {
        Object fromConfig = firstPresent(tokenizerConfig, "extra_special_tokens", "additional_special_tokens");
        Object fromMap = firstPresent(map, "extra_special_tokens", "additional_special_tokens");
        if (fromConfig != null && fromMap != null) {
            throw refused("additional special tokens named in both tokenizer_config.json and special_tokens_map.json");
        }
        Object tokens = fromConfig != null ? fromConfig : fromMap;
        if (tokens == null) return List.of();
        if (!(tokens instanceof List<?> list)) throw refused("additional special tokens given as " + Json.typeName(tokens) + ", not a list");
        if (!list.stream().allMatch(String.class::isInstance)) throw refused("additional special tokens given as objects");
        return list;
    }

    /** The first of {@code keys} with a value other than null or an empty list. */
    private static Object firstPresent(Map<String, Object> json, String... keys) {
        for (String key : keys) {
            Object v = json.get(key);
            if (v != null && !(v instanceof List<?> l && l.isEmpty())) return v;
        }
        return null;
    }

    private ModelFormatException refused(String what) {
        return new ModelFormatException(dir + ": " + what + " is not supported without tokenizer.json; write one with"
                + " transformers (AutoTokenizer.from_pretrained(dir).save_pretrained(dir))");
    }

    /**
     * The attribute's value: special_tokens_map.json's ({@code map}, empty where transformers does not read it), else
     * tokenizer_config.json's, else the tokenizer class's default. An explicit null removes the token, which transformers
     * allows only for the tokens the pipeline does not need.
     */
    private Object specialToken(String attribute, Map<String, Object> map) {
        Object value;
        if (map.containsKey(attribute)) {
            value = map.get(attribute);
        } else if (tokenizerConfig.containsKey(attribute)) {
            value = tokenizerConfig.get(attribute);
            if (value instanceof Map<?, ?> m && !"AddedToken".equals(m.get("__type"))) {
                throw refused("tokenizer_config.json's " + attribute + " as an object without \"__type\": \"AddedToken\"");
            }
        } else {
            return defaults.get(attribute);
        }
        if (value == null && required.contains(attribute)) {
            throw refused(attribute + " null");
        }
        return value;
    }

    /** Adds a special token given as a string or an AddedToken object; returns its content. */
    private String addSpecial(Object value, String attribute) {
        Map<?, ?> flags = value instanceof Map<?, ?> m ? m : Map.of();
        Object content = value instanceof Map<?, ?> m ? m.get("content") : value;
        if (!(content instanceof String s)) {
            throw new ModelFormatException(dir + ": special token " + attribute + " is " + Json.write(value)
                    + " (expected a string or an object with a string 'content')");
        }
        add(s, flags, true, "the special token " + attribute);
        return s;
    }

    /**
     * One added_tokens entry of tokenizer.json, at the token's id in the vocabulary, as transformers gives it whatever id
     * the files write; a token missing from the vocabulary, to which transformers gives the next free id, is refused. Special
     * tokens are matched in the raw text unless their flags say otherwise; an earlier entry keeps its flags.
     */
    private void add(String content, Map<?, ?> flags, boolean special, String source) {
        if (added.containsKey(content)) return;
        Long id = vocab.get(content);
        if (id == null) {
            throw new ModelFormatException(vocabFile + ": " + source + " \"" + content + "\" is not in the vocabulary, and"
                    + " transformers would give it a new id; write tokenizer.json with transformers"
                    + " (AutoTokenizer.from_pretrained(dir).save_pretrained(dir)) to use this model");
        }
        Map<String, Object> token = new LinkedHashMap<>();
        token.put("id", id);
        token.put("content", content);
        token.put("single_word", flag(flags, "single_word", false));
        token.put("lstrip", flag(flags, "lstrip", false));
        token.put("rstrip", flag(flags, "rstrip", false));
        token.put("normalized", flag(flags, "normalized", !special));
        token.put("special", special);
        added.put(content, token);
    }

    private static boolean flag(Map<?, ?> flags, String name, boolean fallback) {
        return flags.get(name) instanceof Boolean b ? b : fallback;
    }
}
