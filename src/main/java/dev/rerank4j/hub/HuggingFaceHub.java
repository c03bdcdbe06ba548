package dev.rerank4j.hub;

import dev.rerank4j.ModelFormatException;
import dev.rerank4j.convert.ModelWeights;
import dev.rerank4j.convert.ShardIndex;
import dev.rerank4j.io.Json;
import dev.rerank4j.tokenize.ModelTokenizer;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.System.Logger.Level;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Model directories from the Hugging Face hub, kept in the hub's own cache: {@code Reranker.load(HuggingFaceHub.model(
 * "BAAI/bge-reranker-base"))}. A model Python's {@code huggingface_hub} already fetched is used where it lies; one
 * fetched here is laid out as Python would, so both share one copy.
 *
 * <p>Only what rerank4j reads is fetched: config.json, tokenizer.json (where there is none: vocab.txt, or vocab.json and
 * merges.txt, with the special_tokens_map.json and added_tokens.json beside them), model.safetensors (where a folder has none: the
 * shards of its model.safetensors.index.json, else its pytorch_model.bin, else the shards of pytorch_model.bin.index.json;
 * rerank4j reads a pickle without running it) and the small configuration files
 * beside them (tokenizer_config.json, the sentence-transformers and ColBERT files), and each module folder that
 * modules.json names; not the other copies of the weights (PyTorch beside safetensors, ONNX, TensorFlow). Each file is
 * checked against the SHA-256 (weights) or Git blob id (the rest) the hub lists for it before it enters the cache; an
 * interrupted download resumes. The revision's commit is asked for every time unless the revision is a commit hash;
 * when the hub cannot be reached, the revision's cached snapshot is used, with a warning. Settings come from the same
 * environment variables as Python's: {@code HF_ENDPOINT}, {@code HF_HUB_CACHE} / {@code HF_HOME} /
 * {@code XDG_CACHE_HOME}, {@code HF_TOKEN} (else the token file {@code hf auth login} writes), {@code HF_HUB_OFFLINE},
 * {@code HF_HUB_DOWNLOAD_TIMEOUT}.
 */
public final class HuggingFaceHub implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(HuggingFaceHub.class.getName());
    /**
     * Files a model directory may need at its top level besides its weights ({@link #weights}) and its tokenizer
     * ({@link #tokenizer}); config.json must be there.
     */
    private static final List<String> MODEL_FILES = List.of("config.json",
            "tokenizer_config.json", "sentence_bert_config.json", "modules.json", "config_sentence_transformers.json",
            "artifact.metadata");
    /** What a module folder named in modules.json may hold that rerank4j reads (pooling, dense projection) besides weights. */
    private static final List<String> MODULE_FILES = List.of("config.json");

    /**
     * Where the hub is, where its cache lies, the token sent to it (null: none), whether to stay off the network, and how
     * long a request may receive nothing before it is abandoned.
     */
    public record Settings(URI endpoint, Path cache, String token, boolean offline, Duration stallTimeout) {
        public static final URI DEFAULT_ENDPOINT = URI.create("https://huggingface.co");

        /** The longest a request may receive nothing: a day (beyond it a timeout is a mistake, and it overflows nanoseconds). */
        private static final Duration LONGEST_STALL = Duration.ofDays(1);

        public Settings {
            if (endpoint == null || cache == null || stallTimeout == null) throw new IllegalArgumentException("endpoint, cache and stallTimeout are required");
            if (!HubHttp.isHttp(endpoint) || endpoint.getHost() == null) {
                throw new IllegalArgumentException("the hub's endpoint must be an http(s) URL with a host, not \"" + HubHttp.printable(endpoint) + "\"");
            }
            if (token != null) {
                for (int i = 0; i < token.length(); i++) {
                    char c = token.charAt(i);
                    if (c < 0x20 || c > 0x7e) { // the JDK would refuse the header with the whole token in its message
                        throw new IllegalArgumentException(String.format(Locale.ROOT, "the hub token holds U+%04X at character %d, which an"
                                + " HTTP header cannot carry (the token is not printed): check HF_TOKEN or the token file", (int) c, i + 1));
                    }
                }
            }
            if (stallTimeout.isNegative() || stallTimeout.isZero() || stallTimeout.compareTo(LONGEST_STALL) > 0) {
                throw new IllegalArgumentException("stallTimeout must be positive and at most a day, not " + stallTimeout);
            }
        }

        /** Read as huggingface_hub reads them, from the process's environment and the user's home. */
        public static Settings fromEnvironment() {
            return fromEnvironment(System.getenv(), Path.of(System.getProperty("user.home")));
        }

        /**
         * huggingface_hub's variables (constants.py), older spellings included: HF_ENDPOINT; HF_HUB_CACHE, else
         * HUGGINGFACE_HUB_CACHE, else HF_HOME/hub, HF_HOME defaulting to XDG_CACHE_HOME/huggingface, else
         * ~/.cache/huggingface (a leading ~ expanded); HF_TOKEN, else HUGGING_FACE_HUB_TOKEN, else the file at
         * HF_TOKEN_PATH or HF_HOME/token; HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE; HF_HUB_DOWNLOAD_TIMEOUT in seconds.
         */
        static Settings fromEnvironment(Map<String, String> env, Path home) {
            String endpointText = present(env, "HF_ENDPOINT").orElse(DEFAULT_ENDPOINT.toString()).strip();
            URI endpoint;
            try {
                endpoint = URI.create(endpointText);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("HF_ENDPOINT is \"" + endpointText + "\", not a URL: " + e.getMessage());
            }
            if (!HubHttp.isHttp(endpoint) || endpoint.getHost() == null) {
                throw new IllegalArgumentException("HF_ENDPOINT is \"" + endpointText + "\", not an http(s) URL with a host");
            }
            Path hfHome = path(env, home, "HF_HOME").orElseGet(() ->
                    path(env, home, "XDG_CACHE_HOME").orElse(home.resolve(".cache")).resolve("huggingface"));
            Path cache = path(env, home, "HF_HUB_CACHE").or(() -> path(env, home, "HUGGINGFACE_HUB_CACHE")).orElse(hfHome.resolve("hub"));
            String token = present(env, "HF_TOKEN").or(() -> present(env, "HUGGING_FACE_HUB_TOKEN")).map(String::strip)
                    .orElseGet(() -> readToken(path(env, home, "HF_TOKEN_PATH").orElse(hfHome.resolve("token"))));
            boolean offline = isTrue(env, "HF_HUB_OFFLINE") || isTrue(env, "TRANSFORMERS_OFFLINE");
            Duration stall = Duration.ofSeconds(30);
            Optional<String> timeout = present(env, "HF_HUB_DOWNLOAD_TIMEOUT");
            if (timeout.isPresent()) {
                double seconds;
                try {
                    seconds = Double.parseDouble(timeout.get().strip());
                } catch (NumberFormatException e) {
                    seconds = Double.NaN;
                }
                if (!(seconds > 0 && seconds <= LONGEST_STALL.toSeconds())) {
                    throw new IllegalArgumentException("HF_HUB_DOWNLOAD_TIMEOUT is \"" + timeout.get()
                            + "\", not a number of seconds above 0 and at most a day");
                }
                stall = Duration.ofMillis(Math.max(1, Math.round(1000 * seconds)));
            }
            return new Settings(endpoint, cache, token, offline, stall);
        }

        private static Optional<String> present(Map<String, String> env, String name) {
            String v = env.get(name);
            return v == null || v.isBlank() ? Optional.empty() : Optional.of(v);
        }

        /** A path variable with a leading ~ expanded to {@code home}, as Python's os.path.expanduser does. */
        private static Optional<Path> path(Map<String, String> env, Path home, String name) {
            return present(env, name).map(String::strip).map(v -> v.equals("~") ? home
                    : v.startsWith("~/") ? home.resolve(v.substring(2)) : Path.of(v));
        }

        private static boolean isTrue(Map<String, String> env, String name) {
            return present(env, name).map(v -> Set.of("1", "ON", "YES", "TRUE").contains(v.strip().toUpperCase(Locale.ROOT))).orElse(false);
        }

        private static String readToken(Path file) {
            try {
                String token = Files.isRegularFile(file) ? Files.readString(file, StandardCharsets.UTF_8).trim() : "";
                return token.isEmpty() ? null : token;
            } catch (IOException e) {
                return null; // an unreadable token file is as if there were none; a gated model then says so
            }
        }

        @Override
        public String toString() { // never the token
            return "Settings[endpoint=" + HubHttp.printable(endpoint) + ", cache=" + cache + ", token=" + (token == null ? "none" : "set")
                    + ", offline=" + offline + ", stallTimeout=" + stallTimeout + "]";
        }
    }

    private final Settings settings;
    private final HubCache cache;
    private HubClient client;

    public HuggingFaceHub(Settings settings) {
        this.settings = settings;
        this.cache = new HubCache(settings.cache());
    }

    /** The directory of {@code modelId} ({@code owner/name[@revision]}) with the settings of the environment. */
    public static Path model(String modelId) throws IOException {
        try (HuggingFaceHub hub = new HuggingFaceHub(Settings.fromEnvironment())) {
            return hub.snapshot(modelId);
        }
    }

    /**
     * The snapshot directory of {@code modelId} ({@code owner/name[@revision]}, the revision {@code main} if none),
     * fetching what the cache lacks.
     *
     * @throws IllegalArgumentException if {@code modelId} is not a model id
     * @throws IOException if the hub refuses (the message says why: unknown, gated, private), cannot be reached and the
     *     cache lacks the model, or a download fails or is corrupt
     * @throws ModelFormatException if the repository is not one rerank4j can load (no weights, or neither tokenizer.json
     *     nor vocab.txt; the message names what it holds instead) or the hub's answer is malformed
     */
    public Path snapshot(String modelId) throws IOException {
        RepoId id = RepoId.parse(modelId);
        Optional<Path> cached = cachedSnapshot(id);
        if (id.isCommit() && cached.isPresent() && cache.isComplete(id, id.revision())) return cached.get(); // a commit never changes
        if (settings.offline()) {
            if (cached.isEmpty() && cutOff(id)) {
                throw new IOException("HF_HUB_OFFLINE is set and the cached snapshot of " + id + " in " + cache.repoDir(id)
                        + " is incomplete: a download of it stopped before the end (run once online to finish it)");
            }
            return cached.orElseThrow(() -> new IOException("HF_HUB_OFFLINE is set and " + id + " is not in the cache "
                    + cache.repoDir(id) + " (it needs config.json, tokenizer.json or vocab.txt, and weights)"));
        }
        HubClient.Listing listing;
        try {
            listing = client().listing(id);
        } catch (InterruptedIOException e) {
            throw e;
        } catch (HubClient.Refused e) {
            if (e.denied()) throw e; // not there, or not for this token: a cached copy must not hide that
            return cachedInstead(id, cached, e);
        } catch (IOException | ModelFormatException e) {
            return cachedInstead(id, cached, e);
        }
        requireLoadable(id, listing);
        return cache.locked(id, () -> fetch(id, listing));
    }

    /**
     * The cached snapshot, with a warning, when the hub could not be asked (unreachable, failing, rate-limited or
     * answering garbage), as huggingface_hub does; without one, the failure.
     */
    private Path cachedInstead(RepoId id, Optional<Path> cached, Exception failure) throws IOException {
        if (cached.isEmpty()) {
            String cause = "cannot ask " + HubHttp.printable(settings.endpoint()) + " about " + id + " (" + failure.getMessage() + "), and "
                    + (cutOff(id) ? "its cached snapshot is incomplete (a download of it stopped before the end) in " : "it is not in the cache ")
                    + cache.repoDir(id);
            if (failure instanceof ModelFormatException) throw new ModelFormatException(cause, failure);
            throw new IOException(cause, failure);
        }
        LOG.log(Level.WARNING, "Cannot ask {0} about {1} ({2}); using its cached snapshot {3}",
                HubHttp.printable(settings.endpoint()), id, failure.getMessage(), cached.get());
        return cached.get();
    }

    private Path fetch(RepoId id, HubClient.Listing listing) throws IOException {
        String commit = listing.commit();
        cache.markStarted(id, commit);
        List<String> top = new ArrayList<>(withWeights(listing, "", MODEL_FILES));
        top.addAll(tokenizer(listing));
        ensureAll(id, commit, listed(listing, top.stream().distinct().toList()));
        ensureShards(id, commit, listing, "");
        // modules.json is in the snapshot now, and names the module folders to fetch next
        List<String> folders = moduleFolders(cache.snapshot(id, commit).resolve("modules.json"));
        List<String> modulePaths = new ArrayList<>();
        for (String folder : folders) {
            modulePaths.addAll(withWeights(listing, folder + "/", MODULE_FILES.stream().map(name -> folder + "/" + name).toList()));
        }
        ensureAll(id, commit, listed(listing, modulePaths));
        for (String folder : folders) ensureShards(id, commit, listing, folder + "/");
        cache.markComplete(id, commit);
        cache.writeRef(id, commit);
        return cache.snapshot(id, commit);
    }

    /**
     * {@code paths} and the weights of the folder {@code prefix}: the first of {@link ModelWeights#FILES} the listing has
     * (rerank4j reads all but model.safetensors through a converted copy).
     */
    private static List<String> withWeights(HubClient.Listing listing, String prefix, List<String> paths) {
        List<String> all = new ArrayList<>(paths);
        weights(listing, prefix).ifPresent(all::add);
        return all;
    }

    /**
     * The tokenizer's files: the first of {@link ModelTokenizer#FILES} the listing has, and for vocab.txt or vocab.json the
     * files beside it that transformers reads with it.
     */
    private static List<String> tokenizer(HubClient.Listing listing) {
        Optional<String> file = ModelTokenizer.FILES.stream().filter(name -> listing.file(name) != null).findFirst();
        if (file.isEmpty()) return List.of();
        List<String> files = new ArrayList<>(List.of(file.get()));
        files.addAll(ModelTokenizer.companions(file.get()));
        return files;
    }

    private static Optional<String> weights(HubClient.Listing listing, String prefix) {
        return ModelWeights.FILES.stream().map(name -> prefix + name).filter(path -> listing.file(path) != null).findFirst();
    }

    /** Where folder {@code prefix}'s weights are an index (fetched by now), the shards it names. */
    private void ensureShards(RepoId id, String commit, HubClient.Listing listing, String prefix) throws IOException {
        Optional<String> weights = weights(listing, prefix);
        if (weights.isEmpty() || !weights.get().endsWith(".index.json")) return;
        Path index = cache.snapshot(id, commit).resolve(weights.get());
        List<String> shards = ShardIndex.shardNames(Json.parseObjectFile(index), index).stream().map(name -> prefix + name).toList();
        List<String> absent = shards.stream().filter(path -> listing.file(path) == null).toList();
        if (!absent.isEmpty()) throw new ModelFormatException(index + ": names shards " + id + " does not have: " + absent);
        ensureAll(id, commit, listed(listing, shards));
    }

    /** Those of {@code paths} the listing has. */
    private static List<RemoteFile> listed(HubClient.Listing listing, List<String> paths) {
        return paths.stream().map(listing::file).filter(java.util.Objects::nonNull).toList();
    }

    /** Fetches what the snapshot lacks of {@code files}, saying once what that is. */
    private void ensureAll(RepoId id, String commit, List<RemoteFile> files) throws IOException {
        List<RemoteFile> missing = new ArrayList<>();
        for (RemoteFile f : files) {
            if (!cache.has(id, commit, f)) missing.add(f);
        }
        if (missing.isEmpty()) return;
        long bytes = missing.stream().mapToLong(RemoteFile::size).sum();
        LOG.log(Level.INFO, "Fetching {0} file(s) of {1} ({2} MB) from {3} into {4}", missing.size(), id,
                String.format("%.1f", bytes / 1e6), HubHttp.printable(settings.endpoint()), cache.snapshot(id, commit));
        for (RemoteFile f : missing) ensure(id, commit, f);
    }

    /** Links the file into the snapshot, downloading its blob unless the cache has it (from another commit or Python). */
    private void ensure(RepoId id, String commit, RemoteFile file) throws IOException {
        Path blob = cache.blob(id, file.blobName());
        if (!Files.isRegularFile(blob) || Files.size(blob) != file.size()) {
            client().download(id, commit, file, cache.partial(id, file.blobName()), blob);
        }
        cache.link(id, commit, file);
    }

    /** The folders of modules.json's modules (the transformer itself has ""), each a safe relative path. */
    private static List<String> moduleFolders(Path modulesJson) {
        if (!Files.isRegularFile(modulesJson)) return List.of();
        List<String> folders = new ArrayList<>();
        if (!(Json.parseFile(modulesJson) instanceof List<?> modules)) {
            throw new ModelFormatException(modulesJson + ": not a JSON list of modules");
        }
        for (Object module : modules) {
            if (module instanceof Map<?, ?> m && m.get("path") instanceof String path && !path.isEmpty()) {
                try {
                    RemoteFile.requireSafePath(path);
                } catch (IllegalArgumentException e) {
                    throw new ModelFormatException(modulesJson + ": module path \"" + path + "\" leaves the model directory");
                }
                folders.add(path);
            }
        }
        return folders;
    }

    /** Refuses, before any download, a repository rerank4j could not load, saying what it holds instead. */
    private static void requireLoadable(RepoId id, HubClient.Listing listing) {
        List<String> missing = new ArrayList<>();
        if (!listing.files().containsKey("config.json")) missing.add("config.json");
        boolean noTokenizer = tokenizer(listing).isEmpty();
        if (noTokenizer) missing.add("tokenizer.json (or vocab.txt for a BERT-family model, vocab.json and merges.txt for RoBERTa)");
        boolean noWeights = weights(listing, "").isEmpty();
        if (noWeights) missing.add("model.safetensors (or pytorch_model.bin, or an index of shards of either)");
        if (missing.isEmpty()) return;
        Set<String> has = listing.files().keySet();
        StringBuilder why = new StringBuilder(id + " has no " + String.join(", ", missing) + " at commit " + listing.commit());
        if (noWeights && has.contains("onnx/model.onnx")) {
            why.append("; it has onnx/model.onnx: `rerank convert` turns a BERT ONNX export into a model directory");
        }
        if (noTokenizer) {
            why.append("; rerank4j reads tokenizers from tokenizer.json (transformers' AutoTokenizer writes one with save_pretrained)");
        }
        throw new ModelFormatException(why.toString());
    }

    /**
     * The revision's snapshot in the cache, if it holds the files every model needs and no fetch of it stopped halfway
     * (Python's snapshots, which rerank4j never marks, count as whole).
     */
    private Optional<Path> cachedSnapshot(RepoId id) throws IOException {
        Optional<String> commit = cache.commit(id);
        if (commit.isEmpty() || cache.wasCutOff(id, commit.get())) return Optional.empty();
        Path dir = cache.snapshot(id, commit.get());
        if (!Files.isRegularFile(dir.resolve("config.json"))) return Optional.empty();
        if (ModelTokenizer.FILES.stream().noneMatch(name -> Files.isRegularFile(dir.resolve(name)))) return Optional.empty();
        if (ModelWeights.FILES.stream().noneMatch(name -> Files.isRegularFile(dir.resolve(name)))) return Optional.empty();
        return Optional.of(dir);
    }

    private boolean cutOff(RepoId id) throws IOException {
        Optional<String> commit = cache.commit(id);
        return commit.isPresent() && cache.wasCutOff(id, commit.get());
    }

    private synchronized HubClient client() {
        if (client == null) client = new HubClient(settings.endpoint(), settings.token(), settings.stallTimeout());
        return client;
    }

    @Override
    public synchronized void close() {
        if (client != null) client.close();
    }
}
