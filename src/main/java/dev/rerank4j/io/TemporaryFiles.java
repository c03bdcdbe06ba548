package dev.rerank4j.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * Temporary files and folders that do not outlive the JVM. A conversion or copy stopped by Ctrl-C or SIGTERM runs no
 * finally block, only shutdown hooks: without one, it left its half-written weights (GBs, hidden) beside the model, in
 * the output's folder or in java.io.tmpdir. What is tracked and not released by the time the JVM exits is deleted then.
 */
public final class TemporaryFiles {
    private static final Set<Path> LIVE = ConcurrentHashMap.newKeySet();

    static {
        try {
            Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("rerank4j-temporary-files").unstarted(TemporaryFiles::deleteAll));
        } catch (IllegalStateException e) {
            // first used while the JVM is already exiting: nothing can be added, and nothing is left to guard
        }
    }

    private TemporaryFiles() {}

    /** {@code path}, a file or folder, to be deleted at exit unless {@link #release}d first. */
    public static Path track(Path path) {
        LIVE.add(path);
        return path;
    }

    /** Forgets {@code path}: renamed into place, or deleted already. */
    public static void release(Path path) {
        LIVE.remove(path);
    }

    /**
     * Deletes a tracked file that is mapped now (the mapping keeps its data) and forgets it; on a system that refuses to
     * delete a mapped file, it stays tracked and goes at exit.
     */
    public static void deleteMapped(Path file) {
        try {
            Files.deleteIfExists(file);
            release(file);
        } catch (IOException e) {
            // kept until exit
        }
    }

    /** Deletes {@code path} and, for a folder, everything in it; nothing if it is not there. */
    public static void deleteRecursively(Path path) throws IOException {
        if (!Files.exists(path)) return;
        try (Stream<Path> s = Files.walk(path)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    private static void deleteAll() {
        for (Path path : LIVE) {
            try {
                deleteRecursively(path);
            } catch (IOException | RuntimeException e) {
                // at exit there is no one to tell; the rest are still deleted
            }
        }
    }
}
