package dev.rerank4j;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * A class's {@code main} in a new JVM on this one's class path, for what only a fresh process shows: an interpreted
 * JVM, a JVM flag, a second process holding a lock. Its output goes to files, so a child that hangs fails the test at
 * the timeout instead of blocking it on a pipe.
 */
public final class ChildJvm {
    /** What the child printed on each stream (stderr without the JVM's incubator-module warning), and its exit code. */
    public record Result(String out, String err, int exitCode) {
        /** Both streams, stdout first. */
        public String all() {
            return out + err;
        }
    }

    private ChildJvm() {}

    public static Result run(List<String> jvmOptions, Class<?> main, Duration timeout, String... args)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElseThrow());
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
        command.addAll(List.of(args));
        Path out = Files.createTempFile("child-jvm", ".out"), err = Files.createTempFile("child-jvm", ".err");
        try {
            Process child = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!child.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                child.destroyForcibly();
                fail(main.getSimpleName() + " did not finish within " + timeout + "; it printed: " + Files.readString(out)
                        + Files.readString(err));
            }
            String errText = Files.readString(err, StandardCharsets.UTF_8).lines()
                    .filter(l -> !l.startsWith("WARNING: Using incubator modules")).map(l -> l + "\n").reduce("", String::concat);
            return new Result(Files.readString(out, StandardCharsets.UTF_8), errText, child.exitValue());
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
