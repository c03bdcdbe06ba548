package dev.rerank4j;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A JVM whose cap on native memory (-XX:MaxDirectMemorySize) is below what a model's packed weights need: the load
 * fails with an error that says so and names the flag, leaves no worker thread or file mapping behind, and the
 * command line reports it in one line. The tiny cross-encoder packs 73.7 KB of weights; the cap here is 40 KB.
 */
class NativeMemoryLimitTest {
    private static final String CAP = "-XX:MaxDirectMemorySize=40k";

    @Test
    void aLoadTheJvmRefusesMemoryForSaysWhichFlagToRaiseAndLeavesNothingOpen() throws Exception {
        String out = runChild(List.of(CAP), Child.class);
        List<String> lines = reports(out);
        assertEquals(3, lines.size(), out);
        assertTrue(lines.get(0).startsWith("REFUSED cannot pack tensor encoder.layer."), out);
        assertTrue(lines.get(0).contains("-XX:MaxDirectMemorySize, which defaults to the maximum heap size (-Xmx)"), out);
        assertEquals("THREADS 0", lines.get(1), "the backend's workers were left running: " + out);
        assertEquals("MAPPED false", lines.get(2), "model.safetensors stayed mapped: " + out);
    }

    @Test
    void underAWideEnoughCapTheSameModelLoads() throws Exception {
        String out = runChild(List.of("-XX:MaxDirectMemorySize=1m"), Child.class);
        assertEquals(List.of("LOADED"), reports(out), out);
    }

    /**
     * Closing a reranker frees its packed weights at once, so a service that loads a model again and again under a cap
     * that holds one copy (73.7 KB of 100 KB) keeps going, even with the collection the JDK runs at the cap turned off.
     */
    @Test
    void aModelLoadedAgainAfterTheOldOneIsClosedGetsItsMemoryBackAtOnce() throws Exception {
        String out = runChild(List.of("-XX:MaxDirectMemorySize=100k", "-XX:+DisableExplicitGC"), Child.class, "reload");
        assertEquals(List.of("LOADED 20 times"), reports(out), out);
    }

    /**
     * A refused load gives back what it had packed before the refusal: with one model open under a cap that holds one
     * copy, a second load is refused part-way, and a third is refused at the same tensor with the same bytes held (a count
     * left behind by the second would show there); once the first is closed, loads go on (with no GC to tidy up).
     */
    @Test
    void aRefusedLoadGivesBackWhatItHadPackedSoFar() throws Exception {
        String out = runChild(List.of("-XX:MaxDirectMemorySize=100k", "-XX:+DisableExplicitGC"), Child.class, "refused-then-reload");
        List<String> lines = reports(out);
        assertEquals(3, lines.size(), out);
        assertTrue(lines.get(0).startsWith("REFUSED cannot pack tensor ") && lines.get(0).contains("encoder.layer.")
                && !lines.get(0).contains("with 0.0 KB of this model's packed weights"), "refused before it had packed anything: " + out);
        assertEquals(lines.get(0), lines.get(1), "the first refusal left memory counted: " + out);
        assertEquals("LOADED 20 times", lines.get(2), out);
    }

    /** One never closed gives its memory back once it is unreachable: at the cap the JDK collects and waits for it. */
    @Test
    void aModelLeftUnclosedGivesItsMemoryBackToTheGc() throws Exception {
        String out = runChild(List.of("-XX:MaxDirectMemorySize=100k"), Child.class, "reload-unclosed");
        assertEquals(List.of("LOADED 20 times"), reports(out), out);
    }

    @Test
    void theCommandLineReportsTheRefusalInOneMessage(@TempDir Path tmp) throws Exception {
        Path docs = Files.writeString(tmp.resolve("docs.txt"), "a river\nmusic\n");
        String out = runChild(List.of(CAP), dev.rerank4j.cli.Main.class, "--backend", "cpu",
                "--model", Golden.path("bert-tiny-ce").toString(), "--query", "river", "--docs", docs.toString());
        assertTrue(out.contains("rerank: out of memory: cannot pack tensor encoder.layer."), out);
        assertTrue(out.contains("JDK_JAVA_OPTIONS=-XX:MaxDirectMemorySize="), out);
        assertTrue(!out.contains("\tat "), "no stack trace: " + out);
        assertTrue(out.endsWith("exit 1"), out);
    }

    /** The child's own lines, without the log's. */
    private static List<String> reports(String out) {
        return out.lines().filter(l -> l.matches("(LOADED|REFUSED|THREADS|MAPPED)\\b.*")).toList();
    }

    /** Runs {@code main} in a JVM with {@code jvmOptions}; its output (both streams), then "exit N". */
    private static String runChild(List<String> jvmOptions, Class<?> main, String... args) throws Exception {
        List<String> options = new ArrayList<>(List.of("--add-modules", "jdk.incubator.vector"));
        options.addAll(jvmOptions);
        ChildJvm.Result child = ChildJvm.run(options, main, Duration.ofSeconds(60), args);
        return child.all() + "exit " + child.exitCode();
    }

    /**
     * Loads the tiny cross-encoder on the CPU; prints how it ended, the backend threads left, and whether the weights are
     * still mapped. With "reload", loads and closes it 20 times; with "reload-unclosed", loads it 20 times and drops it;
     * with "refused-then-reload", loads it, tries twice to load it again while the first is open, closes the first, then
     * does "reload".
     */
    static final class Child {
        public static void main(String[] args) throws Exception {
            Path dir = Golden.path("bert-tiny-ce");
            if (args.length > 0 && args[0].equals("refused-then-reload")) {
                Reranker first = Reranker.load(dir, Options.defaults().withBackend(Options.BackendChoice.CPU));
                for (int i = 0; i < 2; i++) {
                    try {
                        Reranker.load(dir, Options.defaults().withBackend(Options.BackendChoice.CPU)).close();
                        System.out.println("LOADED twice");
                        return;
                    } catch (OutOfMemoryError e) {
                        System.out.println("REFUSED " + e.getMessage());
                    }
                }
                first.close();
                args = new String[] {"reload"};
            }
            if (args.length > 0) {
                for (int i = 0; i < 20; i++) {
                    Reranker reranker = Reranker.load(dir, Options.defaults().withBackend(Options.BackendChoice.CPU));
                    if (args[0].equals("reload")) reranker.close();
                }
                System.out.println("LOADED 20 times");
                return;
            }
            try (Reranker reranker = Reranker.load(dir, Options.defaults().withBackend(Options.BackendChoice.CPU).withThreads(2))) {
                System.out.println("LOADED");
                return;
            } catch (OutOfMemoryError e) {
                System.out.println("REFUSED " + e.getMessage());
            }
            long deadline = System.nanoTime() + 10_000_000_000L; // a stopped worker ends at its next wake-up
            while (workers() > 0 && System.nanoTime() < deadline) Thread.sleep(10);
            System.out.println("THREADS " + workers());
            String weights = dir.resolve("model.safetensors").toRealPath().toString();
            System.out.println("MAPPED " + Files.readAllLines(Path.of("/proc/self/maps")).stream().anyMatch(l -> l.endsWith(weights)));
        }

        private static long workers() {
            return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("rerank4j-cpu-")).count();
        }
    }
}
