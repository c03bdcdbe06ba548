package dev.rerank4j.io;

import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Run by LockFileTest as another process: prints whether it could take the lock file's FileLock at once. */
public final class LockFileChild {
    public static void main(String[] args) throws Exception {
        try (FileChannel channel = FileChannel.open(Path.of(args[0]), StandardOpenOption.WRITE); FileLock lock = channel.tryLock()) {
            System.out.println(lock == null ? "busy" : "taken");
        }
    }
}
