package dev.rerank4j.hub;

import dev.rerank4j.ModelFormatException;
import dev.rerank4j.io.Json;
import dev.rerank4j.io.Utf8;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The two things rerank4j asks the hub: what a revision holds, and one file of it, checked against its id. */
final class HubClient implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(HuggingFaceHub.class.getName());
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d{1,18})-(\\d{1,18})/(\\d{1,18}|\\*)");
    /** A listing of tens of thousands of files is a few MB; more than this is not a model repository's. */
    private static final int MAX_LISTING_BYTES = 32 << 20;
    /** Files from this size get a line when their download starts and ends; the small configuration files do not. */
    private static final long LOGGED_BYTES = 16 << 20;

    /** The hub answered, with an error status: unlike a failure to reach it, the cache must not stand in for it. */
    static final class Refused extends IOException {
        final int status;

        Refused(int status, String message) {
            super(message);
            this.status = status;
        }

        /** The hub said the model is not there or not for this token: a cached copy must not stand in for it. */
        boolean denied() {
            return status == 401 || status == 403 || status == 404;
        }
    }

    /**
     * A revision's commit and its files, raw as the API lists them (only those used become {@link RemoteFile}s, so
     * a listed file this does not fetch cannot fail the call).
     */
    record Listing(String commit, Map<String, Map<?, ?>> files) {
        RemoteFile file(String path) {
            Map<?, ?> entry = files.get(path);
            if (entry == null) return null;
            Object lfs = entry.get("lfs");
            try {
                if (lfs instanceof Map<?, ?> l) {
                    return new RemoteFile(path, number(l.get("size"), path), String.valueOf(l.get("sha256")), null);
                }
                return new RemoteFile(path, number(entry.get("size"), path), null, String.valueOf(entry.get("blobId")));
            } catch (IllegalArgumentException e) {
                throw new ModelFormatException("the hub's listing of commit " + commit + ": " + e.getMessage());
            }
        }

        private static long number(Object value, String path) {
            if (value instanceof Long n) return n;
            throw new IllegalArgumentException(path + ": size is " + value + ", not a whole number");
        }
    }

    private final URI endpoint;
    private final HubHttp http;

    HubClient(URI endpoint, String token, Duration stallTimeout) {
        this.endpoint = endpoint;
        this.http = new HubHttp(endpoint, token, stallTimeout);
    }

    /** The commit {@code id}'s revision points to, and every file in it with its size and id. */
    Listing listing(RepoId id) throws IOException {
        URI uri = at("api/models/" + id.owner() + "/" + id.name() + "/revision/"
                + URLEncoder.encode(id.revision(), StandardCharsets.UTF_8) + "?blobs=true");
        byte[] body = http.getBytes(uri, MAX_LISTING_BYTES, r -> refused(r, id, null));
        Map<String, Object> json;
        try {
            json = Json.parseObject(Utf8.decode(body));
        } catch (Utf8.MalformedException e) {
            throw new ModelFormatException(HubHttp.printable(uri) + ": the answer is not UTF-8: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new ModelFormatException(HubHttp.printable(uri) + ": not the hub's JSON answer: " + e.getMessage(), e);
        }
        Object commit = json.get("sha");
        if (!(commit instanceof String c) || !COMMIT.matcher(c).matches()) {
            throw new ModelFormatException(HubHttp.printable(uri) + ": \"sha\" is " + commit + ", not a commit hash");
        }
        if (id.isCommit() && !commit.equals(id.revision())) {
            throw new ModelFormatException(HubHttp.printable(uri) + ": asked for commit " + id.revision() + ", the hub answered with commit "
                    + commit + " (a pinned commit is taken from no other)");
        }
        if (!(json.get("siblings") instanceof List<?> siblings)) {
            throw new ModelFormatException(HubHttp.printable(uri) + ": no \"siblings\" list of files");
        }
        Map<String, Map<?, ?>> files = new LinkedHashMap<>();
        for (Object s : siblings) {
            if (s instanceof Map<?, ?> m && m.get("rfilename") instanceof String name) files.put(name, m);
        }
        return new Listing((String) commit, files);
    }

    /**
     * Fetches {@code file} of {@code commit} into {@code blob}: into {@code partial} first, resuming what an earlier try
     * left there, and moved to {@code blob} only once its size and id are the listed ones. A corrupt download is deleted.
     */
    void download(RepoId id, String commit, RemoteFile file, Path partial, Path blob) throws IOException {
        Files.createDirectories(partial.getParent());
        // a link planted in a shared cache would have the download written through it, wherever it points
        if (Files.isSymbolicLink(partial) || (Files.exists(partial, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(partial, LinkOption.NOFOLLOW_LINKS))) {
            Files.delete(partial);
        }
        long have = Files.isRegularFile(partial, LinkOption.NOFOLLOW_LINKS) ? Files.size(partial) : 0;
        if (have > file.size()) {
            Files.delete(partial);
            have = 0;
        }
        long started = System.nanoTime();
        boolean large = file.size() >= LOGGED_BYTES;
        if (large || have > 0) {
            LOG.log(Level.INFO, "Fetching {0} of {1} ({2} MB{3})", file.path(), id, String.format("%.1f", file.size() / 1e6),
                    have > 0 ? String.format(", resuming at %.1f MB", have / 1e6) : "");
        }
        Progress progress = new Progress(file, id, started);
        MessageDigest[] digest = {file.newDigest()};
        long[] end = {have};
        try (FileChannel out = FileChannel.open(partial, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE,
                LinkOption.NOFOLLOW_LINKS)) {
            hash(out, have, digest[0]);
            if (have < file.size() || file.size() == 0) {
                URI uri = at(id.owner() + "/" + id.name() + "/resolve/" + commit + "/" + encodePath(file.path()));
                long resumeFrom = have;
                HubHttp.Response r = http.get(uri, have > 0 ? Map.of("Range", "bytes=" + have + "-") : Map.of(), response -> {
                    long start = response.status() == 206 ? rangeStart(response) : 0;
                    if (start != resumeFrom && start != 0) {
                        out.truncate(0); // so that the next try starts over instead of failing the same way
                        throw new IOException("the server resumed " + file.path() + " at byte " + start + ", not at " + resumeFrom
                                + " as asked; the partial download is dropped, try again");
                    }
                    if (start == 0) {
                        out.truncate(0);
                        digest[0] = file.newDigest();
                    }
                    out.position(start);
                    end[0] = start;
                    return bytes -> {
                        if (end[0] + bytes.remaining() > file.size()) {
                            throw new IOException("more than the " + file.size() + " bytes the hub lists for " + file.path());
                        }
                        digest[0].update(bytes.duplicate());
                        while (bytes.hasRemaining()) end[0] += out.write(bytes);
                        if (large) progress.report(end[0]);
                    };
                });
                if (!r.ok()) {
                    // a server that will not resume this partial download never will: the next try starts over
                    if (r.status() == 416) out.truncate(0);
                    throw refused(r, id, file.path() + " of " + id.repo() + " at commit " + commit);
                }
            }
        }
        if (end[0] != file.size()) {
            throw new IOException(file.path() + " of " + id + ": the download stopped at " + end[0] + " of " + file.size()
                    + " bytes (kept in " + partial + "; the next try resumes it)");
        }
        String actual = file.mismatch(digest[0]);
        if (actual != null) {
            Files.deleteIfExists(partial);
            throw new IOException(file.path() + " of " + id + ": the " + file.idKind() + " of the download is " + actual
                    + ", the hub lists " + file.blobName() + "; the download was corrupt and is deleted, try again");
        }
        Files.move(partial, blob, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        if (large) {
            double seconds = (System.nanoTime() - started) / 1e9;
            LOG.log(Level.INFO, "Fetched {0} of {1} in {2} s ({3} MB/s)", file.path(), id, String.format("%.1f", seconds),
                    String.format("%.1f", (file.size() - have) / 1e6 / Math.max(seconds, 1e-3)));
        }
    }

    /** A line at each tenth of a large file, at most every 5 s, so that a download of gigabytes is seen to move. */
    private static final class Progress {
        private static final long QUIET_NANOS = 5_000_000_000L;
        private final RemoteFile file;
        private final RepoId id;
        private final long started;
        private int tenthsLogged;
        private long loggedAt;

        Progress(RemoteFile file, RepoId id, long started) {
            this.file = file;
            this.id = id;
            this.started = started;
            this.loggedAt = started;
        }

        void report(long bytes) {
            int tenths = (int) (10 * bytes / Math.max(1, file.size()));
            long now = System.nanoTime();
            if (tenths <= tenthsLogged || tenths >= 10 || now - loggedAt < QUIET_NANOS) return;
            tenthsLogged = tenths;
            loggedAt = now;
            double seconds = Math.max(1e-3, (System.nanoTime() - started) / 1e9);
            LOG.log(Level.INFO, "{0} of {1}: {2}0% ({3} of {4} MB, {5} s)", file.path(), id, tenths,
                    String.format("%.0f", bytes / 1e6), String.format("%.0f", file.size() / 1e6), String.format("%.0f", seconds));
        }
    }

    /** Feeds the first {@code bytes} of the file to the digest: what an earlier try fetched, before appending to it. */
    private static void hash(FileChannel file, long bytes, MessageDigest digest) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(1 << 16);
        for (long at = 0; at < bytes; ) {
            buffer.clear().limit((int) Math.min(buffer.capacity(), bytes - at));
            int n = file.read(buffer, at);
            if (n < 0) throw new IOException("the partial download shrank while being read");
            buffer.flip();
            digest.update(buffer);
            at += n;
        }
    }

    private static long rangeStart(HubHttp.Response response) throws IOException {
        String range = response.headers().firstValue("Content-Range").orElse("");
        Matcher m = CONTENT_RANGE.matcher(range);
        if (!m.matches()) throw new IOException("HTTP 206 with Content-Range \"" + range + "\""); // the caller names the URL
        return Long.parseLong(m.group(1));
    }

    private URI at(String path) {
        String base = endpoint.toString();
        return URI.create(base.endsWith("/") ? base + path : base + "/" + path);
    }

    /** Each segment of a repository path percent-encoded, the slashes kept. */
    private static String encodePath(String path) {
        StringBuilder out = new StringBuilder();
        for (String segment : path.split("/")) {
            if (!out.isEmpty()) out.append('/');
            out.append(URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20"));
        }
        return out.toString();
    }

    /**
     * The refusal in words: what was asked ({@code file} null: the revision's file list), the status, what it means
     * for a model, and the server's own message. A refusal from the CDN a weight was redirected to is said to be its.
     */
    private Refused refused(HubHttp.Response r, RepoId id, String file) {
        boolean cdn = !HubHttp.sameOrigin(r.uri(), endpoint);
        String what = file == null ? "the file list of " + id : file;
        String meaning = switch (r.status()) {
            case 401 -> id.repo() + " is private or gated, or the token is not valid: set HF_TOKEN to a token that may read it";
            case 403 -> cdn ? "the download server refused the link the hub gave (it may have expired); try again"
                    : "access to " + id.repo() + " is refused: if it is gated, accept its conditions on the hub with the"
                    + " account whose token HF_TOKEN holds";
            case 404 -> file == null ? "no model " + id.repo() + " with revision " + id.revision() + " at " + HubHttp.printable(endpoint)
                    : "the hub lists the file but does not serve it";
            case 416 -> "the server refused to resume the download; the partial download is dropped, and the next try starts over";
            case 429 -> "the hub limits the rate of requests; wait and try again, or set HF_TOKEN";
            default -> r.status() >= 500 ? "the server failed; try again later" : "unexpected answer";
        };
        String detail = r.headers().firstValue("X-Error-Message").orElse("");
        if (detail.isEmpty() && r.errorBody() != null) detail = r.errorBody().strip().replaceAll("\\s+", " ");
        if (detail.length() > 200) detail = detail.substring(0, 200) + "…";
        return new Refused(r.status(), "HTTP " + r.status() + " for " + what + " from " + HubHttp.printable(r.uri()) + ": " + meaning
                + (detail.isEmpty() ? "" : " [" + detail + "]"));
    }

    @Override
    public void close() {
        http.close();
    }
}
