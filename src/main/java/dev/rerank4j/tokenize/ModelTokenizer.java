package dev.rerank4j.tokenize;

import dev.rerank4j.ModelFormatException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A model directory's tokenizer and the file it came from: tokenizer.json, else (a BERT-family model saved before
 * tokenizer.json existed) vocab.txt with the files beside it, as transformers' BertTokenizer reads them.
 *
 * @param file        the file it was read from
 * @param description the file, and how it was read, in words
 */
public record ModelTokenizer(Tokenizer tokenizer, Path file, String description) {
    /** The files a directory's tokenizer is read from, in the order they are looked for. */
    public static final List<String> FILES = List.of("tokenizer.json", BertVocabFiles.VOCAB);

    /**
     * The tokenizer of {@code dir}; {@code modelType} (config.json's) decides how vocab.txt is read where
     * tokenizer_config.json does not.
     *
     * @throws ModelFormatException if {@code dir} has neither file, or the one it has is malformed
     * @throws UncheckedIOException if the file cannot be read
     */
    public static ModelTokenizer load(Path dir, String modelType) {
        Path json = dir.resolve(FILES.get(0));
        Path vocab = dir.resolve(FILES.get(1));
        try {
            if (Files.isRegularFile(json)) return new ModelTokenizer(TokenizerJson.load(json), json, json.getFileName().toString());
            if (Files.isRegularFile(vocab)) {
                return new ModelTokenizer(BertVocabFiles.load(dir, modelType), vocab,
                        "vocab.txt, read as transformers' BertTokenizer reads it (no tokenizer.json)");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": cannot read the tokenizer: " + e.getMessage(), e);
        }
        String found = Files.isRegularFile(dir.resolve("merges.txt")) ? "; its vocab.json and merges.txt (a RoBERTa or GPT-2"
                + " tokenizer saved without tokenizer.json) are not read, and transformers writes tokenizer.json from them with"
                + " AutoTokenizer.from_pretrained(dir).save_pretrained(dir)"
                : Files.isRegularFile(dir.resolve("sentencepiece.bpe.model")) || Files.isRegularFile(dir.resolve("spiece.model"))
                ? "; its SentencePiece model is not read, and transformers writes tokenizer.json from it with"
                + " AutoTokenizer.from_pretrained(dir).save_pretrained(dir)" : "";
        throw new ModelFormatException(dir + ": missing tokenizer.json (or, for a BERT-family model, vocab.txt)" + found);
    }
}
