package dev.rerank4j;

import dev.rerank4j.backend.cuda.CudaProbe;
import dev.rerank4j.backend.cuda.FakeCuda;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A JVM started without {@code --add-modules jdk.incubator.vector}, as a first program on the class path is: the CPU
 * kernels cannot link there, and a load used to fail deep inside with {@code NoClassDefFoundError: jdk/incubator/vector/Vector}.
 */
class MissingVectorModuleTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(120);

    @Test
    void aLoadThatMayRunOnTheCpuNamesTheFlagBeforeOpeningAnything() throws Exception {
        ChildJvm.Result child = ChildJvm.run(List.of(), Load.class, TIMEOUT, "AUTO", "CPU", "AUTO");
        String out = child.all();
        assertEquals(0, child.exitCode(), out);
        assertFalse(out.contains("NoClassDefFoundError"), out);
        List<String> lines = out.lines().toList();
        assertEquals(3, lines.size(), out);
        for (String line : lines) {
            assertTrue(line.startsWith("IllegalStateException: the CPU backend needs the Vector API"), out);
            assertTrue(line.contains("--add-modules jdk.incubator.vector") && line.contains("requires jdk.incubator.vector"), out);
            assertTrue(line.endsWith("mapped: false"), "the weights file stays unmapped: " + out);
        }
        assertTrue(lines.get(0).contains("AUTO runs on the CPU"), out);
        assertFalse(lines.get(1).contains("AUTO"), out);
    }

    /**
     * CUDA's kernels are PTX, not the Vector API: asked for by name, or found by AUTO on a usable GPU (which loaded and
     * scored without the module before the check came), it loads and scores without the module.
     */
    @ParameterizedTest
    @ValueSource(strings = {"CUDA", "AUTO"})
    void aUsableGpuNeedsNoVectorApi(String backend) throws Exception {
        String gpu = FakeCuda.emulatedGpu();
        ChildJvm.Result child = ChildJvm.run(List.of("--enable-native-access=ALL-UNNAMED", "-D" + CudaProbe.LIBRARY_PROPERTY + "=" + gpu),
                Load.class, TIMEOUT, backend);
        String out = child.all();
        assertEquals(0, child.exitCode(), out);
        assertTrue(out.startsWith("cuda 2 scores"), out);
    }

    /** AUTO whose GPU answers but will not start falls back to the CPU: that needs the module, and the message says why. */
    @Test
    void autoOnAGpuThatFailsToStartNamesTheFlagAndWhyNotTheGpu() throws Exception {
        String tooNew = FakeCuda.library("FAKE_MODULE_RESULT=222");
        ChildJvm.Result child = ChildJvm.run(List.of("--enable-native-access=ALL-UNNAMED", "-D" + CudaProbe.LIBRARY_PROPERTY + "=" + tooNew),
                Load.class, TIMEOUT, "AUTO");
        String out = child.all();
        assertEquals(0, child.exitCode(), out);
        assertFalse(out.contains("NoClassDefFoundError"), out);
        assertTrue(out.startsWith("IllegalStateException: the CPU backend needs the Vector API") && out.contains("--add-modules jdk.incubator.vector")
                && out.contains("failed to start"), out);
    }

    /** The child: loads the tiny cross-encoder once per backend named, and prints what came of each. */
    static final class Load {
        public static void main(String[] args) throws Exception {
            for (String backend : args) {
                try (Reranker reranker = Reranker.load(Golden.path("bert-tiny-ce"), Options.defaults().withBackend(Options.BackendChoice.valueOf(backend)))) {
                    System.out.println(reranker.backendName() + " " + reranker.score("where is the river", List.of("a river", "music")).length + " scores");
                } catch (RuntimeException e) {
                    System.out.println(e.getClass().getSimpleName() + ": " + e.getMessage() + " mapped: " + mapped());
                }
            }
        }

        /** Whether this process maps a file of the model (Linux's view of its mappings; false where there is none). */
        private static boolean mapped() throws Exception {
            Path maps = Path.of("/proc/self/maps");
            return Files.isReadable(maps) && Files.readString(maps).contains("bert-tiny-ce");
        }
    }
}
