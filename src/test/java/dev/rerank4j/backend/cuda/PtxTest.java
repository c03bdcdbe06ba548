package dev.rerank4j.backend.cuda;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The committed kernels.ptx: what the backend needs from it, that it is what tools/build-ptx makes from
 * src/main/cuda (when nvcc is at hand), and that ptxas assembles it for sm_80 and sm_90 (when ptxas is).
 * The CUDA tools are looked for as tools/build-ptx does: $NVCC / $PTXAS, tools/.venv's PyPI packages
 * (tools/requirements-cuda.txt), then PATH; without them those checks are skipped with the reason.
 */
class PtxTest {
    private static final Path COMMITTED = Path.of("src/main/resources/dev/rerank4j/backend/cuda/kernels.ptx");

    @TempDir
    Path tmp;

    private static String committed() throws IOException {
        return Files.readString(COMMITTED, StandardCharsets.UTF_8);
    }

    @Test
    void theResourceHasEveryKernelTheBackendLaunchesAtTheIsaAndTargetItPromises() throws IOException {
        String ptx = new String(Kernels.ptx(), StandardCharsets.UTF_8);
        assertEquals(committed(), ptx, "the class path resource is the committed file");
        assertTrue(ptx.contains("\n.version 8.0\n"), "PTX ISA 8.0: drivers of CUDA 12.0 and newer can JIT it");
        assertTrue(ptx.contains("\n.target sm_80\n"), "compute capability 8.0 and newer");
        for (String kernel : List.of("linear_f32", "linear_f32_wide", "linear_bf16_tc", "linear_f16_tc", "add_layernorm", "attention", "attention_tiled", "max_sim")) {
            assertTrue(ptx.contains(".entry " + kernel + "("), kernel);
        }
        assertTrue(ptx.contains("wmma.mma.sync.aligned.row.col.m16n16k16.f32.bf16.bf16.f32"), "BF16 tensor-core MMA");
        assertTrue(ptx.contains("wmma.mma.sync.aligned.row.col.m16n16k16.f32.f32"), "F16 tensor-core MMA (PTX names only the F32 D and C types for F16 inputs)");
    }

    @Test
    void theCommittedPtxIsWhatBuildPtxMakesFromTheCudaSources() throws Exception {
        List<Path> nvccs = tools("NVCC", "nvcc");
        assumeTrue(!nvccs.isEmpty(), "no nvcc ($NVCC, tools/.venv after `pip install -r tools/requirements-cuda.txt`, or PATH):"
                + " cannot check kernels.ptx against src/main/cuda");
        Path nvcc = nvccs.getFirst();
        ProcessBuilder pb = new ProcessBuilder("bash", "tools/build-ptx", "--stdout");
        pb.environment().put("NVCC", nvcc.toString());
        String generated = run(pb, 300);
        String mine = compilerLine(committed()), theirs = compilerLine(generated);
        assumeTrue(mine.equals(theirs), "kernels.ptx was made by \"" + mine + "\" but " + nvcc + " makes \"" + theirs
                + "\": the comparison needs the same compiler (tools/requirements-cuda.txt)");
        String[] a = committed().split("\n", -1), b = generated.split("\n", -1);
        for (int i = 0; i < Math.min(a.length, b.length); i++) {
            if (!a[i].equals(b[i])) {
                fail("kernels.ptx differs from tools/build-ptx's output at line " + (i + 1) + ": committed \"" + a[i]
                        + "\", built \"" + b[i] + "\"; run tools/build-ptx and commit the PTX");
            }
        }
        assertEquals(a.length, b.length, "kernels.ptx and tools/build-ptx's output differ in length; run tools/build-ptx");
    }

    @Test
    void theCommittedPtxAssemblesForSm80AndSm90WithEveryPtxasAtHand() throws Exception {
        List<Path> assemblers = tools("PTXAS", "ptxas");
        assumeTrue(!assemblers.isEmpty(), "no ptxas ($PTXAS, tools/.venv after `pip install -r tools/requirements-cuda.txt`,"
                + " or PATH): cannot assemble kernels.ptx");
        for (Path ptxas : assemblers) {
            String version = run(new ProcessBuilder(ptxas.toString(), "--version"), 60).lines()
                    .filter(l -> l.startsWith("Cuda compilation tools")).findFirst().orElse("?");
            for (String arch : List.of("sm_80", "sm_90")) {
                run(new ProcessBuilder(ptxas.toString(), "-arch=" + arch, "-o", tmp.resolve(arch + ".cubin").toString(),
                        COMMITTED.toString()), 300);
                assertTrue(Files.size(tmp.resolve(arch + ".cubin")) > 0, ptxas + " " + arch);
            }
            System.out.printf("kernels.ptx assembles for sm_80 and sm_90 with %s (%s)%n", ptxas, version);
        }
    }

    /** "Cuda compilation tools, release …" from a PTX header, which names the compiler that made it. */
    private static String compilerLine(String ptx) {
        return ptx.lines().limit(10).filter(l -> l.startsWith("// Cuda compilation tools")).findFirst()
                .orElse("(no compiler line)");
    }

    /** $env, then every nvidia/…/bin/name in tools/.venv, then name on PATH. */
    private static List<Path> tools(String env, String name) throws IOException {
        List<Path> found = new ArrayList<>();
        String fromEnv = System.getenv(env);
        if (fromEnv != null && !fromEnv.isBlank()) found.add(Path.of(fromEnv));
        Path lib = Path.of("tools/.venv/lib");
        if (Files.isDirectory(lib)) {
            try (Stream<Path> pythons = Files.list(lib)) {
                for (Path python : pythons.toList()) {
                    Path nvidia = python.resolve("site-packages/nvidia");
                    if (!Files.isDirectory(nvidia)) continue;
                    try (Stream<Path> packages = Files.list(nvidia)) {
                        packages.map(p -> p.resolve("bin").resolve(name)).filter(Files::isExecutable).sorted().forEach(found::add);
                    }
                }
            }
        }
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, name))) {
                found.add(Path.of(dir, name));
                break;
            }
        }
        return found;
    }

    /** Runs a command, fails the test with its output unless it exits 0, and returns its standard output. */
    private String run(ProcessBuilder pb, int seconds) throws Exception {
        Path err = Files.createTempFile(tmp, "stderr", ".txt");
        Process p = pb.redirectError(err.toFile()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail(pb.command() + " took more than " + seconds + " s");
        }
        assertEquals(0, p.exitValue(), () -> pb.command() + " failed:\n" + readQuietly(err));
        return out;
    }

    private static String readQuietly(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "(" + e + ")";
        }
    }
}
