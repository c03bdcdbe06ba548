package dev.rerank4j;

import dev.rerank4j.backend.MissingKernelException;
import dev.rerank4j.backend.cuda.CudaException;
import dev.rerank4j.backend.cuda.CudaProbe;
import dev.rerank4j.backend.cuda.FakeCuda;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/** Options.backend through Reranker.load on a machine without a usable GPU (skipped, with the reason, on one that has it). */
class BackendSelectionTest {
    private static final List<String> DOCS = List.of("Berlin has 3.7 million inhabitants.", "Paris is in France.", "");

    private static void assumeNoGpu() {
        CudaProbe.Result probe = CudaProbe.probe();
        assumeFalse(probe.usable(), () -> "a usable CUDA device is present (" + probe.description() + "): these tests are for machines without one");
    }

    @Test
    void autoRunsOnTheCpuWithoutAGpuAndScoresExactlyAsTheCpuBackend() {
        assumeNoGpu();
        Options options = Options.defaults().withThreads(2).withScoreFunction(Options.ScoreFunction.RAW);
        try (Reranker auto = Reranker.load(Golden.path("bert-tiny-ce"), options);
             Reranker cpu = Reranker.load(Golden.path("bert-tiny-ce"), options.withBackend(Options.BackendChoice.CPU))) {
            assertEquals("cpu", auto.backendName());
            assertEquals("cpu", cpu.backendName());
            assertArrayEquals(cpu.score("How many people live in Berlin?", DOCS), auto.score("How many people live in Berlin?", DOCS));
        }
    }

    @Test
    void cudaOnDemandWithoutAGpuFailsWithTheMissingPieceInsteadOfLoading() {
        assumeNoGpu();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Reranker.load(Golden.path("bert-tiny-ce"),
                Options.defaults().withBackend(Options.BackendChoice.CUDA)));
        assertTrue(e.getMessage().startsWith("the CUDA backend was requested but cannot be used: "), e.getMessage());
        assertTrue(e.getMessage().contains("libcuda.so.1") || e.getMessage().contains("device")
                || e.getMessage().contains("compute capability"), e.getMessage());
    }

    /** A GPU that starts but cannot hold the model (the fake fails every device allocation after the third). */
    @Test
    void autoFallsBackToTheCpuWhenTheGpuRunsOutOfMemoryWhileLoading() {
        String full = FakeCuda.library("FAKE_ALLOC_LIMIT=3");
        Options options = Options.defaults().withThreads(2).withScoreFunction(Options.ScoreFunction.RAW);
        String before = System.getProperty(CudaProbe.LIBRARY_PROPERTY);
        System.setProperty(CudaProbe.LIBRARY_PROPERTY, full);
        try {
            try (Reranker auto = Reranker.load(Golden.path("bert-tiny-ce"), options);
                 Reranker cpu = Reranker.load(Golden.path("bert-tiny-ce"), options.withBackend(Options.BackendChoice.CPU))) {
                assertEquals("cpu", auto.backendName());
                assertArrayEquals(cpu.score("How many people live in Berlin?", DOCS), auto.score("How many people live in Berlin?", DOCS));
            }
            CudaException e = assertThrows(CudaException.class, () -> Reranker.load(Golden.path("bert-tiny-ce"),
                    options.withBackend(Options.BackendChoice.CUDA)));
            assertTrue(e.getMessage().startsWith("cuMemAlloc_v2 failed"), e.getMessage());
        } finally {
            if (before == null) System.clearProperty(CudaProbe.LIBRARY_PROPERTY);
            else System.setProperty(CudaProbe.LIBRARY_PROPERTY, before);
        }
    }

    /**
     * A GPU that starts, and a model whose kernels the CUDA backend lacks (Qwen3's causal grouped-query attention): AUTO
     * loads it on the CPU; CUDA asked for by name refuses it at load, saying where it runs.
     */
    @Test
    void aModelTheGpuHasNoKernelsForRunsOnTheCpuUnderAuto() {
        Options options = Options.defaults().withThreads(2).withScoreFunction(Options.ScoreFunction.RAW);
        String before = System.getProperty(CudaProbe.LIBRARY_PROPERTY);
        System.setProperty(CudaProbe.LIBRARY_PROPERTY, FakeCuda.library());
        try {
            try (Reranker auto = Reranker.load(Golden.path("qwen3-tiny-reranker"), options);
                 Reranker cpu = Reranker.load(Golden.path("qwen3-tiny-reranker"), options.withBackend(Options.BackendChoice.CPU))) {
                assertEquals("cpu", auto.backendName());
                assertArrayEquals(cpu.score("How many people live in Berlin?", DOCS), auto.score("How many people live in Berlin?", DOCS));
            }
            MissingKernelException e = assertThrows(MissingKernelException.class, () -> Reranker.load(Golden.path("qwen3-tiny-reranker"),
                    options.withBackend(Options.BackendChoice.CUDA)));
            assertTrue(e.getMessage().contains("the cuda backend has no kernels for Qwen's causal grouped-query attention"), e.getMessage());
            assertTrue(e.getMessage().contains("the CPU backend has them"), e.getMessage());
        } finally {
            if (before == null) System.clearProperty(CudaProbe.LIBRARY_PROPERTY);
            else System.setProperty(CudaProbe.LIBRARY_PROPERTY, before);
        }
    }

    /** A JVM without --enable-native-access: AUTO runs on the CPU without touching native code or the JDK's warning. */
    @Test
    void autoWithoutNativeAccessLooksForNoGpu() throws Exception {
        ChildJvm.Result child = ChildJvm.run(List.of("--add-modules", "jdk.incubator.vector"), WithoutNativeAccess.class,
                java.time.Duration.ofSeconds(120));
        String out = child.all();
        assertEquals(0, child.exitCode(), out);
        assertTrue(out.contains("backend: cpu") && out.contains("native access is not enabled"), out);
        assertFalse(out.contains("restricted method"), out);
    }

    /** A JVM that denies native access: CUDA asked for by name says which flag grants it. */
    @Test
    void cudaAskedForWhereNativeAccessIsDeniedNamesTheFlag() throws Exception {
        ChildJvm.Result child = ChildJvm.run(List.of("--add-modules", "jdk.incubator.vector", "--illegal-native-access=deny"),
                CudaWithoutNativeAccess.class, java.time.Duration.ofSeconds(120));
        String out = child.all();
        assertEquals(0, child.exitCode(), out);
        assertTrue(out.contains("the JVM denies rerank4j native access, which the CUDA backend needs (java"
                + " --enable-native-access=ALL-UNNAMED"), out);
    }

    /** The child: asks for CUDA by name and prints the refusal. */
    static final class CudaWithoutNativeAccess {
        public static void main(String[] args) {
            try (Reranker reranker = Reranker.load(Golden.path("bert-tiny-ce"), Options.defaults().withBackend(Options.BackendChoice.CUDA))) {
                System.out.println("backend: " + reranker.backendName());
            } catch (IllegalStateException e) {
                System.out.println("refused: " + e.getMessage());
            }
        }
    }

    /** The child: loads with AUTO and says which backend it got. */
    static final class WithoutNativeAccess {
        public static void main(String[] args) {
            try (Reranker reranker = Reranker.load(Golden.path("bert-tiny-ce"))) {
                System.out.println("backend: " + reranker.backendName());
            }
        }
    }

    @Test
    void theDefaultIsAuto() {
        assertEquals(Options.BackendChoice.AUTO, Options.defaults().backend());
        assertThrows(IllegalArgumentException.class, () -> Options.defaults().withBackend(null));
    }
}
