package dev.rerank4j.hub;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * One file of a repository at a commit, as the hub's API lists it: its path in the repository, its size, and what
 * proves its content: the SHA-256 of a Git LFS file (the weights), or the Git blob id of a regular one (the JSON files).
 * The hub's cache names a blob by that same id, so a file fetched here is one Python's {@code huggingface_hub} finds.
 */
record RemoteFile(String path, long size, String sha256, String gitBlobId) {
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern GIT_OID = Pattern.compile("[0-9a-f]{40}");

    RemoteFile {
        requireSafePath(path);
        if (size < 0) throw new IllegalArgumentException(path + ": negative size " + size);
        if (sha256 != null && !SHA256.matcher(sha256).matches()) {
            throw new IllegalArgumentException(path + ": lfs sha256 \"" + sha256 + "\" is not 64 lowercase hex digits");
        }
        if (sha256 == null && (gitBlobId == null || !GIT_OID.matcher(gitBlobId).matches())) {
            throw new IllegalArgumentException(path + ": blob id \"" + gitBlobId + "\" is not 40 lowercase hex digits");
        }
    }

    /** The name of the file's blob in the cache: the SHA-256 for an LFS file, else the Git blob id (as huggingface_hub). */
    String blobName() {
        return sha256 != null ? sha256 : gitBlobId;
    }

    /** A digest that {@link #check} compares with this file's id once the file's bytes have gone through it. */
    MessageDigest newDigest() {
        try {
            if (sha256 != null) return MessageDigest.getInstance("SHA-256");
            MessageDigest git = MessageDigest.getInstance("SHA-1"); // a Git blob id is SHA-1 of "blob <size>\0" + content
            git.update(("blob " + size + "\0").getBytes(StandardCharsets.US_ASCII));
            return git;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks a digest it must have", e);
        }
    }

    /** The digest's hex value if it is not this file's id, else null. */
    String mismatch(MessageDigest digest) {
        String actual = HexFormat.of().formatHex(digest.digest());
        return actual.equals(blobName()) ? null : actual;
    }

    /** What {@link #blobName} is, for messages. */
    String idKind() {
        return sha256 != null ? "sha256" : "git blob id";
    }

    /**
     * A path the hub listed must stay inside the snapshot directory it is written to: relative, '/'-separated,
     * no empty, "." or ".." segment, no backslash, colon or control character.
     */
    static void requireSafePath(String path) {
        if (path == null || path.isEmpty() || path.length() > 1000 || path.startsWith("/") || path.endsWith("/")) {
            throw new IllegalArgumentException("unsafe file path from the hub: \"" + path + "\"");
        }
        for (String segment : path.split("/", -1)) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
                throw new IllegalArgumentException("unsafe file path from the hub: \"" + path + "\"");
            }
        }
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c < 0x20 || c == 0x7f || c == '\\' || c == ':') {
                throw new IllegalArgumentException("unsafe file path from the hub: \"" + path + "\"");
            }
        }
    }
}
