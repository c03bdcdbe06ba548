package dev.rerank4j.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Files replaced whole: a reader sees the old content or the new, and a write that fails leaves the old one. */
public final class AtomicFiles {
    private AtomicFiles() {}

    /** Writes a file's content to the path it is given. */
    @FunctionalInterface
    public interface Writer {
        void write(Path file) throws IOException;
    }

    /**
     * {@code target} written by {@code writer} into a temporary file beside it (same folder, so the rename is atomic),
     * then renamed over it; on failure the temporary file is deleted and {@code target} is as it was.
     */
    public static void replace(Path target, Writer writer) throws IOException {
        Path absolute = target.toAbsolutePath();
        Path tmp = Files.createTempFile(absolute.getParent(), "." + absolute.getFileName() + ".tmp-", "");
        boolean moved = false;
        try {
            writer.write(tmp);
            Files.move(tmp, absolute, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            moved = true;
        } finally {
            if (!moved) Files.deleteIfExists(tmp);
        }
    }
}
