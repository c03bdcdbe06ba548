package dev.rerank4j.hub;

import java.util.regex.Pattern;

/**
 * A Hugging Face model repository and a revision of it, as written {@code owner/name[@revision]}
 * ({@code BAAI/bge-reranker-base}, {@code cross-encoder/ms-marco-MiniLM-L-6-v2@main}, {@code x/y@refs/pr/3}).
 * Both parts become paths in the cache, so anything that could climb out of it is refused here.
 */
public record RepoId(String owner, String name, String revision) {
    public static final String DEFAULT_REVISION = "main";

    /** Hugging Face's rule for a name part: letters, digits, '-', '_', '.'; no "--" or ".." (hub repo-id validation). */
    private static final Pattern PART = Pattern.compile("[A-Za-z0-9_.-]{1,96}");
    private static final Pattern REVISION = Pattern.compile("[A-Za-z0-9_.\\-/]{1,200}");
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");

    public RepoId {
        requirePart(owner, "owner");
        requirePart(name, "name");
        if (!REVISION.matcher(revision).matches() || revision.startsWith("/") || revision.endsWith("/")
                || revision.contains("//") || (("/" + revision + "/").contains("/../")) || (("/" + revision + "/").contains("/./"))) {
            throw new IllegalArgumentException("not a revision: \"" + revision + "\" (a branch, tag or commit: letters, digits, '-', '_', '.', '/')");
        }
    }

    /** Parses {@code owner/name} or {@code owner/name@revision}; the revision defaults to {@value #DEFAULT_REVISION}. */
    public static RepoId parse(String id) {
        if (id == null) throw new IllegalArgumentException("model id is null");
        int at = id.indexOf('@');
        String repo = at < 0 ? id : id.substring(0, at);
        String revision = at < 0 ? DEFAULT_REVISION : id.substring(at + 1);
        int slash = repo.indexOf('/');
        if (slash < 0 || repo.indexOf('/', slash + 1) >= 0) {
            throw new IllegalArgumentException("not a Hugging Face model id: \"" + id + "\" (expected owner/name or owner/name@revision)");
        }
        return new RepoId(repo.substring(0, slash), repo.substring(slash + 1), revision);
    }

    /** True if {@code text} has the shape of a model id; {@link #parse} may still refuse its parts. */
    public static boolean looksLikeId(String text) {
        String repo = text.contains("@") ? text.substring(0, text.indexOf('@')) : text;
        int slash = repo.indexOf('/');
        return slash > 0 && slash < repo.length() - 1 && repo.indexOf('/', slash + 1) < 0
                && PART.matcher(repo.substring(0, slash)).matches() && PART.matcher(repo.substring(slash + 1)).matches();
    }

    /** {@code owner/name}. */
    public String repo() {
        return owner + "/" + name;
    }

    /** True if the revision is a full commit hash, which never moves, so the cache answers for it alone. */
    public boolean isCommit() {
        return COMMIT.matcher(revision).matches();
    }

    @Override
    public String toString() {
        return repo() + "@" + revision;
    }

    private static void requirePart(String part, String what) {
        if (part == null || !PART.matcher(part).matches() || part.contains("--") || part.contains("..")
                || part.startsWith("-") || part.startsWith(".") || part.endsWith("-") || part.endsWith(".")) {
            throw new IllegalArgumentException("not a Hugging Face repository " + what + ": \"" + part
                    + "\" (letters, digits, '-', '_', '.', at most 96, no \"--\" or \"..\")");
        }
    }
}
