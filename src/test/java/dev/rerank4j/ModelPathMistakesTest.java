package dev.rerank4j;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A first program's wrong model path: the error says where the load looked, or what the directory lacks and what to do. */
class ModelPathMistakesTest {
    @TempDir
    Path tmp;

    /** An ONNX export (model.onnx, or onnx/model.onnx as Xenova's and optimum's repositories have it) is not read. */
    @Test
    void aDirectoryWithOnlyOnnxWeightsSaysHowToGetWeightsThatLoad() throws IOException {
        for (Path onnx : List.of(Path.of("model.onnx"), Path.of("onnx", "model.onnx"))) {
            Path dir = Files.createDirectories(tmp.resolve("m" + onnx.getNameCount()));
            for (String f : List.of("config.json", "tokenizer.json")) Files.copy(Golden.path("bert-tiny-ce").resolve(f), dir.resolve(f));
            Files.createDirectories(dir.resolve(onnx).getParent());
            Files.write(dir.resolve(onnx), new byte[16]);
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> Reranker.load(dir));
            assertTrue(e.getMessage().contains("missing model.safetensors") && e.getMessage().contains("its ONNX file is not read")
                    && e.getMessage().contains("rerank convert --onnx FILE --out DIR"), e.getMessage());
        }
    }

    /** A relative path is resolved against the working directory, which an IDE or a service manager may choose. */
    @Test
    void aRelativePathThatLeadsNowhereNamesTheDirectoryItWasResolvedTo() {
        Path relative = Path.of("weights", "no-such-model-" + ProcessHandle.current().pid());
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Reranker.load(relative));
        assertTrue(e.getMessage().startsWith(relative + ": not a directory: nothing is at " + relative.toAbsolutePath() + " ("),
                e.getMessage());
    }

    @Test
    void anAbsolutePathThatLeadsNowhereSaysNothingIsThere() {
        Path absolute = Path.of("no-such-model-" + ProcessHandle.current().pid()).toAbsolutePath();
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Reranker.load(absolute));
        assertTrue(e.getMessage().startsWith(absolute + ": not a directory: nothing is there ("), e.getMessage());
    }
}
