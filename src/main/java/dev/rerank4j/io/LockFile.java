package dev.rerank4j.io;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.FileLockInterruptionException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Work that one thread of one process does at a time, among all that hold the same lock file. A FileLock keeps other
 * processes out but not other threads of this JVM, so threads first queue on a JVM lock keyed by the file's real path
 * (one file reached by two paths is one lock), and only the thread holding it opens the file: on Linux, closing any
 * channel to a file drops every lock this process holds on it, so a waiting thread's channel, closed when it is
 * interrupted, would let another process in while the holder works. A waiting thread stays interruptible.
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
     * @throws InterruptedIOException if the thread is interrupted while it waits, for this JVM or another process
     * @throws IllegalStateException  if this thread already holds the lock (a FileLock cannot be taken twice)
     */
    public static <T> T holding(Path lockFile, String waitingFor, Work<T> work) throws IOException {
        Files.createDirectories(lockFile.toAbsolutePath().getParent());
        try {
            Files.createFile(lockFile);
        } catch (FileAlreadyExistsException alreadyThere) {
            // another holder made it: the lock is on the file, not on who created it
        }
        ReentrantLock inThisJvm = IN_THIS_JVM.computeIfAbsent(lockFile.toRealPath(), k -> new ReentrantLock());
        if (inThisJvm.isHeldByCurrentThread()) {
            throw new IllegalStateException(lockFile + " is already held by this thread (waiting for " + waitingFor + ")");
        }
        try {
            inThisJvm.lockInterruptibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw interrupted(waitingFor);
        }
        try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock lock = lock(channel, waitingFor)) {
            return work.run();
        } finally {
            inThisJvm.unlock();
        }
    }

    /** Waits for other processes to let go of the file. */
    private static FileLock lock(FileChannel channel, String waitingFor) throws IOException {
        try {
            return channel.lock();
        } catch (FileLockInterruptionException | ClosedByInterruptException e) {
            throw interrupted(waitingFor);
        }
    }

    private static InterruptedIOException interrupted(String waitingFor) {
        return new InterruptedIOException("interrupted while waiting for " + waitingFor);
    }
}
