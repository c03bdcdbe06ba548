package dev.rerank4j.convert;

import java.nio.file.Path;

/** PLACEHOLDER, replaced by branch convert. */
public final class DefaultModel {
    private DefaultModel() {}

    public static Path materialise(Path weightsDir) {
        throw new UnsupportedOperationException("not merged yet");
    }
}
