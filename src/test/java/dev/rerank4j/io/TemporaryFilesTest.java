package dev.rerank4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rerank4j.ChildJvm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A JVM that exits while a file is being written (Ctrl-C and SIGTERM run shutdown hooks, as System.exit does, and no
 * finally block) leaves none of its temporary files: half-written weights beside a model ran to GBs.
 */
class TemporaryFilesTest {
    @TempDir
    Path tmp;

    @Test
    void aJvmThatExitsMidWriteLeavesNoTemporaryFileOrFolder() throws IOException, InterruptedException {
        Path target = Files.writeString(tmp.resolve("embeddings.safetensors"), "old");
        ChildJvm.Result result = ChildJvm.run(List.of(), TemporaryFilesTest.class, Duration.ofSeconds(60), tmp.toString());
        assertEquals(0, result.exitCode(), result.all());
        try (Stream<Path> files = Files.list(tmp)) {
            assertEquals(List.of(target), files.toList(), "only what was there before");
        }
        assertEquals("old", Files.readString(target));
    }

    /** Child: starts a replacement of args[0]/embeddings.safetensors and a temporary folder, and exits inside the write. */
    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args[0]);
        Path folder = TemporaryFiles.track(Files.createTempDirectory(dir, ".out.tmp-"));
        Files.writeString(folder.resolve("model.safetensors"), "half");
        AtomicFiles.replace(dir.resolve("embeddings.safetensors"), f -> {
            Files.writeString(f, "half-written");
            System.exit(0);
        });
    }
}
