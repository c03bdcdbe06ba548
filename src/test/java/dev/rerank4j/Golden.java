package dev.rerank4j;

import dev.rerank4j.io.Json;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;

/** Test fixtures: golden files under src/test/resources/golden/ and resources of test dependencies. */
public final class Golden {
    private Golden() {}

    /** A directory or file under golden/, as a path on disk. */
    public static Path path(String relative) {
        URL url = Golden.class.getResource("/golden/" + relative);
        if (url == null) throw new IllegalStateException("missing golden resource " + relative);
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    public static Map<String, Object> json(String relative) {
        try {
            return Json.parseObject(Files.readString(path(relative), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @SuppressWarnings("unchecked")
    public static List<Map<String, Object>> list(Map<String, Object> json, String key) {
        return (List<Map<String, Object>>) json.get(key);
    }

    public static int[] ints(Object jsonArray) {
        return ((List<?>) jsonArray).stream().mapToInt(v -> ((Number) v).intValue()).toArray();
    }

    /** Copies a classpath resource (e.g. from a test-scope jar) to {@code target}. */
    public static Path copyResource(String resource, Path target) {
        try (InputStream in = Golden.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("missing resource " + resource + " on the test class path");
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
