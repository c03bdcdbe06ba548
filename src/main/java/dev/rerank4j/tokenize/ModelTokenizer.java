package dev.rerank4j.tokenize;

import dev.rerank4j.ModelFormatException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A model directory's tokenizer and the file it came from: tokenizer.json, else (a model saved before tokenizer.json
 * existed) vocab.txt with the files beside it, as transformers' BertTokenizer reads them, or vocab.json and merges.txt,
 * as its RobertaTokenizer reads them.
 *
 * @param file        the file it was read from
 * @param description the file, and how it was read, in words
 */
public record ModelTokenizer(Tokenizer tokenizer, Path file, String description) {
    /**
     * The files a directory's tokenizer is read from, in the order they are looked for: tokenizer.json, else BERT's
     * vocab.txt, else RoBERTa's vocab.json (with merges.txt).
     */
    public static final List<String> FILES = List.of("tokenizer.json", BertVocabFiles.VOCAB, RobertaVocabFiles.VOCAB);

    /** The files besides {@code file}, one of {@link #FILES}, that its tokenizer reads where they are there. */
    public static List<String> companions(String file) {
        return switch (file) {
            case BertVocabFiles.VOCAB -> BertVocabFiles.COMPANIONS;
            case RobertaVocabFiles.VOCAB -> RobertaVocabFiles.COMPANIONS;
            default -> List.of();
        };
    }

    /**
     * The tokenizer of {@code dir}; {@code modelType} (config.json's) decides how vocab.txt or vocab.json is read where
     * tokenizer_config.json does not.
     *
     * @throws ModelFormatException if {@code dir} has none of the files, or the one it has is malformed
     * @throws UncheckedIOException if the file cannot be read
     */
    public static ModelTokenizer load(Path dir, String modelType) {
        ModelTokenizer found = find(dir, modelType);
        Map<String, Object> config = SpecialTokenFiles.tokenizerConfig(dir);
        Path configFile = dir.resolve("tokenizer_config.json");
        if (config.get("truncation_side") instanceof String side && !side.equals("right")) {
            // cutting from the left needs every text tokenized whole, and the pair and prompt cuts mirrored: not done
            throw new ModelFormatException(configFile + ": truncation_side \"" + side + "\" is not supported (rerank4j cuts texts at"
                    + " their end, as \"right\", transformers' default, does)");
        }
        if (config.get("model_input_names") instanceof List<?> names && !names.contains("token_type_ids")) {
            return new ModelTokenizer(new WithoutTokenTypes(found.tokenizer()), found.file(), found.description()
                    + "; no token types (tokenizer_config.json's model_input_names)");
        }
        return found;
    }

    private static ModelTokenizer find(Path dir, String modelType) {
        Path json = dir.resolve(FILES.get(0));
        Path vocabTxt = dir.resolve(FILES.get(1));
        Path vocabJson = dir.resolve(FILES.get(2));
        try {
            if (Files.isRegularFile(json)) return new ModelTokenizer(TokenizerJson.load(json), json, json.getFileName().toString());
            if (Files.isRegularFile(vocabTxt)) {
                return new ModelTokenizer(BertVocabFiles.load(dir, modelType), vocabTxt,
                        "vocab.txt, read as transformers' BertTokenizer reads it (no tokenizer.json)");
            }
            if (Files.isRegularFile(vocabJson) && Files.isRegularFile(dir.resolve(RobertaVocabFiles.MERGES))) {
                return new ModelTokenizer(RobertaVocabFiles.load(dir, modelType), vocabJson,
                        "vocab.json and merges.txt, read as transformers' RobertaTokenizer reads them (no tokenizer.json)");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": cannot read the tokenizer: " + e.getMessage(), e);
        }
        String found = Files.isRegularFile(dir.resolve("sentencepiece.bpe.model")) || Files.isRegularFile(dir.resolve("spiece.model"))
                ? "; its SentencePiece model is not read, and transformers writes tokenizer.json from it with"
                + " AutoTokenizer.from_pretrained(dir).save_pretrained(dir)" : "";
        throw new ModelFormatException(dir + ": missing tokenizer.json (or vocab.txt for a BERT-family model, vocab.json and"
                + " merges.txt for RoBERTa)" + found);
    }
}
