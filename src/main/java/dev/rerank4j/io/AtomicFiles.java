package dev.rerank4j.io;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.ThreadLocalRandom;

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
        Path tmp = TemporaryFiles.track(temporaryBeside(absolute));
        boolean moved = false;
        try {
            writer.write(tmp);
            Files.move(tmp, absolute, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            moved = true;
        } finally {
            if (!moved) Files.deleteIfExists(tmp);
            TemporaryFiles.release(tmp);
        }
    }

    /**
     * A new, empty, hidden file in {@code target}'s folder, to be renamed to {@code target} once written. It gets the
     * permissions any new file gets there (the process's umask), not {@link Files#createTempFile}'s owner-only ones,
     * since it becomes a file others read: a converted model, saved embeddings, a hub cache's refs.
     */
    public static Path temporaryBeside(Path target) throws IOException {
        Path absolute = target.toAbsolutePath();
        while (true) {
            String suffix = Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36);
            try {
                return Files.createFile(absolute.resolveSibling("." + absolute.getFileName() + ".tmp-" + suffix));
            } catch (FileAlreadyExistsException e) {
                // another writer's name: draw again
            }
        }
    }
}
