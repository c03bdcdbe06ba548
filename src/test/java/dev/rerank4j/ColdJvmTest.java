package dev.rerank4j;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
        ChildJvm.Result child = ChildJvm.run(List.of("-Xint", "--add-modules", "jdk.incubator.vector"), Cold.class, Duration.ofSeconds(120));
        String out = child.out().trim();
        assertEquals(0, child.exitCode(), "the interpreted JVM failed: " + child.all());
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
