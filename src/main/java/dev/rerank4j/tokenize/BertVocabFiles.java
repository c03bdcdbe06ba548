package dev.rerank4j.tokenize;

import dev.rerank4j.ModelFormatException;
import dev.rerank4j.io.Utf8;

import java.io.IOException;
import java.nio.file.Path;
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
 * special tokens as {@link SpecialTokenFiles} reads them. The pieces become a tokenizer.json tree for
 * {@link TokenizerJson}, so there is one tokenizer code path.
 */
public final class BertVocabFiles {
    public static final String VOCAB = "vocab.txt";
    /** The files besides the vocabulary that shape the tokenizer, each optional. */
    public static final List<String> COMPANIONS = List.of("tokenizer_config.json", "special_tokens_map.json", "added_tokens.json");
    /** tokenizer_config.json's tokenizer_class values built this way. */
    private static final Set<String> CLASSES = Set.of("BertTokenizer", "BertTokenizerFast", "ElectraTokenizer",
            "ElectraTokenizerFast", "DistilBertTokenizer", "DistilBertTokenizerFast");
    /** config.json's model_type values whose AutoTokenizer is BertTokenizer, for a folder with no tokenizer_class. */
    private static final Set<String> MODEL_TYPES = Set.of("bert", "electra", "distilbert");
    /** BertTokenizer's defaults. */
    private static final Map<String, String> DEFAULTS = Map.of("unk_token", "[UNK]", "sep_token", "[SEP]",
            "pad_token", "[PAD]", "cls_token", "[CLS]", "mask_token", "[MASK]");

    private BertVocabFiles() {}

    /**
     * The tokenizer of {@code dir}'s vocab.txt and the files beside it; {@code modelType} is config.json's, which decides
     * when tokenizer_config.json names no tokenizer class.
     *
     * @throws ModelFormatException if the files name another tokenizer, are malformed, or need an id transformers would make up
     */
    public static Tokenizer load(Path dir, String modelType) throws IOException {
        Map<String, Object> config = SpecialTokenFiles.tokenizerConfig(dir);
        SpecialTokenFiles.requireTokenizerClass(dir, config, VOCAB, CLASSES, MODEL_TYPES, modelType);
        Path vocabFile = dir.resolve(VOCAB);
        Map<String, Long> vocab = readVocab(vocabFile);
        SpecialTokenFiles.Resolved tokens = SpecialTokenFiles.resolve(dir, config, vocabFile, vocab, DEFAULTS,
                Set.of("unk_token", "cls_token", "sep_token"));
        String cls = tokens.contents().get("cls_token"), sep = tokens.contents().get("sep_token");
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("added_tokens", tokens.addedTokens());
        root.put("normalizer", normalizer(dir, config));
        root.put("pre_tokenizer", Map.of("type", "BertPreTokenizer"));
        root.put("post_processor", template(cls, vocab.get(cls), sep, vocab.get(sep)));
        root.put("model", Map.of("type", "WordPiece", "unk_token", tokens.contents().get("unk_token"), "continuing_subword_prefix", "##",
                "max_input_chars_per_word", 100L, "vocab", vocab));
        return TokenizerJson.fromTree(root, vocabFile + " (with the tokenizer files beside it)");
    }

    private static Map<String, Object> normalizer(Path dir, Map<String, Object> config) {
        Map<String, Object> n = new LinkedHashMap<>();
        n.put("type", "BertNormalizer");
        n.put("clean_text", true);
        n.put("handle_chinese_chars", SpecialTokenFiles.setting(dir, config, "tokenize_chinese_chars", true));
        n.put("strip_accents", config.get("strip_accents") == null ? null : SpecialTokenFiles.setting(dir, config, "strip_accents", false));
        n.put("lowercase", SpecialTokenFiles.setting(dir, config, "do_lower_case", true));
        return n;
    }

    private static Map<String, Object> template(String cls, long clsId, String sep, long sepId) {
        Map<String, Object> clsToken = Map.of("SpecialToken", Map.of("id", cls, "type_id", 0L));
        Map<String, Object> a = Map.of("Sequence", Map.of("id", "A", "type_id", 0L));
        Map<String, Object> sep0 = Map.of("SpecialToken", Map.of("id", sep, "type_id", 0L));
        Map<String, Object> b = Map.of("Sequence", Map.of("id", "B", "type_id", 1L));
        Map<String, Object> sep1 = Map.of("SpecialToken", Map.of("id", sep, "type_id", 1L));
        Map<String, Object> specials = new LinkedHashMap<>();
        specials.put(cls, Map.of("id", cls, "ids", List.of(clsId), "tokens", List.of(cls)));
        specials.put(sep, Map.of("id", sep, "ids", List.of(sepId), "tokens", List.of(sep)));
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
}
