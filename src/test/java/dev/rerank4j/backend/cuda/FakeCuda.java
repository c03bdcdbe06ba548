package dev.rerank4j.backend.cuda;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Builds src/test/c/fake_libcuda.c with the C compiler on PATH into a shared library standing in for
 * libcuda.so.1, one per set of -D switches (each is a separate file, so a separate dlopen handle with its
 * own counters), and reads its counters back. Tests using it are skipped, with the reason, without a C compiler.
 */
@SuppressWarnings("restricted") // native access is this class's job; the JVM runs with --enable-native-access
public final class FakeCuda {
    private static final Path SOURCE = Path.of("src/test/c/fake_libcuda.c");
    private static final Path EMULATION = Path.of("src/test/c/emulation");
    private static final Map<List<String>, String> BUILT = new ConcurrentHashMap<>();

    private FakeCuda() {}

    /** The path of a fake libcuda built with {@code defines} (e.g. "FAKE_INIT_RESULT=100"). */
    public static String library(String... defines) {
        String compiler = compiler();
        assumeTrue(compiler != null, "no cc or gcc on PATH: cannot build the fake libcuda, so this test cannot run");
        return BUILT.computeIfAbsent(List.of(defines), d -> build(compiler, d));
    }

    /**
     * A fake libcuda whose cuLaunchKernel runs the real kernels on the CPU (src/test/c/emulation): needs a C++20
     * compiler as well; skipped with the reason without one.
     */
    public static String emulatedGpu() {
        String c = compiler(), cxx = onPath("c++", "g++");
        assumeTrue(c != null && cxx != null, "no cc/gcc and c++/g++ on PATH: cannot build the emulated GPU, so this test cannot run");
        assumeTrue(supportsCpp20Barrier(cxx), cxx + " cannot compile C++20's std::barrier (g++ 11 or newer can): "
                + "cannot build the emulated GPU, so this test cannot run");
        return BUILT.computeIfAbsent(List.of("FAKE_EMULATE"), d -> {
            try {
                Path dir = Files.createTempDirectory("emulated-libcuda");
                Path fake = dir.resolve("fake.o"), emulator = dir.resolve("emulator.o"), lib = dir.resolve("libcuda.so.1");
                exec(List.of(c, "-c", "-fPIC", "-O1", "-DFAKE_EMULATE", "-o", fake.toString(), SOURCE.toAbsolutePath().toString()));
                exec(List.of(cxx, "-c", "-fPIC", "-pthread", "-O1", "-std=c++20", "-I", EMULATION.toAbsolutePath().toString(),
                        "-o", emulator.toString(), EMULATION.resolve("emulator.cpp").toAbsolutePath().toString()));
                exec(List.of(cxx, "-shared", "-pthread", "-o", lib.toString(), fake.toString(), emulator.toString()));
                for (Path p : List.of(dir, fake, emulator, lib)) p.toFile().deleteOnExit();
                return lib.toString();
            } catch (IOException e) {
                throw new IllegalStateException("building the emulated libcuda failed", e);
            }
        });
    }

    /** Whether {@code cxx} is new enough for the emulator, so an old compiler skips these tests rather than failing them. */
    private static boolean supportsCpp20Barrier(String cxx) {
        try {
            Path dir = Files.createTempDirectory("cxx20-probe");
            Path src = dir.resolve("probe.cpp"), obj = dir.resolve("probe.o");
            Files.writeString(src, "#include <barrier>\nint main() { std::barrier<> b(1); b.arrive_and_wait(); }\n");
            Process p = new ProcessBuilder(cxx, "-std=c++20", "-c", "-o", obj.toString(), src.toString())
                    .redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            boolean ok = p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0;
            Files.deleteIfExists(obj);
            Files.deleteIfExists(src);
            Files.deleteIfExists(dir);
            return ok;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static void exec(List<String> command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("failed: " + command + "\n" + output);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String compiler() {
        return onPath("cc", "gcc");
    }

    private static String onPath(String... names) {
        for (String name : names) {
            for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
                if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, name))) return Path.of(dir, name).toString();
            }
        }
        return null;
    }

    private static String build(String compiler, List<String> defines) {
        try {
            Path dir = Files.createTempDirectory("fake-libcuda");
            Path lib = dir.resolve("libcuda.so.1");
            List<String> command = new ArrayList<>(List.of(compiler, "-shared", "-fPIC", "-O1", "-o", lib.toString()));
            for (String d : defines) command.add("-D" + d);
            command.add(SOURCE.toAbsolutePath().toString());
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("building the fake libcuda failed: " + command + "\n" + output);
            }
            // deleteOnExit deletes in the reverse order of registration: the library first, then its (empty) folder
            dir.toFile().deleteOnExit();
            lib.toFile().deleteOnExit();
            return lib.toString();
        } catch (IOException e) {
            throw new IllegalStateException("building the fake libcuda failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Calls the fake's {@code int name(void)} counter (fake_live_device_allocations, ...). */
    public static int counter(String library, String name) {
        MemorySegment symbol = SymbolLookup.libraryLookup(Path.of(library), Arena.global()).find(name)
                .orElseThrow(() -> new AssertionError(library + " has no " + name));
        try {
            return (int) Linker.nativeLinker().downcallHandle(symbol, FunctionDescriptor.of(ValueLayout.JAVA_INT)).invokeExact();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** What the fake's last cuLaunchKernel was asked: "name grid=x,y,z block=x,y,z shared=n". */
    public static String lastLaunch(String library) {
        MemorySegment symbol = SymbolLookup.libraryLookup(Path.of(library), Arena.global()).find("fake_last_launch")
                .orElseThrow();
        try {
            MemorySegment s = (MemorySegment) Linker.nativeLinker()
                    .downcallHandle(symbol, FunctionDescriptor.of(ValueLayout.ADDRESS)).invokeExact();
            return s.reinterpret(256).getString(0);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }
}
