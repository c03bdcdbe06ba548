package dev.rerank4j.io;

import dev.rerank4j.ModelFormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CoderResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Strict UTF-8 that says where it fails. The JDK's decoders report malformed bytes only as "Input length = 1", and a
 * reader decodes a buffer ahead of the line it returns, so neither can say which line of a file is wrong.
 */
public final class Utf8 {
    private Utf8() {}

    /** Where the first bytes that are not UTF-8 start: the 0-based line (after \n, \r\n or \r) and byte offset. */
    public static final class MalformedException extends Exception {
        private final int line;
        private final int offset;

        MalformedException(int line, int offset) {
            super("not valid UTF-8 at line " + (line + 1) + " (byte " + offset + ")");
            this.line = line;
            this.offset = offset;
        }

        /** 0-based, as {@link String#lines()} numbers the lines. */
        public int line() {
            return line;
        }

        public int offset() {
            return offset;
        }
    }

    public static String decode(byte[] bytes) throws MalformedException {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length); // UTF-8 never decodes to more chars than bytes
        CoderResult result = StandardCharsets.UTF_8.newDecoder().decode(in, out, true);
        if (result.isError()) {
            int offset = in.position(), line = 0;
            for (int i = 0; i < offset; i++) {
                if (bytes[i] == '\n' || bytes[i] == '\r' && (i + 1 == bytes.length || bytes[i + 1] != '\n')) line++;
            }
            throw new MalformedException(line, offset);
        }
        return out.flip().toString();
    }

    /** The largest text file a model holds, with room: tokenizer.json files run to tens of MB (Gemma's, 34 MB). */
    static final int MAX_MODEL_FILE_BYTES = 256 << 20;

    /**
     * A model file's text (config.json, tokenizer.json, ...); bytes that are not UTF-8, a file that is not a regular one, or
     * one over {@link #MAX_MODEL_FILE_BYTES} are a {@link ModelFormatException}.
     */
    public static String readModelFile(Path file) throws IOException {
        // Files named inside a model (modules.json's paths) can be anything: /dev/zero would fill the heap, a pipe block
        if (!Files.isRegularFile(file)) {
            throw new ModelFormatException(file + ": not a regular file" + (Files.exists(file) ? " (a directory, device or pipe)" : " (missing)"));
        }
        byte[] bytes;
        try (java.io.InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(MAX_MODEL_FILE_BYTES + 1);
        }
        if (bytes.length > MAX_MODEL_FILE_BYTES) {
            throw new ModelFormatException(file + ": more than " + (MAX_MODEL_FILE_BYTES >> 20) + " MiB, larger than any tokenizer or"
                    + " configuration file");
        }
        try {
            return decode(bytes);
        } catch (MalformedException e) {
            throw new ModelFormatException(file + ": " + e.getMessage(), e);
        }
    }
}
