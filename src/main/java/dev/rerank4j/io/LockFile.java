package dev.rerank4j.io;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Work that one thread of one process does at a time, among all that hold the same lock file. A FileLock keeps other
 * processes out but not other threads of this JVM, so threads first queue on a JVM lock keyed by the file's real path
 * (one file reached by two paths is one lock); a waiting thread stays interruptible.
 */
public final class LockFile {
    private static final Map<Path, ReentrantLock> IN_THIS_JVM = new ConcurrentHashMap<>();

    /** Work to do under the lock. */
    public interface Work<T> {
        T run() throws IOException;
    }

    private LockFile() {}

    /**
     * Runs {@code work} holding {@code lockFile} (created, with its directories, if missing).
     *
     * @param waitingFor what an interrupted wait was for, for its message
     * @throws InterruptedIOException if the thread is interrupted while it waits
     */
    public static <T> T holding(Path lockFile, String waitingFor, Work<T> work) throws IOException {
        Files.createDirectories(lockFile.toAbsolutePath().getParent());
        try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            ReentrantLock inThisJvm = IN_THIS_JVM.computeIfAbsent(lockFile.toRealPath(), k -> new ReentrantLock());
            try {
                inThisJvm.lockInterruptibly();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting for " + waitingFor);
            }
            try (FileLock lock = channel.lock()) {
                return work.run();
            } finally {
                inThisJvm.unlock();
            }
        }
    }
}
