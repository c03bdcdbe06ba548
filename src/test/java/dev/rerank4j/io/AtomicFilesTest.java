package dev.rerank4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

public class AtomicFilesTest {
    @TempDir
    Path tmp;

    /** The permissions a file created in {@code dir} gets from this process's umask (rw-r--r-- under the usual 022). */
    public static Set<PosixFilePermission> newFilePermissions(Path dir) throws IOException {
        assumeTrue(Files.getFileStore(dir).supportsFileAttributeView(PosixFileAttributeView.class), "POSIX permissions only");
        Path probe = Files.createFile(dir.resolve(".permissions-probe"));
        try {
            return Files.getPosixFilePermissions(probe);
        } finally {
            Files.delete(probe);
        }
    }

    @Test
    void aReplacedFileIsReadableAsAnyNewFileThere() throws IOException {
        Path target = tmp.resolve("refs-main");
        AtomicFiles.replace(target, f -> Files.writeString(f, "abc"));
        assertEquals("abc", Files.readString(target));
        // Files.createTempFile would have left it owner-only (rw-------): saved embeddings others cannot read
        assertEquals(newFilePermissions(tmp), Files.getPosixFilePermissions(target));
    }

    @Test
    void aFailedWriteLeavesTheOldFileAndNoTemporaryOne() throws IOException {
        Path target = tmp.resolve("embeddings.safetensors");
        Files.writeString(target, "old");
        assertThrows(IOException.class, () -> AtomicFiles.replace(target, f -> {
            Files.writeString(f, "half", StandardCharsets.UTF_8);
            throw new IOException("disk full");
        }));
        assertEquals("old", Files.readString(target));
        try (Stream<Path> files = Files.list(tmp)) {
            assertEquals(List.of(target), files.toList());
        }
    }
}
