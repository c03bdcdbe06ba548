package dev.rerank4j.hub;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * GET requests to the hub that cannot hang and do not leak the token: redirects are followed here, the token going
 * only to the endpoint's own origin (the hub sends weights from a CDN through signed URLs, which take no other
 * credentials), and a request that receives nothing for {@code stallTimeout} (headers or body) is abandoned.
 */
final class HubHttp implements AutoCloseable {
    private static final int MAX_REDIRECTS = 10;
    /** Of an error answer's body, what is kept for the message. */
    private static final int ERROR_BODY_BYTES = 2048;

    /** Where a 2xx answer's body goes, a buffer at a time, on the client's thread. */
    interface Body {
        void write(ByteBuffer bytes) throws IOException;
    }

    /** Opens the {@link Body} for a 2xx answer (e.g. positions a file where a resumed answer starts). */
    interface BodyFor {
        Body open(Response response) throws IOException;
    }

    /** An answer: its status and headers, where it came from, and for an error the start of its body. */
    record Response(int status, HttpHeaders headers, URI uri, String errorBody) {
        boolean ok() {
            return status / 100 == 2;
        }
    }

    private final HttpClient client;
    private final URI endpoint;
    private final String token;
    private final Duration stallTimeout;

    HubHttp(URI endpoint, String token, Duration stallTimeout) {
        this.client = HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(stallTimeout)
                .build();
        this.endpoint = endpoint;
        this.token = token;
        this.stallTimeout = stallTimeout;
    }

    /**
     * GETs {@code uri} with {@code headers}, following up to {@value #MAX_REDIRECTS} redirects. A 2xx body is written to
     * what {@code bodyFor} gives for the response; any other answer is returned with the start of its body.
     */
    Response get(URI uri, Map<String, String> headers, BodyFor bodyFor) throws IOException {
        URI at = uri;
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            HttpRequest.Builder request = HttpRequest.newBuilder(at).GET().header("User-Agent", "rerank4j");
            headers.forEach(request::header);
            if (token != null && sameOrigin(at, endpoint)) request.header("Authorization", "Bearer " + token);
            Response r = send(request.build(), bodyFor);
            if (r.status() / 100 != 3) return r;
            String location = r.headers().firstValue("Location")
                    .orElseThrow(() -> new IOException("GET " + printable(r.uri()) + " answered HTTP " + r.status() + " without a Location"));
            try {
                at = at.resolve(location);
            } catch (IllegalArgumentException e) {
                throw new IOException("GET " + printable(r.uri()) + " redirected to a malformed Location: " + e.getMessage());
            }
            if (!isHttp(at) || at.getHost() == null) {
                throw new IOException("GET " + printable(r.uri()) + " redirected to " + printable(at) + ", which is not an HTTP URL");
            }
        }
        throw new IOException("GET " + printable(uri) + ": more than " + MAX_REDIRECTS + " redirects");
    }

    /** The 2xx body of {@code uri}, at most {@code limit} bytes. */
    byte[] getBytes(URI uri, int limit, Function<Response, IOException> onError) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        Response r = get(uri, Map.of(), response -> bytes -> {
            if (out.size() + bytes.remaining() > limit) throw new IOException("GET " + printable(uri) + ": answer longer than " + limit + " bytes");
            byte[] chunk = new byte[bytes.remaining()];
            bytes.get(chunk);
            out.write(chunk, 0, chunk.length);
        });
        if (!r.ok()) throw onError.apply(r);
        return out.toByteArray();
    }

    /** True for an absolute http or https URI (schemes are case-insensitive). */
    static boolean isHttp(URI u) {
        return u.getScheme() != null && (u.getScheme().equalsIgnoreCase("https") || u.getScheme().equalsIgnoreCase("http"));
    }

    /**
     * The URI for messages and logs: without its query, which on the hub's CDN is a signed, short-lived credential, and
     * without user info.
     */
    static String printable(URI u) {
        return u.getScheme() + "://" + u.getHost() + (u.getPort() >= 0 ? ":" + u.getPort() : "") + (u.getRawPath() == null ? "" : u.getRawPath());
    }

    static boolean sameOrigin(URI a, URI b) {
        return a.getScheme().equalsIgnoreCase(b.getScheme()) && a.getHost() != null && a.getHost().equalsIgnoreCase(b.getHost())
                && port(a) == port(b);
    }

    private static int port(URI u) {
        return u.getPort() >= 0 ? u.getPort() : u.getScheme().equalsIgnoreCase("https") ? 443 : 80;
    }

    private Response send(HttpRequest request, BodyFor bodyFor) throws IOException {
        AtomicLong progress = new AtomicLong();
        Subscriber[] subscriber = new Subscriber[1];
        CompletableFuture<HttpResponse<String>> future = client.sendAsync(request, info -> {
            progress.incrementAndGet();
            Response head = new Response(info.statusCode(), info.headers(), request.uri(), null);
            Body body = null;
            IOException failed = null;
            try {
                if (head.ok()) body = bodyFor.open(head);
            } catch (IOException e) {
                failed = e;
            }
            subscriber[0] = new Subscriber(body, progress, failed);
            return subscriber[0];
        });
        long seen = progress.get(), quietSince = System.nanoTime();
        while (true) {
            try {
                HttpResponse<String> response = future.get(100, TimeUnit.MILLISECONDS);
                return new Response(response.statusCode(), response.headers(), request.uri(), response.body());
            } catch (TimeoutException e) {
                long now = System.nanoTime(), p = progress.get();
                if (p != seen) {
                    seen = p;
                    quietSince = now;
                } else if (now - quietSince > stallTimeout.toNanos()) {
                    abandon(future, subscriber[0]);
                    throw new IOException("GET " + printable(request.uri()) + ": nothing received for " + seconds(stallTimeout) + " s; gave up");
                }
            } catch (InterruptedException e) {
                abandon(future, subscriber[0]);
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted during GET " + printable(request.uri()));
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof IOException io) {
                    throw new IOException("GET " + printable(request.uri()) + ": " + describe(io), io);
                }
                throw new IOException("GET " + printable(request.uri()) + ": " + cause, cause);
            }
        }
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? String.valueOf(d.toSeconds()) : String.format("%.1f", d.toMillis() / 1e3);
    }

    private static String describe(IOException e) {
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null || m.isBlank() ? "" : " " + m);
    }

    private static void abandon(CompletableFuture<?> future, Subscriber subscriber) {
        if (subscriber != null) subscriber.cancel();
        future.cancel(true);
    }

    /** Closes every connection at once: a request abandoned for stalling must not keep close() waiting for it. */
    @Override
    public void close() {
        client.shutdownNow();
    }

    /**
     * Streams a 2xx body into its {@link Body}, or keeps the first {@value #ERROR_BODY_BYTES} bytes of any other one;
     * counts every buffer as progress. A write that fails cancels the transfer and fails the request with its error.
     */
    private static final class Subscriber implements HttpResponse.BodySubscriber<String> {
        private final Body body;
        private final AtomicLong progress;
        private final CompletableFuture<String> result = new CompletableFuture<>();
        private final StringBuilder error = new StringBuilder();
        private volatile Flow.Subscription subscription;

        /** Where the body could not be opened: the transfer is cancelled at once and the request fails with it. */
        private final IOException failed;

        Subscriber(Body body, AtomicLong progress, IOException failed) {
            this.body = body;
            this.progress = progress;
            this.failed = failed;
        }

        void cancel() {
            Flow.Subscription s = subscription;
            if (s != null) s.cancel();
            result.completeExceptionally(new IOException("cancelled"));
        }

        @Override
        public CompletionStage<String> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            if (failed != null) {
                s.cancel();
                result.completeExceptionally(failed);
                return;
            }
            s.request(1);
        }

        @Override
        public void onNext(List<ByteBuffer> buffers) {
            progress.incrementAndGet();
            try {
                for (ByteBuffer b : buffers) {
                    if (body != null) {
                        body.write(b);
                    } else {
                        byte[] chunk = new byte[Math.min(b.remaining(), ERROR_BODY_BYTES - error.length())];
                        b.get(chunk);
                        error.append(new String(chunk, java.nio.charset.StandardCharsets.UTF_8));
                        if (error.length() >= ERROR_BODY_BYTES) {
                            // the rest of an error's body is not read: an endless one would otherwise count as progress forever
                            subscription.cancel();
                            result.complete(error.toString());
                            return;
                        }
                    }
                }
            } catch (IOException | RuntimeException e) {
                subscription.cancel();
                result.completeExceptionally(e instanceof IOException ? e : new IOException(e));
                return;
            }
            subscription.request(1);
        }

        @Override
        public void onError(Throwable t) {
            result.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            result.complete(body != null ? null : error.toString());
        }
    }
}
