package dev.rerank4j.hub;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.rerank4j.io.Json;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * A Hugging Face hub on localhost, as much of it as rerank4j uses: the revision API with blob ids, and resolve URLs that
 * send LFS files on through a redirect to a second server (another origin, as the hub's CDN is). Records every request,
 * and can be told to misbehave file by file.
 */
public final class FakeHub implements AutoCloseable {
    static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";
    static final String TOKEN = "hf_test_token";

    /** What to do to one file's download. */
    enum Fault { NONE, CORRUPT, CUT_HALFWAY, STALL_HALFWAY, EXTRA_BYTES, RESUME_ELSEWHERE, CDN_FORBIDDEN, REFUSE_RANGE }

    /** The signed query the CDN links carry, a credential that messages must not print. */
    static final String SIGNATURE = "X-Amz-Signature=secret-signature";

    public record Request(String server, String path, String authorization, String range) {}

    private final HttpServer hub;
    private final HttpServer cdn;
    private final Map<String, byte[]> files = new LinkedHashMap<>();
    private final Set<String> lfs = ConcurrentHashMap.newKeySet();
    final Map<String, Fault> faults = new ConcurrentHashMap<>();
    final List<Request> requests = Collections.synchronizedList(new ArrayList<>());
    /** An HTTP status the revision API answers instead of the listing (0: the listing). */
    volatile int listingStatus;
    /** Replaces the listing's JSON when set. */
    volatile String listingOverride;
    /** The listing answers 500 with a body that never ends. */
    volatile boolean endlessError;
    /** Replaces the Location of every redirect to the CDN when set. */
    volatile String locationOverride;

    public FakeHub() throws IOException {
        hub = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        cdn = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        hub.createContext("/", this::hub);
        cdn.createContext("/", this::cdn);
        hub.setExecutor(java.util.concurrent.Executors.newCachedThreadPool(Thread.ofPlatform().daemon().factory()));
        cdn.setExecutor(java.util.concurrent.Executors.newCachedThreadPool(Thread.ofPlatform().daemon().factory()));
        hub.start();
        cdn.start();
    }

    /** Serves every file under {@code dir} (weights as LFS files), plus {@code extra} (path → content, LFS). */
    public FakeHub serve(Path dir, Map<String, byte[]> extra) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.filter(Files::isRegularFile).sorted().toList()) {
                String name = dir.relativize(p).toString().replace('\\', '/');
                files.put(name, Files.readAllBytes(p));
                if (name.endsWith(".safetensors")) lfs.add(name);
            }
        }
        extra.forEach((name, bytes) -> {
            files.put(name, bytes);
            lfs.add(name);
        });
        return this;
    }

    byte[] file(String name) {
        return files.get(name);
    }

    void remove(String name) {
        files.remove(name);
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + hub.getAddress().getPort());
    }

    public List<Request> downloads() {
        synchronized (requests) {
            return requests.stream().filter(r -> r.path().contains("/resolve/") || r.server().equals("cdn")).toList();
        }
    }

    private void hub(HttpExchange x) throws IOException {
        String path = x.getRequestURI().getRawPath();
        requests.add(new Request("hub", path, x.getRequestHeaders().getFirst("Authorization"), x.getRequestHeaders().getFirst("Range")));
        String listing = "/api/models/owner/model/revision/";
        if (path.startsWith(listing)) {
            if (endlessError) {
                x.sendResponseHeaders(500, 0);
                try (OutputStream out = x.getResponseBody()) {
                    for (long i = 0; i < 100_000_000; i++) {
                        out.write("error ".repeat(100).getBytes(StandardCharsets.UTF_8));
                        out.flush();
                        sleep(20);
                    }
                }
                return;
            }
            if (listingStatus != 0) {
                x.getResponseHeaders().add("X-Error-Message", "fake refusal");
                send(x, listingStatus, "{\"error\":\"no\"}".getBytes(StandardCharsets.UTF_8));
                return;
            }
            send(x, 200, (listingOverride != null ? listingOverride : listing()).getBytes(StandardCharsets.UTF_8));
            return;
        }
        String resolve = "/owner/model/resolve/" + COMMIT + "/";
        if (!path.startsWith(resolve)) {
            send(x, 404, "not here".getBytes(StandardCharsets.UTF_8));
            return;
        }
        String name = URI.create(path.substring(resolve.length())).getPath();
        if (!files.containsKey(name)) {
            send(x, 404, "no file".getBytes(StandardCharsets.UTF_8));
        } else if (lfs.contains(name)) {
            x.getResponseHeaders().add("Location", locationOverride != null ? locationOverride
                    : "http://127.0.0.1:" + cdn.getAddress().getPort() + "/blob/" + name + "?" + SIGNATURE);
            send(x, 302, new byte[0]);
        } else {
            sendFile(x, name);
        }
    }

    private void cdn(HttpExchange x) throws IOException {
        String path = x.getRequestURI().getPath();
        requests.add(new Request("cdn", path, x.getRequestHeaders().getFirst("Authorization"), x.getRequestHeaders().getFirst("Range")));
        sendFile(x, path.substring("/blob/".length()));
    }

    private void sendFile(HttpExchange x, String name) throws IOException {
        byte[] content = files.get(name).clone();
        Fault fault = faults.getOrDefault(name, Fault.NONE);
        if (fault == Fault.CDN_FORBIDDEN) {
            send(x, 403, "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>".getBytes(StandardCharsets.UTF_8));
            return;
        }
        if (fault == Fault.CORRUPT) content[content.length / 2] ^= 1;
        if (fault == Fault.EXTRA_BYTES) content = java.util.Arrays.copyOf(content, content.length + 100);
        String range = x.getRequestHeaders().getFirst("Range");
        if (fault == Fault.REFUSE_RANGE && range != null) {
            send(x, 416, "Range Not Satisfiable".getBytes(StandardCharsets.UTF_8));
            return;
        }
        int from = range != null && range.startsWith("bytes=") ? Integer.parseInt(range.substring(6, range.length() - 1)) : 0;
        int claimed = fault == Fault.RESUME_ELSEWHERE ? from / 2 : from; // a server that says it resumes elsewhere than asked
        if (from > 0) x.getResponseHeaders().add("Content-Range", "bytes " + claimed + "-" + (content.length - 1) + "/" + content.length);
        x.sendResponseHeaders(from > 0 ? 206 : 200, content.length - from);
        try (OutputStream out = x.getResponseBody()) {
            int half = (content.length - from) / 2;
            if (fault == Fault.CUT_HALFWAY || fault == Fault.STALL_HALFWAY) {
                out.write(content, from, half);
                out.flush();
                if (fault == Fault.STALL_HALFWAY) sleep(20_000);
                throw new IOException("cut");
            }
            out.write(content, from, content.length - from);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private String listing() {
        List<Object> siblings = new ArrayList<>();
        files.forEach((name, bytes) -> {
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("rfilename", name);
            if (lfs.contains(name)) {
                s.put("size", (long) bytes.length);
                s.put("blobId", gitBlobId(("version https://git-lfs.github.com/spec/v1\n" + name).getBytes(StandardCharsets.UTF_8)));
                s.put("lfs", Map.of("sha256", sha256(bytes), "size", (long) bytes.length, "pointerSize", 130L));
            } else {
                s.put("size", (long) bytes.length);
                s.put("blobId", gitBlobId(bytes));
            }
            siblings.add(s);
        });
        return Json.write(Map.of("id", "owner/model", "sha", COMMIT, "siblings", siblings));
    }

    static String sha256(byte[] bytes) {
        return hex("SHA-256", new byte[0], bytes);
    }

    static String gitBlobId(byte[] bytes) {
        return hex("SHA-1", ("blob " + bytes.length + "\0").getBytes(StandardCharsets.US_ASCII), bytes);
    }

    private static String hex(String algorithm, byte[] prefix, byte[] bytes) {
        try {
            MessageDigest d = MessageDigest.getInstance(algorithm);
            d.update(prefix);
            return HexFormat.of().formatHex(d.digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    private static void send(HttpExchange x, int status, byte[] body) throws IOException {
        x.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        try (OutputStream out = x.getResponseBody()) {
            out.write(body);
        }
    }

    @Override
    public void close() {
        hub.stop(0);
        cdn.stop(0);
    }
}
