package dev.rerank4j.tokenize;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** The real all-MiniLM-L6-v2 tokenizer.json (from the langchain4j test jar), copied once to a temp file. */
final class MiniLmTokenizerFile {
    private static Path path;

    private MiniLmTokenizerFile() {
    }

    static synchronized Path path() {
        if (path == null) {
            try (InputStream in = MiniLmTokenizerFile.class.getResourceAsStream("/all-minilm-l6-v2-tokenizer.json")) {
                if (in == null) {
                    throw new IllegalStateException("test resource /all-minilm-l6-v2-tokenizer.json is missing");
                }
                Path tmp = Files.createTempFile("all-minilm-l6-v2-tokenizer", ".json");
                tmp.toFile().deleteOnExit();
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                path = tmp;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return path;
    }

    static Tokenizer load() {
        try {
            return TokenizerJson.load(path());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
