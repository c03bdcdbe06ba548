package dev.rerank4j.convert;

import java.nio.file.Path;

/** PLACEHOLDER, replaced by branch convert. */
public final class OnnxConverter {
    private OnnxConverter() {}

    public static void convert(Path onnx, Path tokenizerJson, Path outDir) {
        throw new UnsupportedOperationException("not merged yet");
    }
}
