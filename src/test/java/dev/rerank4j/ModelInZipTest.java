package dev.rerank4j;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A model directory inside a zip file system, as an application that ships its model inside its own jar opens it
 * ({@code FileSystems.newFileSystem(jar)}): such a file system cannot map files, and a load used to end in a bare
 * {@code UnsupportedOperationException} from {@code FileChannel.map}.
 */
class ModelInZipTest {
    private static final String QUERY = "how many people live in berlin?";
    private static final List<String> DOCS = List.of("Berlin has 3.7 million inhabitants.", "Paris is the capital of France.", "");

    @TempDir
    Path tmp;

    @Test
    void aModelInsideAJarScoresAsTheSameModelOnDisk() throws IOException {
        for (String name : List.of("bert-tiny-ce", "colbert-tiny")) { // colbert-tiny: its projection is a second weights file, in 1_Dense
            Path jar = jarOf(Golden.path(name), tmp.resolve(name + ".jar"));
            try (FileSystem zip = FileSystems.newFileSystem(jar);
                 Reranker onDisk = Reranker.load(Golden.path(name));
                 Reranker inJar = Reranker.load(zip.getPath("/models/" + name))) {
                assertArrayEquals(onDisk.score(QUERY, DOCS), inJar.score(QUERY, DOCS), name);
            }
        }
    }

    @Test
    void shardsInsideAJarLoad() throws IOException {
        Path model = tmp.resolve("sharded");
        Golden.copyTree(Golden.path("bert-tiny-ce"), model);
        Files.delete(model.resolve("model.safetensors"));
        Golden.copyTree(Path.of("src/test/resources/torch/sharded-safetensors"), model);
        Path jar = jarOf(model, tmp.resolve("sharded.jar"));
        try (FileSystem zip = FileSystems.newFileSystem(jar);
             Reranker onDisk = Reranker.load(Golden.path("bert-tiny-ce"));
             Reranker inJar = Reranker.load(zip.getPath("/models/sharded"))) {
            assertArrayEquals(onDisk.score(QUERY, DOCS), inJar.score(QUERY, DOCS));
        }
    }

    @Test
    void aPytorchCheckpointInsideAJarIsRefusedWithWhatToShipInstead() throws IOException {
        Path model = tmp.resolve("torch");
        Golden.copyTree(Golden.path("bert-tiny-ce"), model);
        Files.delete(model.resolve("model.safetensors"));
        Files.copy(Path.of("src/test/resources/torch/bert-tiny-ce/pytorch_model.bin"), model.resolve("pytorch_model.bin"));
        Path jar = jarOf(model, tmp.resolve("torch.jar"));
        try (FileSystem zip = FileSystems.newFileSystem(jar)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Reranker.load(zip.getPath("/models/torch")));
            assertTrue(e.getMessage().contains("pytorch_model.bin: a PyTorch checkpoint is read only from the default file system")
                    && e.getMessage().contains("rerank convert --pytorch"), e.getMessage());
        }
    }

    @Test
    void aBadFileInsideAJarIsNamedWithTheJar() throws IOException {
        Path model = tmp.resolve("damaged");
        Golden.copyTree(Golden.path("bert-tiny-ce"), model);
        Files.writeString(model.resolve("config.json"), "{\"model_type\": ");
        Path jar = jarOf(model, tmp.resolve("app.jar"));
        try (FileSystem zip = FileSystems.newFileSystem(jar)) {
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> Reranker.load(zip.getPath("/models/damaged")));
            assertTrue(e.getMessage().startsWith("/models/damaged/config.json") && e.getMessage().contains(jar.toUri().getPath() + "!/models/damaged"),
                    e.getMessage());
        }
    }

    /** A jar holding {@code dir} as /models/NAME. */
    private static Path jarOf(Path dir, Path jar) throws IOException {
        try (FileSystem zip = FileSystems.newFileSystem(jar, Map.of("create", "true"))) {
            Golden.copyTree(dir, zip.getPath("/models/" + dir.getFileName()));
        }
        return jar;
    }
}
