package dev.rerank4j.tokenize;

import dev.rerank4j.ModelFormatException;
import dev.rerank4j.io.Json;
import dev.rerank4j.io.Utf8;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Builds a pure-Java {@link Tokenizer} from a Hugging Face {@code tokenizer.json}, giving the same ids as
 * HF tokenizers. Supported: normalizers {@code BertNormalizer}, {@code Sequence}, {@code NFD}/{@code NFC}/
 * {@code NFKD}/{@code NFKC}, {@code Lowercase}, {@code StripAccents}, {@code Precompiled} (SentencePiece
 * charsmaps), {@code Replace}, {@code Strip}; pre-tokenizers {@code BertPreTokenizer}, {@code WhitespaceSplit},
 * {@code Metaspace}, {@code ByteLevel}, {@code Split} (with the Oniguruma regexes {@link OnigurumaRegex} translates),
 * {@code Sequence}; models {@code WordPiece}, {@code Unigram} (without byte fallback), {@code BPE} (byte-level, as
 * RoBERTa's, GPT-2's and Qwen2's, without dropout); post-processors {@code TemplateProcessing}, {@code BertProcessing},
 * {@code RobertaProcessing}, {@code ByteLevel} (which adds no tokens), and a {@code Sequence} of ByteLevel steps and at
 * most one of the others; {@code added_tokens}. Anything else is a {@link ModelFormatException} naming the
 * file, the field and the type. The file's own {@code truncation} and {@code padding} are ignored: the caller
 * passes the maximum length, and nothing is padded.
 *
 * <p>Loading parses the whole file (≈ 0.7 MB for a 30k BERT vocabulary) once; the tokenizer is immutable.
 */
public final class TokenizerJson {
    private final String source;

    private TokenizerJson(String source) {
        this.source = source;
    }

    /** Reads and parses {@code tokenizer.json}. */
    public static Tokenizer load(Path path) throws IOException {
        return fromJson(Utf8.readModelFile(path), path.toString());
    }

    /** Parses the text of a {@code tokenizer.json}; {@code sourceName} names it in error messages. */
    public static Tokenizer fromJson(String json, String sourceName) {
        Map<String, Object> root;
        try {
            root = Json.parseObject(json);
        } catch (RuntimeException e) {
            throw new ModelFormatException(sourceName + ": not valid JSON: " + e.getMessage(), e);
        }
        return new TokenizerJson(sourceName).build(root);
    }

    /** A tokenizer.json already parsed, or built in its shape ({@link BertVocabFiles}); {@code sourceName} names it in errors. */
    static Tokenizer fromTree(Map<String, Object> root, String sourceName) {
        return new TokenizerJson(sourceName).build(root);
    }

    /** A pre_tokenizer object alone, as a tokenizer.json's; {@code sourceName} names it in errors (tests look at the pieces). */
    static PreTokenizer preTokenizerOf(Map<String, Object> preTokenizer, String sourceName) {
        return new TokenizerJson(sourceName).preTokenizer(preTokenizer, "pre_tokenizer");
    }

    private Tokenizer build(Map<String, Object> root) {
        Normalizer normalizer = normalizer(root.get("normalizer"), "normalizer");
        PreTokenizer preTokenizer = preTokenizer(root.get("pre_tokenizer"), "pre_tokenizer");
        TokenModel model = model(object(root.get("model"), "model"));
        List<AddedTokens.Token> added = numbered(addedTokens(root.get("added_tokens")), model);

        Map<String, Integer> addedIds = new HashMap<>();
        List<AddedTokens.Token> raw = new ArrayList<>();
        List<AddedTokens.Token> normalized = new ArrayList<>();
        for (AddedTokens.Token t : added) {
            addedIds.put(t.content(), t.id());
            (t.normalized() ? normalized : raw).add(t);
        }
        TemplateProcessor template = postProcessor(root.get("post_processor"), "post_processor");
        return new PipelineTokenizer(new AddedTokens(raw, Normalizer.IDENTITY), new AddedTokens(normalized, normalizer),
                addedIds, normalizer, preTokenizer, model, template, cutsAtSpaces(root, added, normalizer));
    }

    /**
     * The added tokens with the ids tokenizers gives them, whatever ids the file writes (its AddedVocabulary::add_tokens):
     * a token in the model's vocabulary keeps its id there; another takes the vocabulary's size (its number of entries),
     * or one more than the largest id given so far once that is past it. Consistent files write these ids anyway.
     */
    private static List<AddedTokens.Token> numbered(List<AddedTokens.Token> tokens, TokenModel model) {
        Map<String, Integer> given = new HashMap<>();
        int entries = model.entries();
        int largest = -1;
        List<AddedTokens.Token> out = new ArrayList<>(tokens.size());
        for (AddedTokens.Token t : tokens) {
            Integer id = given.get(t.content());
            if (id == null) {
                int inModel = model.tokenId(t.content());
                id = inModel >= 0 ? inModel : largest < 0 ? entries : largest >= entries || entries == 0 ? largest + 1 : entries;
                given.put(t.content(), id);
            }
            largest = Math.max(largest, id);
            out.add(new AddedTokens.Token(t.content(), id, t.singleWord(), t.lstrip(), t.rstrip(), t.normalized(), t.special()));
        }
        return out;
    }

    /**
     * Whether a text's prefix cut at a {@link SpaceCut} tokenizes to the whole text's first ids. The pre-tokenizer must
     * split at spaces (Metaspace with split, BertPreTokenizer, WhitespaceSplit); every normalizer must work char by char
     * or cluster by cluster, but for a Replace of space runs by one separator (a space, or the Metaspace replacement the
     * pre-tokenizer splits at); and no added token may hold a separator, as written or, for one matched on normalized
     * text, once normalized, so that none can straddle the cut. The models (WordPiece, Unigram) tokenize word by word.
     * Anything else is tokenized whole, as before. (Three reviews, 2026-12-05, built configurations that broke each
     * looser rule: a Replace emptying space runs, making ▁ for a BertPreTokenizer, removing ▁, making a space, or
     * deleting a letter between two spaces; added tokens with a space or ▁ once normalized.)
     */
    private static boolean cutsAtSpaces(Map<String, Object> root, List<AddedTokens.Token> added, Normalizer normalizer) {
        Object preTokenizer = root.get("pre_tokenizer");
        if (!splitsAtSpaces(preTokenizer)) return false;
        Set<Integer> separators = new java.util.HashSet<>(metaspaceReplacements(preTokenizer));
        for (AddedTokens.Token t : added) {
            String matched = t.normalized() ? normalizer.normalize(t.content()) : t.content();
            if (holdsSeparator(t.content(), separators) || holdsSeparator(matched, separators)) return false;
        }
        return localNormalizer(root.get("normalizer"), separators);
    }

    private static boolean holdsSeparator(String text, Set<Integer> metaspaceSeparators) {
        return text.codePoints().anyMatch(cp -> UnicodeProps.isWhitespace(cp) || metaspaceSeparators.contains(cp));
    }

    /** The replacement chars of the Metaspace steps of a pre-tokenizer (▁ in XLM-R's), which it splits words at. */
    private static Set<Integer> metaspaceReplacements(Object value) {
        if (!(value instanceof Map<?, ?> p)) return Set.of();
        if ("Metaspace".equals(p.get("type")) && p.get("replacement") instanceof String r && !r.isEmpty()) return Set.of(r.codePointAt(0));
        if ("Sequence".equals(p.get("type")) && p.get("pretokenizers") instanceof List<?> steps) {
            Set<Integer> all = new java.util.HashSet<>();
            for (Object step : steps) all.addAll(metaspaceReplacements(step));
            return all;
        }
        return Set.of();
    }

    /** Regexes of Replace that match runs of whitespace only (XLM-R's tokenizer.json has " {2,}"). */
    private static final Set<String> WHITESPACE_RUNS = Set.of(" {2,}", " +", "\\s+", "\\s{2,}");

    private static boolean localNormalizer(Object value, Set<Integer> separators) {
        if (value == null) return true;
        if (!(value instanceof Map<?, ?> n)) return false;
        String content = n.get("content") instanceof String c ? c : null;
        return switch (String.valueOf(n.get("type"))) {
            case "BertNormalizer", "NFD", "NFC", "NFKD", "NFKC", "Lowercase", "StripAccents", "Precompiled", "Strip" -> true;
            case "Sequence" -> n.get("normalizers") instanceof List<?> steps && steps.stream().allMatch(step -> localNormalizer(step, separators));
            // only a run of spaces replaced by one separator the pre-tokenizer splits at (XLM-R's " {2,}" → " " or ▁); a
            // literal Replace can join, split or merge words at the cut in more ways than three reviews found rules for
            case "Replace" -> content != null && n.get("pattern") instanceof Map<?, ?> pattern
                    && WHITESPACE_RUNS.contains(String.valueOf(pattern.get("Regex")))
                    && (content.equals(" ") || (content.codePointCount(0, content.length()) == 1 && separators.contains(content.codePointAt(0))));
            default -> false;
        };
    }

    /**
     * Split patterns after which every {@link SpaceCut} falls between two pieces, and nothing before it depends on text
     * after it: Qwen2's and Qwen3's, and Llama-3's (digits in runs of up to three). At a cut, the char before the space is
     * a letter (it ends the letters of {@code [^\r\n\p{L}\p{N}]?\p{L}+} or a contraction), a digit (a piece of its own,
     * or the end of a run of digits) or an ASCII symbol (which ends {@code  ?[^\s\p{L}\p{N}]+[\r\n]*}, as only newlines
     * may follow the symbols); no alternative takes such a char and a space together, and the one lookahead,
     * {@code \s+(?!\S)}, looks one char past a run of whitespace, which before the cut is still before it.
     */
    private static final Set<String> PIECES_END_AT_SPACES = Set.of(
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+");

    /**
     * A step that maps each piece alone and neither splits nor joins them: ByteLevel without its regex (its prefix space,
     * if any, goes before a piece, which is the same piece before a cut as in the whole text).
     */
    private static boolean keepsPieces(Object value) {
        return value instanceof Map<?, ?> p && "ByteLevel".equals(p.get("type")) && Boolean.FALSE.equals(p.get("use_regex"));
    }

    private static boolean splitsAtSpaces(Object value) {
        if (!(value instanceof Map<?, ?> p)) return false; // no pre-tokenizer: the whole text is one word
        return switch (String.valueOf(p.get("type"))) {
            case "BertPreTokenizer", "WhitespaceSplit" -> true;
            case "Metaspace" -> !Boolean.FALSE.equals(p.get("split"));
            // GPT-2's pattern ends every piece at a space after a letter, digit or symbol (pieces take spaces in front)
            case "ByteLevel" -> !Boolean.FALSE.equals(p.get("use_regex"));
            // a pattern from the file may join text across a space (lookbehind, a class holding the space, Removed or
            // merged behaviours): only Qwen2's and Llama-3's, isolated, are known to end a piece at every SpaceCut
            case "Split" -> "Isolated".equals(p.get("behavior")) && Boolean.FALSE.equals(p.get("invert"))
                    && p.get("pattern") instanceof Map<?, ?> pattern && pattern.get("Regex") instanceof String regex
                    && PIECES_END_AT_SPACES.contains(regex);
            case "Sequence" -> p.get("pretokenizers") instanceof List<?> steps && steps.stream().anyMatch(TokenizerJson::splitsAtSpaces)
                    && steps.stream().allMatch(step -> splitsAtSpaces(step) || keepsPieces(step));
            default -> false;
        };
    }

    // ---- added_tokens

    private List<AddedTokens.Token> addedTokens(Object value) {
        List<AddedTokens.Token> tokens = new ArrayList<>();
        if (value == null) {
            return tokens;
        }
        List<Object> list = array(value, "added_tokens");
        for (int i = 0; i < list.size(); i++) {
            String field = "added_tokens[" + i + "]";
            Map<String, Object> t = object(list.get(i), field);
            tokens.add(new AddedTokens.Token(string(t, "content", field), tokenId(t, "id", field),
                    bool(t, "single_word", field, false), bool(t, "lstrip", field, false),
                    bool(t, "rstrip", field, false), bool(t, "normalized", field, false),
                    bool(t, "special", field, false)));
        }
        return tokens;
    }

    // ---- normalizer

    private Normalizer normalizer(Object value, String field) {
        if (value == null) {
            return Normalizer.IDENTITY;
        }
        Map<String, Object> n = object(value, field);
        String type = string(n, "type", field);
        return switch (type) {
            case "BertNormalizer" -> {
                boolean lowercase = bool(n, "lowercase", field, true);
                Object strip = n.get("strip_accents");
                boolean stripAccents = strip == null ? lowercase : bool(n, "strip_accents", field, lowercase);
                yield new BertNormalizer(bool(n, "clean_text", field, true),
                        bool(n, "handle_chinese_chars", field, true), stripAccents, lowercase);
            }
            case "Sequence" -> {
                List<Object> steps = array(n.get("normalizers"), field + ".normalizers");
                List<Normalizer> list = new ArrayList<>();
                for (int i = 0; i < steps.size(); i++) {
                    list.add(normalizer(steps.get(i), field + ".normalizers[" + i + "]"));
                }
                yield Normalizer.sequence(list);
            }
            case "NFD" -> Normalizer.unicode(java.text.Normalizer.Form.NFD);
            case "NFC" -> Normalizer.unicode(java.text.Normalizer.Form.NFC);
            case "NFKD" -> Normalizer.unicode(java.text.Normalizer.Form.NFKD);
            case "NFKC" -> Normalizer.unicode(java.text.Normalizer.Form.NFKC);
            case "Lowercase" -> Normalizer.lowercase();
            case "StripAccents" -> Normalizer.stripAccents();
            case "Precompiled" -> {
                Object map = n.get("precompiled_charsmap");
                if (map == null) { // HF accepts a missing charsmap as "no rules"
                    yield Normalizer.IDENTITY;
                }
                if (!(map instanceof String base64)) {
                    throw new ModelFormatException(source + ": field '" + field
                            + ".precompiled_charsmap': expected a base64 string, found " + Json.typeName(map));
                }
                yield PrecompiledNormalizer.fromBase64(base64, source + ": field '" + field + ".precompiled_charsmap'");
            }
            case "Replace" -> replace(n, field);
            case "Strip" -> Normalizer.strip(bool(n, "strip_left", field, true), bool(n, "strip_right", field, true));
            default -> throw unsupported(field, type,
                    "BertNormalizer, Sequence, NFD, NFC, NFKD, NFKC, Lowercase, StripAccents, Precompiled, Replace, Strip");
        };
    }

    /** {@code {"type": "Replace", "pattern": {"String": s} | {"Regex": r}, "content": c}}. */
    private Normalizer replace(Map<String, Object> n, String field) {
        Map<String, Object> pattern = object(n.get("pattern"), field + ".pattern");
        String content = string(n, "content", field);
        if (pattern.get("String") != null) {
            return Normalizer.replaceString(string(pattern, "String", field + ".pattern"), content);
        }
        String regex = string(pattern, "Regex", field + ".pattern");
        try {
            return Normalizer.replaceRegex(java.util.regex.Pattern.compile(regex), content);
        } catch (java.util.regex.PatternSyntaxException e) {
            throw new ModelFormatException(source + ": field '" + field + ".pattern.Regex': not a valid regex: "
                    + e.getDescription(), e);
        }
    }

    // ---- pre_tokenizer

    private PreTokenizer preTokenizer(Object value, String field) {
        if (value == null) {
            return PreTokenizer.NONE;
        }
        Map<String, Object> p = object(value, field);
        String type = string(p, "type", field);
        return switch (type) {
            case "BertPreTokenizer" -> new BertPreTokenizer();
            case "WhitespaceSplit" -> PreTokenizer.WHITESPACE_SPLIT;
            case "Metaspace" -> metaspace(p, field);
            case "ByteLevel" -> new ByteLevelPreTokenizer(bool(p, "add_prefix_space", field, true), bool(p, "use_regex", field, true));
            case "Split" -> split(p, field);
            case "Sequence" -> {
                List<Object> steps = array(p.get("pretokenizers"), field + ".pretokenizers");
                List<PreTokenizer> list = new ArrayList<>();
                for (int i = 0; i < steps.size(); i++) {
                    list.add(preTokenizer(steps.get(i), field + ".pretokenizers[" + i + "]"));
                }
                yield PreTokenizer.sequence(list);
            }
            default -> throw unsupported(field, type, "BertPreTokenizer, WhitespaceSplit, Metaspace, ByteLevel, Split, Sequence");
        };
    }

    /**
     * {@code {"type": "Split", "pattern": {"Regex": r} | {"String": s}, "behavior": "Isolated", "invert": false}}; HF
     * requires all three fields. A String pattern is a literal (HF escapes it and compiles it as a regex).
     */
    private PreTokenizer split(Map<String, Object> p, String field) {
        Map<String, Object> pattern = object(p.get("pattern"), field + ".pattern");
        java.util.regex.Pattern compiled;
        if (pattern.get("String") != null) {
            compiled = java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(string(pattern, "String", field + ".pattern")));
        } else {
            String regex = string(pattern, "Regex", field + ".pattern");
            try {
                compiled = OnigurumaRegex.compile(regex);
            } catch (IllegalArgumentException e) {
                throw new ModelFormatException(source + ": field '" + field + ".pattern.Regex': " + e.getMessage(), e);
            }
        }
        String behavior = string(p, "behavior", field);
        SplitPreTokenizer.Behavior parsed = null;
        for (SplitPreTokenizer.Behavior b : SplitPreTokenizer.Behavior.values()) if (b.name().equals(behavior)) parsed = b;
        if (parsed == null) {
            throw new ModelFormatException(source + ": field '" + field + ".behavior': expected Removed, Isolated, MergedWithPrevious,"
                    + " MergedWithNext or Contiguous, found '" + behavior + "'");
        }
        if (!(p.get("invert") instanceof Boolean invert)) {
            throw new ModelFormatException(source + ": field '" + field + ".invert': expected a boolean, found "
                    + Json.typeName(p.get("invert")));
        }
        return new SplitPreTokenizer(compiled, parsed, invert);
    }

    /**
     * {@code Metaspace}: {@code replacement}, {@code prepend_scheme} (always/first/never) and {@code split};
     * files written before tokenizers 0.14 have {@code add_prefix_space} instead of {@code prepend_scheme}.
     */
    private PreTokenizer metaspace(Map<String, Object> p, String field) {
        String replacement = string(p, "replacement", field);
        if (replacement.length() != 1) {
            throw new ModelFormatException(source + ": field '" + field + ".replacement': expected one BMP character, found '"
                    + replacement + "'");
        }
        MetaspacePreTokenizer.PrependScheme scheme;
        if (p.get("prepend_scheme") != null) {
            String name = string(p, "prepend_scheme", field);
            scheme = switch (name) {
                case "always" -> MetaspacePreTokenizer.PrependScheme.ALWAYS;
                case "first" -> MetaspacePreTokenizer.PrependScheme.FIRST;
                case "never" -> MetaspacePreTokenizer.PrependScheme.NEVER;
                default -> throw new ModelFormatException(source + ": field '" + field
                        + ".prepend_scheme': expected always, first or never, found '" + name + "'");
            };
        } else {
            scheme = bool(p, "add_prefix_space", field, true)
                    ? MetaspacePreTokenizer.PrependScheme.ALWAYS : MetaspacePreTokenizer.PrependScheme.NEVER;
        }
        return new MetaspacePreTokenizer(replacement.charAt(0), scheme, bool(p, "split", field, true));
    }

    // ---- model

    private TokenModel model(Map<String, Object> m) {
        String type = m.get("type") == null && m.containsKey("max_input_chars_per_word")
                ? "WordPiece" : string(m, "type", "model");
        if (type.equals("Unigram")) {
            return unigram(m);
        }
        if (type.equals("BPE")) {
            return bpe(m);
        }
        if (!type.equals("WordPiece")) {
            throw unsupported("model", type, "WordPiece, Unigram, BPE");
        }
        Map<String, Integer> vocab = vocab(m);
        String unk = string(m, "unk_token", "model");
        Integer unkId = vocab.get(unk);
        if (unkId == null) {
            throw new ModelFormatException(source + ": field 'model.unk_token': '" + unk + "' is not in model.vocab");
        }
        String prefix = m.get("continuing_subword_prefix") == null ? "##" : string(m, "continuing_subword_prefix", "model");
        int maxChars = m.get("max_input_chars_per_word") == null ? 100 : integer(m, "max_input_chars_per_word", "model");
        return new WordPieceModel(vocab, unkId, prefix, maxChars);
    }

    /** {@code {"type": "Unigram", "unk_id": 3, "vocab": [["<s>", 0.0], ...], "byte_fallback": false}}. */
    /** model.vocab: token → id. */
    private Map<String, Integer> vocab(Map<String, Object> m) {
        Map<String, Object> vocabJson = object(m.get("vocab"), "model.vocab");
        Map<String, Integer> vocab = new HashMap<>(vocabJson.size() * 2);
        for (Map.Entry<String, Object> e : vocabJson.entrySet()) {
            int id = idOf(e.getValue());
            if (id < 0) {
                throw new ModelFormatException(source + ": field 'model.vocab' entry '" + e.getKey()
                        + "': expected an id from 0 to " + MAX_ID + ", found " + e.getValue());
            }
            vocab.put(e.getKey(), id);
        }
        return vocab;
    }

    /**
     * A BPE model as RoBERTa's and GPT-2's tokenizer.json have it: merges as "a b" lines or [a, b] pairs (tokenizers ≥
     * 0.20), each merged token in the vocabulary. Dropout, byte fallback and subword prefixes or suffixes, which those
     * files do not use, are refused.
     */
    private TokenModel bpe(Map<String, Object> m) {
        if (m.get("dropout") != null && !(m.get("dropout") instanceof Number d && d.doubleValue() == 0)) {
            throw new ModelFormatException(source + ": field 'model.dropout': " + m.get("dropout") + " is not supported (only null or 0)");
        }
        if (bool(m, "byte_fallback", "model", false)) {
            throw new ModelFormatException(source + ": field 'model.byte_fallback': true is not supported");
        }
        for (String key : List.of("continuing_subword_prefix", "end_of_word_suffix")) {
            if (m.get(key) != null && !"".equals(m.get(key))) {
                throw new ModelFormatException(source + ": field 'model." + key + "': " + Json.write(m.get(key)) + " is not supported");
            }
        }
        Map<String, Integer> vocab = vocab(m);
        int unkId = -1;
        if (m.get("unk_token") != null) {
            Integer id = vocab.get(string(m, "unk_token", "model"));
            if (id == null) throw new ModelFormatException(source + ": field 'model.unk_token': '" + m.get("unk_token") + "' is not in model.vocab");
            unkId = id;
        }
        List<Object> lines = array(m.get("merges"), "model.merges");
        Map<Long, BpeModel.Merge> merges = new HashMap<>(lines.size() * 2);
        for (int rank = 0; rank < lines.size(); rank++) {
            String f = "model.merges[" + rank + "]";
            Object line = lines.get(rank);
            if (line instanceof String text && text.startsWith("#version")) continue; // as tokenizers skips merges.txt's header
            String left, right;
            if (line instanceof String text && text.indexOf(' ') > 0 && text.indexOf(' ') == text.lastIndexOf(' ')) {
                left = text.substring(0, text.indexOf(' '));
                right = text.substring(text.indexOf(' ') + 1);
            } else if (line instanceof List<?> pair && pair.size() == 2 && pair.get(0) instanceof String a && pair.get(1) instanceof String b) {
                left = a;
                right = b;
            } else {
                throw new ModelFormatException(source + ": field '" + f + "': expected \"a b\" or [\"a\", \"b\"], found " + Json.write(line));
            }
            Integer a = vocab.get(left), b = vocab.get(right), merged = vocab.get(left + right);
            if (a == null || b == null || merged == null) {
                throw new ModelFormatException(source + ": field '" + f + "': " + (a == null ? "'" + left + "'" : b == null ? "'" + right + "'"
                        : "the merged '" + left + right + "'") + " is not in model.vocab");
            }
            merges.put(BpeModel.pair(a, b), new BpeModel.Merge(rank, merged));
        }
        return new BpeModel(vocab, merges, unkId, bool(m, "fuse_unk", "model", false), bool(m, "ignore_merges", "model", false));
    }

    private TokenModel unigram(Map<String, Object> m) {
        if (bool(m, "byte_fallback", "model", false)) {
            throw new ModelFormatException(source + ": field 'model.byte_fallback': true is not supported yet "
                    + "(XLM-R and bge-reranker files have false)");
        }
        List<Object> vocab = array(m.get("vocab"), "model.vocab");
        if (vocab.isEmpty()) {
            throw new ModelFormatException(source + ": field 'model.vocab': expected at least one piece, found none");
        }
        List<String> pieces = new ArrayList<>(vocab.size());
        double[] scores = new double[vocab.size()];
        for (int i = 0; i < vocab.size(); i++) {
            String f = "model.vocab[" + i + "]";
            List<Object> entry = array(vocab.get(i), f);
            if (entry.size() != 2 || !(entry.get(0) instanceof String piece) || !(entry.get(1) instanceof Number score)) {
                throw new ModelFormatException(source + ": field '" + f + "': expected [piece, score], found " + entry);
            }
            if (!Double.isFinite(score.doubleValue())) {
                throw new ModelFormatException(source + ": field '" + f + "': the score " + score + " is not a finite number");
            }
            pieces.add(piece);
            scores[i] = score.doubleValue();
        }
        if (m.get("unk_id") == null) {
            throw new ModelFormatException(source + ": field 'model.unk_id': missing (a Unigram model without unk_id "
                    + "fails on unknown characters in HF; not supported)");
        }
        int unkId = integer(m, "unk_id", "model");
        if (unkId >= pieces.size()) {
            throw new ModelFormatException(source + ": field 'model.unk_id': " + unkId + " is beyond the "
                    + pieces.size() + " pieces of model.vocab");
        }
        return new UnigramModel(pieces, scores, unkId);
    }

    // ---- post_processor

    private TemplateProcessor postProcessor(Object value, String field) {
        if (value == null) {
            return TemplateProcessor.NONE;
        }
        Map<String, Object> p = object(value, field);
        String type = string(p, "type", field);
        return switch (type) {
            case "TemplateProcessing" -> template(p, field);
            case "BertProcessing" -> TemplateProcessor.bert(tokenPairId(p, "cls", field), tokenPairId(p, "sep", field));
            case "RobertaProcessing" -> TemplateProcessor.roberta(tokenPairId(p, "cls", field), tokenPairId(p, "sep", field));
            // ByteLevel only trims offsets, which are not kept here: it adds no tokens, as no post-processor at all
            case "ByteLevel" -> TemplateProcessor.NONE;
            case "Sequence" -> postProcessorSequence(p, field);
            default -> throw unsupported(field, type, "TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, Sequence");
        };
    }

    /**
     * HF {@code Sequence} runs each step on what the one before made; ByteLevel steps add nothing, so the steps come to
     * the one step that is not ByteLevel (Llama 3's files hold ByteLevel then TemplateProcessing). Two such steps would
     * each add their tokens around the others', which no template here expresses: refused.
     */
    private TemplateProcessor postProcessorSequence(Map<String, Object> p, String field) {
        List<Object> steps = array(p.get("processors"), field + ".processors");
        TemplateProcessor chosen = TemplateProcessor.NONE;
        String chosenField = null;
        for (int i = 0; i < steps.size(); i++) {
            String f = field + ".processors[" + i + "]";
            Map<String, Object> step = object(steps.get(i), f);
            if ("ByteLevel".equals(step.get("type"))) continue;
            if (chosenField != null) {
                throw new ModelFormatException(source + ": field '" + f + "': a second post-processor that adds tokens, after '"
                        + chosenField + "' (supported: ByteLevel steps and at most one other)");
            }
            chosen = postProcessor(step, f);
            chosenField = f;
        }
        return chosen;
    }

    /** {@code "cls": ["[CLS]", 101]} → 101. */
    private int tokenPairId(Map<String, Object> p, String key, String field) {
        List<Object> pair = array(p.get(key), field + "." + key);
        int id = pair.size() == 2 ? idOf(pair.get(1)) : -1;
        if (id < 0) {
            throw new ModelFormatException(source + ": field '" + field + "." + key
                    + "': expected [token, id] with an id from 0 to " + MAX_ID + ", found " + pair);
        }
        return id;
    }

    private TemplateProcessor template(Map<String, Object> p, String field) {
        Map<String, Object> specials = object(p.get("special_tokens"), field + ".special_tokens");
        Map<String, int[]> specialIds = new HashMap<>();
        for (Map.Entry<String, Object> e : specials.entrySet()) {
            String f = field + ".special_tokens." + e.getKey();
            List<Object> idList = array(object(e.getValue(), f).get("ids"), f + ".ids");
            int[] ids = new int[idList.size()];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = idOf(idList.get(i));
                if (ids[i] < 0) {
                    throw new ModelFormatException(source + ": field '" + f + ".ids': expected ids from 0 to " + MAX_ID
                            + ", found " + idList);
                }
            }
            specialIds.put(e.getKey(), ids);
        }
        return new TemplateProcessor(sequences(pieces(p.get("single"), field + ".single", specialIds), "A", field + ".single"),
                sequences(pieces(p.get("pair"), field + ".pair", specialIds), "AB", field + ".pair"));
    }

    /** A template must place each of its sequences exactly once: the encoding is sized and filled that way. */
    private List<TemplateProcessor.Piece> sequences(List<TemplateProcessor.Piece> pieces, String expected, String field) {
        StringBuilder found = new StringBuilder();
        for (TemplateProcessor.Piece piece : pieces) if (piece.sequence() != '\0') found.append(piece.sequence());
        char[] sorted = found.toString().toCharArray();
        java.util.Arrays.sort(sorted);
        if (!new String(sorted).equals(expected)) {
            throw new ModelFormatException(source + ": field '" + field + "': expected " + String.join(" and ", expected.split(""))
                    + " once each, found " + (found.isEmpty() ? "no sequence" : found));
        }
        return pieces;
    }

    private List<TemplateProcessor.Piece> pieces(Object value, String field, Map<String, int[]> specialIds) {
        List<Object> list = array(value, field);
        List<TemplateProcessor.Piece> pieces = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            String f = field + "[" + i + "]";
            Map<String, Object> piece = object(list.get(i), f);
            if (piece.get("SpecialToken") != null) {
                Map<String, Object> s = object(piece.get("SpecialToken"), f + ".SpecialToken");
                String name = string(s, "id", f + ".SpecialToken");
                int[] ids = specialIds.get(name);
                if (ids == null) {
                    throw new ModelFormatException(source + ": field '" + f + ".SpecialToken.id': '" + name
                            + "' is not in special_tokens");
                }
                pieces.add(TemplateProcessor.Piece.special(ids, integer(s, "type_id", f + ".SpecialToken")));
            } else if (piece.get("Sequence") != null) {
                Map<String, Object> s = object(piece.get("Sequence"), f + ".Sequence");
                String which = string(s, "id", f + ".Sequence");
                if (!which.equals("A") && !which.equals("B")) {
                    throw new ModelFormatException(source + ": field '" + f + ".Sequence.id': expected A or B, found '"
                            + which + "'");
                }
                pieces.add(TemplateProcessor.Piece.sequence(which.charAt(0), integer(s, "type_id", f + ".Sequence")));
            } else {
                throw new ModelFormatException(source + ": field '" + f + "': expected SpecialToken or Sequence, found "
                        + piece.keySet());
            }
        }
        return pieces;
    }

    // ---- JSON access with errors that name the file and field

    private ModelFormatException unsupported(String field, String type, String supported) {
        return new ModelFormatException(source + ": field '" + field + ".type': unsupported type '" + type
                + "' (supported: " + supported + ")");
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> object(Object value, String field) {
        if (!(value instanceof Map)) {
            throw new ModelFormatException(source + ": field '" + field + "': expected an object, found " + Json.typeName(value));
        }
        return (Map<String, Object>) value;
    }

    @SuppressWarnings("unchecked")
    private List<Object> array(Object value, String field) {
        if (!(value instanceof List)) {
            throw new ModelFormatException(source + ": field '" + field + "': expected an array, found " + Json.typeName(value));
        }
        return (List<Object>) value;
    }

    private String string(Map<String, Object> m, String key, String field) {
        if (!(m.get(key) instanceof String s)) {
            throw new ModelFormatException(source + ": field '" + field + "." + key + "': expected a string, found "
                    + Json.typeName(m.get(key)));
        }
        return s;
    }

    /** The largest token id: the vocabulary's size, the largest id + 1, must be an int. */
    private static final int MAX_ID = Integer.MAX_VALUE - 1;

    /** {@code value} as a token id, or -1 if it is not an integer from 0 to {@link #MAX_ID}. */
    private static int idOf(Object value) {
        return value instanceof Long id && id >= 0 && id <= MAX_ID ? id.intValue() : -1;
    }

    private int tokenId(Map<String, Object> m, String key, String field) {
        int id = idOf(m.get(key));
        if (id < 0) {
            throw new ModelFormatException(source + ": field '" + field + "." + key + "': expected an id from 0 to " + MAX_ID
                    + ", found " + m.get(key));
        }
        return id;
    }

    private int integer(Map<String, Object> m, String key, String field) {
        if (!(m.get(key) instanceof Long v) || v < 0 || v > Integer.MAX_VALUE) {
            throw new ModelFormatException(source + ": field '" + field + "." + key
                    + "': expected a non-negative integer, found " + m.get(key));
        }
        return v.intValue();
    }

    private boolean bool(Map<String, Object> m, String key, String field, boolean fallback) {
        Object v = m.get(key);
        if (v == null) {
            return fallback;
        }
        if (!(v instanceof Boolean b)) {
            throw new ModelFormatException(source + ": field '" + field + "." + key + "': expected a boolean, found "
                    + Json.typeName(v));
        }
        return b;
    }
}
