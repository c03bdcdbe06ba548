package dev.rerank4j.hub;

import dev.rerank4j.io.AtomicFiles;
import dev.rerank4j.io.LockFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The Hugging Face hub cache on disk, in {@code huggingface_hub}'s own layout, so that a model Python fetched is found
 * here and one fetched here is found by Python:
 * <pre>
 * models--{owner}--{name}/refs/{revision}          the commit the revision pointed to when last asked
 * models--{owner}--{name}/snapshots/{commit}/{path} a link to ../../blobs/{id} (a copy where links are refused)
 * models--{owner}--{name}/blobs/{id}                the content: id is the SHA-256 (LFS) or the Git blob id
 * </pre>
 */
final class HubCache {
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");
    private final Path root;

    HubCache(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    Path root() {
        return root;
    }

    Path repoDir(RepoId id) {
        return root.resolve("models--" + id.owner() + "--" + id.name());
    }

    Path snapshot(RepoId id, String commit) {
        return repoDir(id).resolve("snapshots").resolve(commit);
    }

    Path blob(RepoId id, String blobName) {
        return repoDir(id).resolve("blobs").resolve(blobName);
    }

    /** Where a blob is written until it is complete and checked; a later download resumes from it. */
    Path partial(RepoId id, String blobName) {
        return repoDir(id).resolve("blobs").resolve(blobName + ".rerank4j-incomplete");
    }

    /** The commit the revision names: itself if it is a commit hash, else what refs/ recorded, if anything. */
    Optional<String> commit(RepoId id) throws IOException {
        if (id.isCommit()) return Optional.of(id.revision());
        Path ref = repoDir(id).resolve("refs").resolve(id.revision());
        if (!Files.isRegularFile(ref)) return Optional.empty();
        String commit = Files.readString(ref, StandardCharsets.US_ASCII).trim();
        if (!COMMIT.matcher(commit).matches()) {
            throw new IOException(ref + " does not hold a commit hash (\"" + commit + "\"): delete it and fetch again");
        }
        return Optional.of(commit);
    }

    /** Records that the revision now points to {@code commit}; a reader never sees a half-written ref. */
    void writeRef(RepoId id, String commit) throws IOException {
        if (id.isCommit()) return;
        Path ref = repoDir(id).resolve("refs").resolve(id.revision());
        Files.createDirectories(ref.getParent());
        AtomicFiles.replace(ref, tmp -> Files.writeString(tmp, commit, StandardCharsets.US_ASCII));
    }

    /** Puts the completed blob at {@code path} in the commit's snapshot: a relative link, or a copy where links are refused. */
    void link(RepoId id, String commit, RemoteFile file) throws IOException {
        Path target = snapshot(id, commit).resolve(file.path());
        Path blob = blob(id, file.blobName());
        realFolders(snapshot(id, commit), target.getParent());
        Files.deleteIfExists(target);
        try {
            Files.createSymbolicLink(target, target.getParent().relativize(blob));
        } catch (UnsupportedOperationException | FileSystemException e) {
            Files.copy(blob, target, StandardCopyOption.REPLACE_EXISTING); // as huggingface_hub does without symlinks
        }
    }

    /**
     * Creates the folders from {@code snapshot} down to {@code folder}, replacing a link planted at any of them by a real
     * folder: huggingface_hub links files, never folders, and a linked folder would have the snapshot's files deleted and
     * written wherever it points.
     */
    private static void realFolders(Path snapshot, Path folder) throws IOException {
        Path at = snapshot;
        for (Path name : snapshot.relativize(folder)) {
            at = at.resolve(name);
            if (Files.isSymbolicLink(at)) Files.delete(at); // the link, not what it points to
            Files.createDirectories(at);
        }
    }

    /** True if the snapshot holds the file with the size the hub gives it (a link to a missing blob is not there). */
    boolean has(RepoId id, String commit, RemoteFile file) throws IOException {
        Path target = snapshot(id, commit).resolve(file.path());
        return Files.isRegularFile(target) && Files.size(target) == file.size();
    }

    /** Runs {@code work} holding the repository's lock, against other threads of this JVM and other processes. */
    <T> T locked(RepoId id, LockFile.Work<T> work) throws IOException {
        Path lockFile = root.resolve(".locks").resolve("models--" + id.owner() + "--" + id.name()).resolve("rerank4j.lock");
        return LockFile.holding(lockFile, "another fetch of " + id, work);
    }

    /**
     * Marks the commit's snapshot as holding every file rerank4j fetches of it, so that a later call pinned to that
     * commit needs no network. (A snapshot with only the files a model always needs may lack a module's files: a fetch
     * that stopped halfway, or Python's single-file downloads.) Kept beside, not inside, what huggingface_hub scans.
     */
    void markComplete(RepoId id, String commit) throws IOException {
        Path marker = completeMarker(id, commit);
        Files.createDirectories(marker.getParent());
        if (!Files.exists(marker)) Files.createFile(marker);
        Files.deleteIfExists(marker(id, "started", commit));
    }

    /**
     * Marks a fetch of the commit as started, until {@link #markComplete}: a snapshot a fetch left halfway (a module's
     * weights missing) then reads as cut off, not as a model, offline or when the hub cannot be asked.
     */
    void markStarted(RepoId id, String commit) throws IOException {
        if (isComplete(id, commit)) return;
        Path marker = marker(id, "started", commit);
        Files.createDirectories(marker.getParent());
        if (!Files.exists(marker)) Files.createFile(marker);
    }

    /** Whether a fetch of the commit started and never completed. */
    boolean wasCutOff(RepoId id, String commit) {
        return Files.isRegularFile(marker(id, "started", commit)) && !isComplete(id, commit);
    }

    boolean isComplete(RepoId id, String commit) {
        return Files.isRegularFile(completeMarker(id, commit));
    }

    private Path completeMarker(RepoId id, String commit) {
        return marker(id, "complete", commit);
    }

    private Path marker(RepoId id, String kind, String commit) {
        return repoDir(id).resolve(".rerank4j").resolve(kind).resolve(commit);
    }
}
