package dev.rerank4j;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A cold JVM scores exactly as a warm one. Until C2 compiles a kernel, the Vector API runs its Java fallback;
 * where an operation leaves its rounding open (the order of {@code reduceLanes(ADD)}, the math library behind
 * {@code lanewise(TANH)}), the two differed in the last bits, and the same pairs got different scores in a
 * process's first calls than in its later ones. Here a JVM that never compiles anything ({@code -Xint}, the
 * fallback throughout) must give the bits this one gives once its kernels are compiled.
 */
class ColdJvmTest {
    static final String QUERY = "where is the river";
    static final List<String> DOCS = List.of("the river runs through the old town", "music and light",
            "a long document about water, rivers, boats and the people who live by them in the city", "rivers");

    @Test
    void anInterpretedJvmScoresBitForBitAsACompiledOne() throws Exception {
        float[] warm;
        try (Reranker reranker = load()) {
            for (int call = 0; call < 3000; call++) reranker.score(QUERY, DOCS); // C2 compiles the kernels on the way
            warm = reranker.score(QUERY, DOCS);
        }
        List<String> command = new ArrayList<>(List.of(
                ProcessHandle.current().info().command().orElseThrow(), "-Xint", "--add-modules", "jdk.incubator.vector",
                "-cp", System.getProperty("java.class.path"), Cold.class.getName()));
        Process child = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        boolean finished = child.waitFor(120, TimeUnit.SECONDS); // it prints one line: no pipe fills up meanwhile
        if (!finished) child.destroyForcibly();
        assertTrue(finished, "the interpreted JVM did not finish within 120 s");
        String out = new String(child.getInputStream().readAllBytes()).trim();
        assertEquals(0, child.exitValue(), "the interpreted JVM failed: " + out);
        String[] bits = out.split("\\s+");
        assertEquals(warm.length, bits.length, "child printed: " + out);
        for (int i = 0; i < warm.length; i++) {
            assertEquals(Float.floatToRawIntBits(warm[i]), Integer.parseInt(bits[i]),
                    "doc " + i + ": compiled " + warm[i] + ", interpreted " + Float.intBitsToFloat(Integer.parseInt(bits[i])));
        }
    }

    static Reranker load() {
        Path dir = Golden.path("bert-tiny-ce");
        return Reranker.load(dir, Options.defaults().withThreads(1).withScoreFunction(Options.ScoreFunction.RAW));
    }

    /** The interpreted side: prints the raw bits of each score. */
    static final class Cold {
        public static void main(String[] args) throws IOException {
            try (Reranker reranker = load()) {
                StringBuilder out = new StringBuilder();
                for (float s : reranker.score(QUERY, DOCS)) out.append(Float.floatToRawIntBits(s)).append(' ');
                System.out.println(out);
            }
        }
    }
}
