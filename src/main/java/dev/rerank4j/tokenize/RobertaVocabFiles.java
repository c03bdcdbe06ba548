package dev.rerank4j.tokenize;

import dev.rerank4j.ModelFormatException;
import dev.rerank4j.io.Json;
import dev.rerank4j.io.Utf8;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The byte-level BPE tokenizer of a RoBERTa model saved without tokenizer.json: {@code vocab.json} and
 * {@code merges.txt}, and where present the tokenizer files {@link SpecialTokenFiles} reads. Built as transformers'
 * {@code RobertaTokenizer} builds it from those files (transformers 5.23, models/roberta/tokenization_roberta.py):
 * ByteLevel(add_prefix_space from tokenizer_config.json, false by default), BPE with no unknown token, and RoBERTa's
 * template {@code <s> A </s></s> B </s>}. The pieces become a tokenizer.json tree for {@link TokenizerJson}.
 */
public final class RobertaVocabFiles {
    public static final String VOCAB = "vocab.json";
    public static final String MERGES = "merges.txt";
    /** The files besides vocab.json that shape the tokenizer: merges.txt (needed), then the optional ones BERT's have too. */
    public static final List<String> COMPANIONS = Stream.concat(Stream.of(MERGES), BertVocabFiles.COMPANIONS.stream()).toList();
    private static final Set<String> CLASSES = Set.of("RobertaTokenizer", "RobertaTokenizerFast");
    private static final Set<String> MODEL_TYPES = Set.of("roberta");
    /** RobertaTokenizer's defaults. */
    private static final Map<String, String> DEFAULTS = Map.of("bos_token", "<s>", "eos_token", "</s>", "sep_token", "</s>",
            "cls_token", "<s>", "unk_token", "<unk>", "pad_token", "<pad>", "mask_token", "<mask>");

    private RobertaVocabFiles() {}

    /**
     * The tokenizer of {@code dir}'s vocab.json and merges.txt and the files beside them; {@code modelType} is config.json's,
     * which decides when tokenizer_config.json names no tokenizer class.
     *
     * @throws ModelFormatException if the files name another tokenizer, are malformed, or need an id transformers would make up
     */
    public static Tokenizer load(Path dir, String modelType) throws IOException {
        Map<String, Object> config = SpecialTokenFiles.tokenizerConfig(dir);
        SpecialTokenFiles.requireTokenizerClass(dir, config, VOCAB + " and " + MERGES, CLASSES, MODEL_TYPES, modelType);
        Path vocabFile = dir.resolve(VOCAB);
        Map<String, Long> vocab = readVocab(vocabFile);
        SpecialTokenFiles.Resolved tokens = SpecialTokenFiles.resolve(dir, config, vocabFile, vocab, DEFAULTS, Set.of("cls_token", "sep_token"));
        boolean prefixSpace = SpecialTokenFiles.setting(dir, config, "add_prefix_space", false);
        String cls = tokens.contents().get("cls_token"), sep = tokens.contents().get("sep_token");
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("type", "BPE");
        model.put("vocab", vocab);
        model.put("merges", readMerges(dir.resolve(MERGES)));
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("added_tokens", tokens.addedTokens());
        root.put("pre_tokenizer", Map.of("type", "ByteLevel", "add_prefix_space", prefixSpace, "use_regex", true));
        root.put("post_processor", Map.of("type", "RobertaProcessing", "sep", List.of(sep, vocab.get(sep)),
                "cls", List.of(cls, vocab.get(cls)), "add_prefix_space", prefixSpace));
        root.put("model", model);
        return TokenizerJson.fromTree(root, vocabFile + " (with merges.txt and the tokenizer files beside it)");
    }

    /** vocab.json: token → id, every id a non-negative integer. */
    private static Map<String, Long> readVocab(Path file) {
        Map<String, Object> json = Json.parseObjectFile(file);
        Map<String, Long> vocab = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : json.entrySet()) {
            if (!(e.getValue() instanceof Long id) || id < 0 || id > Integer.MAX_VALUE - 1) {
                throw new ModelFormatException(file + ": token \"" + e.getKey() + "\" has id " + Json.write(e.getValue())
                        + " (expected a non-negative integer)");
            }
            vocab.put(e.getKey(), id);
        }
        if (vocab.isEmpty()) throw new ModelFormatException(file + ": the vocabulary is empty");
        return vocab;
    }

    /**
     * merges.txt as the tokenizers library reads it: lines end at \n (a \r before it is dropped), a line starting with
     * "#version" is skipped, and every other line is two tokens with one space between them.
     */
    private static List<String> readMerges(Path file) throws IOException {
        String text = Utf8.readModelFile(file);
        List<String> merges = new ArrayList<>();
        int lineNumber = 0;
        for (int start = 0; start < text.length(); ) {
            int end = text.indexOf('\n', start);
            if (end < 0) end = text.length();
            String line = text.substring(start, end > start && text.charAt(end - 1) == '\r' ? end - 1 : end);
            lineNumber++;
            start = end + 1;
            if (line.startsWith("#version")) continue;
            int space = line.indexOf(' ');
            if (space <= 0 || space != line.lastIndexOf(' ') || space == line.length() - 1) {
                throw new ModelFormatException(file + ": line " + lineNumber + " is not two tokens with one space between them: "
                        + Json.write(line));
            }
            merges.add(line);
        }
        return merges;
    }
}
