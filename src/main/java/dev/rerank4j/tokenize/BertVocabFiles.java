package dev.rerank4j.tokenize;

import dev.rerank4j.ModelFormatException;
import dev.rerank4j.io.Json;
import dev.rerank4j.io.Utf8;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The WordPiece tokenizer of a BERT-family model saved before tokenizer.json existed: {@code vocab.txt}, and where
 * present {@code tokenizer_config.json}, {@code special_tokens_map.json} and {@code added_tokens.json}. Built as
 * transformers' {@code BertTokenizer} builds it from those files (transformers 5.23, models/bert/tokenization_bert.py;
 * {@code AutoTokenizer} maps ELECTRA's and DistilBERT's tokenizers onto it): BertNormalizer(clean_text,
 * handle_chinese_chars = tokenize_chinese_chars, strip_accents, lowercase = do_lower_case), BertPreTokenizer,
 * WordPiece("##", 100 characters a word, unk_token), the template {@code [CLS] A [SEP] B [SEP]} with B's type 1, and the
 * special tokens matched in the raw text. The pieces become a tokenizer.json tree for {@link TokenizerJson}, so there is
 * one tokenizer code path.
 *
 * <p>Where the files disagree, transformers' order decides (checked by tools/make_vocab_fixture.py and a review's 63
 * layouts): added_tokens_decoder, where tokenizer_config.json has one, and then special_tokens_map.json and
 * added_tokens.json are not read; else special_tokens_map.json over tokenizer_config.json over the defaults. Every token
 * keeps its vocab.txt id, whatever id the files write. What transformers would resolve by rules of its own is refused by
 * name: a token missing from vocab.txt (it would get a new id), additional special tokens in both files,
 * split_special_tokens, *_token keys beyond the standard seven, a null unk, cls or sep token.
 */
public final class BertVocabFiles {
    public static final String VOCAB = "vocab.txt";
    /** The files besides vocab.txt that shape the tokenizer, each optional. */
    public static final List<String> COMPANIONS = List.of("tokenizer_config.json", "special_tokens_map.json", "added_tokens.json");
    /** tokenizer_config.json's tokenizer_class values built this way. */
    private static final Set<String> CLASSES = Set.of("BertTokenizer", "BertTokenizerFast", "ElectraTokenizer",
            "ElectraTokenizerFast", "DistilBertTokenizer", "DistilBertTokenizerFast");
    /** config.json's model_type values whose AutoTokenizer is BertTokenizer, for a folder with no tokenizer_class. */
    private static final Set<String> MODEL_TYPES = Set.of("bert", "electra", "distilbert");
    /** transformers' special-token attributes, in the order it adds them; the last five have BertTokenizer's defaults. */
    private static final List<String> SPECIAL_ATTRIBUTES = List.of("bos_token", "eos_token", "unk_token", "sep_token",
            "pad_token", "cls_token", "mask_token");
    private static final Map<String, String> DEFAULTS = Map.of("unk_token", "[UNK]", "sep_token", "[SEP]",
            "pad_token", "[PAD]", "cls_token", "[CLS]", "mask_token", "[MASK]");

    private final Path dir;
    private final Path vocabFile;
    private final Map<String, Object> tokenizerConfig;
    private final Map<String, Object> specialTokensMap;
    private final Map<String, Long> vocab;
    /** By content, in the order added; an earlier entry keeps its id and flags. */
    private final Map<String, Map<String, Object>> added = new LinkedHashMap<>();

    private BertVocabFiles(Path dir) throws IOException {
        this.dir = dir;
        this.vocabFile = dir.resolve(VOCAB);
        this.tokenizerConfig = optionalObject(dir.resolve("tokenizer_config.json"));
        this.specialTokensMap = optionalObject(dir.resolve("special_tokens_map.json"));
        this.vocab = readVocab(vocabFile);
    }

    /**
     * The tokenizer of {@code dir}'s vocab.txt and the files beside it; {@code modelType} is config.json's, which decides
     * when tokenizer_config.json names no tokenizer class.
     *
     * @throws ModelFormatException if the files name another tokenizer, are malformed, or need an id transformers would make up
     */
    public static Tokenizer load(Path dir, String modelType) throws IOException {
        return new BertVocabFiles(dir).build(modelType);
    }

    private Tokenizer build(String modelType) {
        requireBertTokenizer(modelType);
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
        String unk = null, cls = null, sep = null;
        for (String attribute : SPECIAL_ATTRIBUTES) {
            Object value = specialToken(attribute, map);
            if (value == null) continue;
            String content = addSpecial(value, attribute);
            switch (attribute) {
                case "unk_token" -> unk = content;
                case "cls_token" -> cls = content;
                case "sep_token" -> sep = content;
                default -> { }
            }
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
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("added_tokens", added.values().stream().sorted(Comparator.comparingLong(t -> (Long) t.get("id"))).toList());
        root.put("normalizer", normalizer());
        root.put("pre_tokenizer", Map.of("type", "BertPreTokenizer"));
        root.put("post_processor", template(cls, sep));
        root.put("model", Map.of("type", "WordPiece", "unk_token", unk, "continuing_subword_prefix", "##",
                "max_input_chars_per_word", 100L, "vocab", vocab));
        return TokenizerJson.fromTree(root, vocabFile + " (with the tokenizer files beside it)");
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

    private void requireBertTokenizer(String modelType) {
        Object tokenizerClass = tokenizerConfig.get("tokenizer_class");
        if (tokenizerClass != null) {
            if (!CLASSES.contains(tokenizerClass)) {
                throw new ModelFormatException(dir.resolve("tokenizer_config.json") + ": tokenizer_class " + Json.write(tokenizerClass)
                        + " has no tokenizer.json, and rerank4j builds one from vocab.txt only for " + String.join(", ", CLASSES.stream().sorted().toList())
                        + " (transformers' AutoTokenizer.from_pretrained(dir).save_pretrained(dir) writes tokenizer.json)");
            }
        } else if (!MODEL_TYPES.contains(modelType)) {
            throw new ModelFormatException(dir + ": no tokenizer.json, and rerank4j builds a tokenizer from vocab.txt only for"
                    + " model types " + String.join(", ", MODEL_TYPES.stream().sorted().toList()) + ", not '" + modelType + "'");
        }
    }

    /**
     * The attribute's value: special_tokens_map.json's ({@code map}, empty where transformers does not read it), else
     * tokenizer_config.json's, else BertTokenizer's default. An explicit null removes the token, which transformers
     * allows only for the tokens the template and WordPiece do not need.
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
            return DEFAULTS.get(attribute);
        }
        if (value == null && Set.of("unk_token", "cls_token", "sep_token").contains(attribute)) {
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
     * One added_tokens entry of tokenizer.json, at the token's id in vocab.txt, as transformers gives it whatever id the
     * files write; a token missing from vocab.txt, to which transformers gives the next free id, is refused. Special
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

    private Map<String, Object> normalizer() {
        Map<String, Object> n = new LinkedHashMap<>();
        n.put("type", "BertNormalizer");
        n.put("clean_text", true);
        n.put("handle_chinese_chars", setting("tokenize_chinese_chars", true));
        n.put("strip_accents", tokenizerConfig.get("strip_accents") == null ? null : setting("strip_accents", false));
        n.put("lowercase", setting("do_lower_case", true));
        return n;
    }

    private boolean setting(String name, boolean fallback) {
        Object v = tokenizerConfig.get(name);
        if (v == null) return fallback;
        if (!(v instanceof Boolean b)) {
            throw new ModelFormatException(dir.resolve("tokenizer_config.json") + ": field '" + name + "' must be true or false, found " + Json.write(v));
        }
        return b;
    }

    private Map<String, Object> template(String cls, String sep) {
        Map<String, Object> clsToken = Map.of("SpecialToken", Map.of("id", cls, "type_id", 0L));
        Map<String, Object> a = Map.of("Sequence", Map.of("id", "A", "type_id", 0L));
        Map<String, Object> sep0 = Map.of("SpecialToken", Map.of("id", sep, "type_id", 0L));
        Map<String, Object> b = Map.of("Sequence", Map.of("id", "B", "type_id", 1L));
        Map<String, Object> sep1 = Map.of("SpecialToken", Map.of("id", sep, "type_id", 1L));
        Map<String, Object> specials = new LinkedHashMap<>();
        for (String s : List.of(cls, sep)) {
            specials.put(s, Map.of("id", s, "ids", List.of(added.get(s).get("id")), "tokens", List.of(s)));
        }
        return Map.of("type", "TemplateProcessing", "single", List.of(clsToken, a, sep0),
                "pair", List.of(clsToken, a, sep0, b, sep1), "special_tokens", specials);
    }

    /**
     * Token → id, one token a line, as the tokenizers library's WordPiece reads vocab.txt (transformers hands it the
     * file): lines end at \n (a \r before it goes with the trailing whitespace every line is stripped of), and a token
     * listed twice keeps its last line.
     */
    private static Map<String, Long> readVocab(Path file) throws IOException {
        String text = Utf8.readModelFile(file);
        Map<String, Long> vocab = new LinkedHashMap<>();
        long id = 0;
        int start = 0;
        while (start < text.length()) {
            int end = text.indexOf('\n', start);
            if (end < 0) end = text.length();
            int trimmed = end;
            while (trimmed > start && UnicodeProps.isWhitespace(text.codePointBefore(trimmed))) trimmed -= Character.charCount(text.codePointBefore(trimmed));
            vocab.put(text.substring(start, trimmed), id++);
            start = end + 1;
        }
        if (vocab.isEmpty()) throw new ModelFormatException(file + ": the vocabulary is empty");
        return vocab;
    }

    private static Map<String, Object> optionalObject(Path file) {
        return Files.isRegularFile(file) ? Json.parseObjectFile(file) : Map.of();
    }
}
