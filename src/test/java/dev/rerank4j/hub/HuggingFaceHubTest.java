package dev.rerank4j.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rerank4j.Golden;
import dev.rerank4j.ModelFormatException;
import dev.rerank4j.Options;
import dev.rerank4j.Reranker;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Fetching a model from a hub on localhost ({@link FakeHub}): what is fetched, where it goes, and every way it can fail. */
class HuggingFaceHubTest {
    private static final String ID = "owner/model";
    /** Files the repository also holds that rerank4j never reads: they must not be fetched. */
    private static final Map<String, byte[]> NOT_NEEDED = Map.of(
            "pytorch_model.bin", new byte[5000], "onnx/model.onnx", new byte[3000], "README.md", "# card".getBytes(StandardCharsets.UTF_8));

    @TempDir
    Path cache;
    /** A folder beside the cache, not in it (removed after each test, as the cache is). */
    @TempDir
    Path outside;
    FakeHub hub;
    Path source = Golden.path("colbert-tiny");

    @BeforeEach
    void start() throws IOException {
        hub = new FakeHub().serve(source, NOT_NEEDED);
    }

    @AfterEach
    void stop() {
        hub.close();
    }

    private HuggingFaceHub client(boolean offline, Duration stall) {
        return new HuggingFaceHub(new HuggingFaceHub.Settings(hub.endpoint(), cache, FakeHub.TOKEN, offline, stall));
    }

    private Path fetch(String id) throws IOException {
        try (HuggingFaceHub h = client(false, Duration.ofSeconds(5))) {
            return h.snapshot(id);
        }
    }

    private Path repo() {
        return cache.resolve("models--owner--model");
    }

    @Test
    void fetchesWhatAModelNeedsIntoTheHubsOwnLayout() throws IOException {
        Path dir = fetch(ID);
        assertEquals(repo().resolve("snapshots").resolve(FakeHub.COMMIT), dir);
        assertEquals(FakeHub.COMMIT, Files.readString(repo().resolve("refs/main")));
        try (Stream<Path> walk = Files.walk(dir)) {
            List<String> names = walk.filter(p -> !Files.isDirectory(p)).map(p -> dir.relativize(p).toString()).sorted().toList();
            assertEquals(List.of("1_Dense/config.json", "1_Dense/model.safetensors", "config.json", "config_sentence_transformers.json",
                    "model.safetensors", "modules.json", "sentence_bert_config.json", "tokenizer.json", "tokenizer_config.json"), names);
        }
        // links into blobs named as huggingface_hub names them: the SHA-256 of LFS files, the Git blob id of the rest
        assertTrue(Files.isSymbolicLink(dir.resolve("model.safetensors")));
        assertEquals(Path.of("../../blobs/" + FakeHub.sha256(hub.file("model.safetensors"))), Files.readSymbolicLink(dir.resolve("model.safetensors")));
        assertEquals(Path.of("../../../blobs/" + FakeHub.gitBlobId(hub.file("1_Dense/config.json"))),
                Files.readSymbolicLink(dir.resolve("1_Dense/config.json")));
        for (String name : List.of("model.safetensors", "1_Dense/model.safetensors", "tokenizer.json")) {
            assertEquals(-1L, Files.mismatch(source.resolve(name), dir.resolve(name)), name);
        }
        // the token went to the hub, never to the CDN the weights were redirected to
        assertTrue(hub.requests.stream().filter(r -> r.server().equals("hub")).allMatch(r -> ("Bearer " + FakeHub.TOKEN).equals(r.authorization())));
        assertTrue(hub.requests.stream().anyMatch(r -> r.server().equals("cdn")));
        assertTrue(hub.requests.stream().filter(r -> r.server().equals("cdn")).allMatch(r -> r.authorization() == null));

        List<String> docs = List.of("Berlin has 3.7 million inhabitants.", "Paris is the capital of France.");
        try (Reranker fetched = Reranker.load(dir, Options.defaults().withBackend(Options.BackendChoice.CPU));
             Reranker original = Reranker.load(source, Options.defaults().withBackend(Options.BackendChoice.CPU))) {
            assertArrayEquals(original.score("how many live in berlin", docs), fetched.score("how many live in berlin", docs));
        }
    }

    @Test
    void aCachedModelIsNotFetchedAgainAndServesWhenTheHubIsUnreachable() throws IOException {
        Path first = fetch(ID);
        int downloads = hub.downloads().size();
        assertEquals(first, fetch(ID));
        assertEquals(downloads, hub.downloads().size(), "the second call only asks for the commit");
        hub.close();
        assertEquals(first, fetch(ID), "the hub is down: the cached snapshot of main");
        try (HuggingFaceHub offline = client(true, Duration.ofSeconds(5))) {
            assertEquals(first, offline.snapshot(ID));
            assertEquals(first, offline.snapshot(ID + "@" + FakeHub.COMMIT));
            IOException e = assertThrows(IOException.class, () -> offline.snapshot(ID + "@v2"));
            assertTrue(e.getMessage().contains("HF_HUB_OFFLINE") && e.getMessage().contains("owner/model@v2"), e.getMessage());
        }
    }

    @Test
    void anUnreachableHubWithoutACachedCopySaysBoth() {
        hub.close();
        IOException e = assertThrows(IOException.class, () -> fetch(ID));
        assertTrue(e.getMessage().contains("cannot ask " + hub.endpoint() + " about owner/model@main")
                && e.getMessage().contains("not in the cache"), e.getMessage());
    }

    @Test
    void aFailingHubFallsBackToTheCacheButARefusalDoesNot() throws IOException {
        Path cached = fetch(ID);
        for (int status : new int[] {500, 503, 429}) {
            hub.listingStatus = status;
            assertEquals(cached, fetch(ID), "HTTP " + status);
        }
        hub.listingOverride = "{\"garbage";
        hub.listingStatus = 0;
        assertEquals(cached, fetch(ID), "a listing that is not JSON");
        hub.listingOverride = null;
        for (int status : new int[] {401, 403, 404}) {
            hub.listingStatus = status;
            IOException e = assertThrows(IOException.class, () -> fetch(ID), "HTTP " + status);
            assertTrue(e.getMessage().contains("HTTP " + status), e.getMessage());
        }
    }

    @Test
    @Timeout(30) // a regression would read the body forever
    void anEndlessErrorBodyEndsTheCall() {
        hub.endlessError = true;
        long start = System.nanoTime();
        IOException e = assertThrows(IOException.class, () -> {
            try (HuggingFaceHub h = client(false, Duration.ofMillis(700))) {
                h.snapshot(ID);
            }
        });
        assertTrue(e.getMessage().contains("HTTP 500") && e.getMessage().contains("error error"), e.getMessage());
        assertTrue(System.nanoTime() - start < 10e9, "the body is not read to its (missing) end");
    }

    @Test
    void anInterruptIsNotTakenForAnUnreachableHub() throws IOException {
        fetch(ID);
        Thread.currentThread().interrupt();
        try {
            assertThrows(java.io.InterruptedIOException.class, () -> fetch(ID));
        } finally {
            Thread.interrupted();
        }
    }

    @Test
    void aCommitIsServedFromTheCacheOnlyOnceItsFetchHasCompleted() throws IOException {
        hub.faults.put("1_Dense/model.safetensors", FakeHub.Fault.CUT_HALFWAY);
        String pinned = ID + "@" + FakeHub.COMMIT;
        assertThrows(IOException.class, () -> fetch(pinned));
        assertTrue(Files.isRegularFile(repo().resolve("snapshots/" + FakeHub.COMMIT + "/model.safetensors")), "the first files are in");
        hub.faults.clear();
        hub.requests.clear();
        Path dir = fetch(pinned);
        assertTrue(Files.isRegularFile(dir.resolve("1_Dense/model.safetensors")), "the fetch was finished, not skipped");
        hub.requests.clear();
        assertEquals(dir, fetch(pinned));
        assertEquals(List.of(), hub.requests, "a complete commit needs no request");
    }

    /** A fetch cut halfway leaves the commit's first files, which look like a model: offline, or with the hub down, it is not one. */
    @Test
    void aCommitWhoseFetchStoppedHalfwayIsNotServedOfflineNorWhenTheHubIsDown() throws IOException {
        hub.faults.put("1_Dense/model.safetensors", FakeHub.Fault.CUT_HALFWAY);
        String pinned = ID + "@" + FakeHub.COMMIT;
        assertThrows(IOException.class, () -> fetch(pinned));
        try (HuggingFaceHub offline = client(true, Duration.ofSeconds(5))) {
            IOException e = assertThrows(IOException.class, () -> offline.snapshot(pinned));
            assertTrue(e.getMessage().contains("HF_HUB_OFFLINE") && e.getMessage().contains("incomplete: a download of it stopped"), e.getMessage());
        }
        hub.close();
        IOException down = assertThrows(IOException.class, () -> fetch(pinned));
        assertTrue(down.getMessage().contains("its cached snapshot is incomplete"), down.getMessage());

        hub = new FakeHub().serve(source, NOT_NEEDED);
        Path dir = fetch(pinned);
        try (HuggingFaceHub offline = client(true, Duration.ofSeconds(5))) {
            assertEquals(dir, offline.snapshot(pinned), "finished online, then whole offline");
        }
    }

    @Test
    void aPinnedCommitIsTakenFromNoOther() {
        String other = "f".repeat(40); // the fake hub answers every revision with FakeHub.COMMIT
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> fetch(ID + "@" + other));
        assertTrue(e.getMessage().contains("asked for commit " + other + ", the hub answered with commit " + FakeHub.COMMIT), e.getMessage());
        assertFalse(Files.exists(repo().resolve("snapshots").resolve(FakeHub.COMMIT)), "nothing fetched");
    }

    @Test
    void aTokenAnHttpHeaderCannotCarryIsRefusedWithoutPrintingIt() {
        for (String token : List.of("hf_SECRET\u0001tail", "hf_SECRET\nsecond line", "hf_SECRET€")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new HuggingFaceHub.Settings(hub.endpoint(), cache, token, false, Duration.ofSeconds(5)));
            assertTrue(e.getMessage().contains("an HTTP header cannot carry") && !e.getMessage().contains("SECRET"), e.getMessage());
            IllegalArgumentException fromEnv = assertThrows(IllegalArgumentException.class,
                    () -> HuggingFaceHub.Settings.fromEnvironment(Map.of("HF_TOKEN", token), outside));
            assertFalse(fromEnv.getMessage().contains("SECRET"), fromEnv.getMessage());
        }
    }

    @Test
    void credentialsInTheEndpointAreNeverPrinted() throws IOException {
        java.net.URI endpoint = java.net.URI.create(hub.endpoint().toString().replace("http://", "http://mirror:S3CRET@"));
        HuggingFaceHub.Settings settings = new HuggingFaceHub.Settings(endpoint, cache, null, false, Duration.ofSeconds(5));
        assertFalse(settings.toString().contains("S3CRET"), settings.toString());
        hub.listingStatus = 404;
        try (HuggingFaceHub h = new HuggingFaceHub(settings)) {
            IOException notThere = assertThrows(IOException.class, () -> h.snapshot(ID));
            assertTrue(notThere.getMessage().contains("no model owner/model") && !notThere.getMessage().contains("S3CRET"), notThere.getMessage());
        }
        hub.listingStatus = 0;
        hub.close();
        try (HuggingFaceHub h = new HuggingFaceHub(settings)) {
            IOException down = assertThrows(IOException.class, () -> h.snapshot(ID));
            assertTrue(down.getMessage().contains("cannot ask http://127.0.0.1") && !down.getMessage().contains("S3CRET"), down.getMessage());
        }
    }

    /** huggingface_hub links files, never folders: a folder link planted in a snapshot is replaced, not written through. */
    @Test
    void aFolderLinkPlantedInASnapshotIsReplacedNotWrittenThrough() throws IOException {
        Path mine = Files.writeString(outside.resolve("config.json"), "my own file");
        Path snapshot = Files.createDirectories(repo().resolve("snapshots").resolve(FakeHub.COMMIT));
        Files.createSymbolicLink(snapshot.resolve("1_Dense"), outside);
        Path dir = fetch(ID);
        assertEquals("my own file", Files.readString(mine));
        assertFalse(Files.isSymbolicLink(dir.resolve("1_Dense")));
        assertEquals(-1L, Files.mismatch(source.resolve("1_Dense/model.safetensors"), dir.resolve("1_Dense/model.safetensors")));
        try (Stream<Path> files = Files.list(outside)) {
            assertEquals(List.of(mine), files.toList(), "nothing written outside the cache");
        }
    }

    @Test
    void aServerThatWillNotResumeCostsOneTry() throws IOException {
        assertAResumeFaultCostsOneTry(FakeHub.Fault.REFUSE_RANGE, "the next try starts over");
    }

    /**
     * A download cut halfway, then a server that answers its resumption with {@code fault}: that try fails saying
     * {@code why}, and the next one, against the same server, asks for the whole file and gets it.
     */
    private void assertAResumeFaultCostsOneTry(FakeHub.Fault fault, String why) throws IOException {
        hub.faults.put("model.safetensors", FakeHub.Fault.CUT_HALFWAY);
        assertThrows(IOException.class, () -> fetch(ID));
        hub.faults.put("model.safetensors", fault);
        IOException e = assertThrows(IOException.class, () -> fetch(ID));
        assertTrue(e.getMessage().contains(why), e.getMessage());
        Path dir = fetch(ID);
        assertEquals(-1L, Files.mismatch(source.resolve("model.safetensors"), dir.resolve("model.safetensors")));
    }

    @Test
    void callsAtOnceFetchEachFileOnce() throws Exception {
        try (var pool = java.util.concurrent.Executors.newFixedThreadPool(4)) {
            List<java.util.concurrent.Future<Path>> calls = new java.util.ArrayList<>();
            for (int i = 0; i < 4; i++) calls.add(pool.submit(() -> fetch(ID)));
            for (var call : calls) assertEquals(repo().resolve("snapshots").resolve(FakeHub.COMMIT), call.get());
        }
        List<String> fetched = hub.downloads().stream().filter(r -> r.server().equals("hub")).map(FakeHub.Request::path).toList();
        assertEquals(fetched.stream().distinct().toList(), fetched, "no file twice");
        assertEquals(9, fetched.size());
    }

    @Test
    void aCorruptDownloadIsDeletedAndNamed() throws IOException {
        hub.faults.put("model.safetensors", FakeHub.Fault.CORRUPT);
        IOException e = assertThrows(IOException.class, () -> fetch(ID));
        assertTrue(e.getMessage().contains("model.safetensors of owner/model@main: the sha256 of the download is"), e.getMessage());
        assertTrue(e.getMessage().contains("corrupt"), e.getMessage());
        String blob = FakeHub.sha256(hub.file("model.safetensors"));
        assertFalse(Files.exists(repo().resolve("blobs/" + blob)));
        assertFalse(Files.exists(repo().resolve("blobs/" + blob + ".rerank4j-incomplete")));
        assertFalse(Files.exists(repo().resolve("snapshots/" + FakeHub.COMMIT + "/model.safetensors")));
        assertFalse(Files.exists(repo().resolve("refs/main")), "no ref to an incomplete snapshot");

        hub.faults.clear();
        assertTrue(Files.isRegularFile(fetch(ID).resolve("model.safetensors")));
    }

    @Test
    void aCorruptJsonFileIsCheckedByItsGitBlobId() {
        hub.faults.put("tokenizer.json", FakeHub.Fault.CORRUPT);
        IOException e = assertThrows(IOException.class, () -> fetch(ID));
        assertTrue(e.getMessage().contains("tokenizer.json of owner/model@main: the git blob id of the download is"), e.getMessage());
    }

    @Test
    void aCutDownloadResumesWhereItStopped() throws IOException {
        hub.faults.put("model.safetensors", FakeHub.Fault.CUT_HALFWAY);
        assertThrows(IOException.class, () -> fetch(ID));
        byte[] weights = hub.file("model.safetensors");
        Path partial = repo().resolve("blobs/" + FakeHub.sha256(weights) + ".rerank4j-incomplete");
        assertEquals(weights.length / 2, Files.size(partial), "what arrived is kept");

        hub.faults.clear();
        hub.requests.clear();
        Path dir = fetch(ID);
        assertEquals(-1L, Files.mismatch(source.resolve("model.safetensors"), dir.resolve("model.safetensors")));
        assertTrue(hub.requests.stream().anyMatch(r -> r.server().equals("cdn") && ("bytes=" + weights.length / 2 + "-").equals(r.range())),
                hub.requests.toString());
        assertFalse(Files.exists(partial));
    }

    @Test
    void aServerResumingElsewhereThanAskedCostsOneTryNotAll() throws IOException {
        assertAResumeFaultCostsOneTry(FakeHub.Fault.RESUME_ELSEWHERE, "resumed model.safetensors at byte");
    }

    @Test
    void aLinkPlantedAtAPartialDownloadIsNotWrittenThrough() throws IOException {
        Path victim = Files.writeString(outside.resolve("victim-" + System.nanoTime() + ".txt"), "keep me");
        Path partial = repo().resolve("blobs/" + FakeHub.sha256(hub.file("model.safetensors")) + ".rerank4j-incomplete");
        Files.createDirectories(partial.getParent());
        Files.createSymbolicLink(partial, victim);
        Path dir = fetch(ID);
        assertEquals("keep me", Files.readString(victim));
        assertEquals(-1L, Files.mismatch(source.resolve("model.safetensors"), dir.resolve("model.safetensors")));
    }

    @Test
    void theCdnsRefusalIsItsOwnAndItsSignedLinkIsNotPrinted() {
        hub.faults.put("model.safetensors", FakeHub.Fault.CDN_FORBIDDEN);
        IOException e = assertThrows(IOException.class, () -> fetch(ID));
        assertTrue(e.getMessage().contains("HTTP 403 for model.safetensors of owner/model at commit " + FakeHub.COMMIT)
                && e.getMessage().contains("download server refused") && e.getMessage().contains("Request has expired"), e.getMessage());
        assertFalse(e.getMessage().contains("secret-signature"), e.getMessage());
        hub.faults.clear();
        hub.locationOverride = "http://127.0.0.1:1/a path with spaces";
        IOException location = assertThrows(IOException.class, () -> fetch(ID));
        assertTrue(location.getMessage().contains("malformed Location"), location.getMessage());
        hub.locationOverride = "file:///etc/passwd";
        IOException scheme = assertThrows(IOException.class, () -> fetch(ID));
        assertTrue(scheme.getMessage().contains("not an HTTP URL"), scheme.getMessage());
    }

    @Test
    void oneCacheReachedByTwoPathsIsOneLock() throws Exception {
        Path alias = Files.createSymbolicLink(outside.resolve("alias-" + System.nanoTime()), cache);
        try (var pool = java.util.concurrent.Executors.newFixedThreadPool(2)) {
            var direct = pool.submit(() -> fetch(ID));
            var viaAlias = pool.submit(() -> {
                try (HuggingFaceHub h = new HuggingFaceHub(new HuggingFaceHub.Settings(hub.endpoint(), alias, null, false, Duration.ofSeconds(5)))) {
                    return h.snapshot(ID);
                }
            });
            assertEquals(direct.get().toRealPath(), viaAlias.get().toRealPath());
        } finally {
            Files.delete(alias);
        }
    }

    @Test
    @Timeout(30)
    void aStalledDownloadIsAbandoned() {
        hub.faults.put("model.safetensors", FakeHub.Fault.STALL_HALFWAY);
        long start = System.nanoTime();
        IOException e = assertThrows(IOException.class, () -> {
            try (HuggingFaceHub h = client(false, Duration.ofMillis(700))) {
                h.snapshot(ID);
            }
        });
        assertTrue(e.getMessage().contains("nothing received for"), e.getMessage());
        assertTrue(System.nanoTime() - start < 15e9, "not the server's 20 s stall");
    }

    @Test
    void moreBytesThanListedAreRefused() {
        hub.faults.put("model.safetensors", FakeHub.Fault.EXTRA_BYTES);
        IOException e = assertThrows(IOException.class, () -> fetch(ID));
        assertTrue(e.getMessage().contains("more than the " + hub.file("model.safetensors").length + " bytes"), e.getMessage());
    }

    @Test
    void theHubsRefusalsSayWhatToDo() {
        hub.listingStatus = 401;
        IOException unauthorized = assertThrows(IOException.class, () -> fetch(ID));
        assertTrue(unauthorized.getMessage().contains("HTTP 401") && unauthorized.getMessage().contains("HF_TOKEN")
                && unauthorized.getMessage().contains("fake refusal"), unauthorized.getMessage());
        hub.listingStatus = 404;
        IOException missing = assertThrows(IOException.class, () -> fetch(ID + "@nope"));
        assertTrue(missing.getMessage().contains("no model owner/model with revision nope"), missing.getMessage());
        assertEquals(List.of(), hub.downloads());
    }

    @Test
    void aRepositoryWithoutWeightsIsRefusedBeforeAnyDownload() {
        hub.remove("model.safetensors");
        hub.remove("pytorch_model.bin");
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> fetch(ID));
        assertTrue(e.getMessage().contains("has no model.safetensors (or pytorch_model.bin, or an index of shards of either)")
                        && e.getMessage().contains("onnx/model.onnx"),
                e.getMessage());
        hub.remove("tokenizer.json");
        ModelFormatException noTokenizer = assertThrows(ModelFormatException.class, () -> fetch(ID));
        assertTrue(noTokenizer.getMessage().contains("tokenizer.json"), noTokenizer.getMessage());
        assertEquals(List.of(), hub.downloads());
    }

    @Test
    void aRepositoryWithOnlyAPytorchCheckpointIsFetchedWithItAndLoads() throws IOException {
        hub.close();
        Path bert = Golden.path("bert-tiny-ce");
        Path repo = Golden.tinyCrossEncoderWithoutWeights(Files.createTempDirectory(outside, "pytorch-repo"));
        byte[] checkpoint = Files.readAllBytes(Path.of("src/test/resources/torch/bert-tiny-ce/pytorch_model.bin"));
        hub = new FakeHub().serve(repo, Map.of("pytorch_model.bin", checkpoint, "onnx/model.onnx", new byte[3000]));

        Path snapshot = fetch(ID);
        assertTrue(Files.isRegularFile(snapshot.resolve("pytorch_model.bin")));
        assertFalse(Files.exists(snapshot.resolve("model.safetensors")));
        assertTrue(hub.downloads().stream().noneMatch(r -> r.path().contains("onnx")), hub.downloads().toString());
        List<String> docs = List.of("Berlin has 3.7 million inhabitants.", "Paris is the capital of France.");
        try (Reranker fromHub = Reranker.load(snapshot); Reranker original = Reranker.load(bert)) {
            assertArrayEquals(original.score("how many people live in berlin?", docs), fromHub.score("how many people live in berlin?", docs));
        }
        try (HuggingFaceHub offline = client(true, Duration.ofSeconds(5))) {
            assertEquals(snapshot, offline.snapshot(ID), "the cached snapshot counts as whole with its pytorch_model.bin");
        }
    }

    @Test
    void aRepositoryWithVocabTxtInsteadOfTokenizerJsonIsFetchedWithTheFilesBesideItAndLoads() throws IOException, URISyntaxException {
        hub.close();
        Path bert = Golden.path("bert-tiny-ce");
        Path repo = Files.createTempDirectory(outside, "vocab-repo");
        for (String f : List.of("config.json", "model.safetensors")) Files.copy(bert.resolve(f), repo.resolve(f));
        Path uncased = Path.of(HuggingFaceHubTest.class.getResource("/tokenize/vocab-files/uncased").toURI());
        for (String f : List.of("vocab.txt", "tokenizer_config.json", "special_tokens_map.json")) Files.copy(uncased.resolve(f), repo.resolve(f));
        hub = new FakeHub().serve(repo, Map.of("added_tokens.json", "{}".getBytes(StandardCharsets.UTF_8),
                "tokenizer.model", new byte[100])); // files a slow tokenizer of another kind would read: not fetched

        Path snapshot = fetch(ID);
        for (String f : List.of("vocab.txt", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json")) {
            assertTrue(Files.isRegularFile(snapshot.resolve(f)), f);
        }
        assertTrue(hub.downloads().stream().noneMatch(r -> r.path().contains("tokenizer.model")), hub.downloads().toString());
        List<String> docs = List.of("Berlin has 3.7 million inhabitants.", "Paris is the capital of France.");
        try (Reranker fromHub = Reranker.load(snapshot); Reranker original = Reranker.load(bert)) {
            assertArrayEquals(original.score("how many people live in berlin?", docs), fromHub.score("how many people live in berlin?", docs));
        }
        try (HuggingFaceHub offline = client(true, Duration.ofSeconds(5))) {
            assertEquals(snapshot, offline.snapshot(ID), "the cached snapshot counts as whole with its vocab.txt");
        }
    }

    @Test
    void aRobertaRepositoryWithVocabJsonAndMergesIsFetchedWithThemAndLoads() throws IOException, URISyntaxException {
        hub.close();
        Path repo = Files.createTempDirectory(outside, "roberta-repo");
        try (Stream<Path> files = Files.list(Golden.path("roberta-tiny-st"))) {
            for (Path f : files.toList()) Files.copy(f, repo.resolve(f.getFileName()));
        }
        Files.copy(Golden.path("xlmr-tiny-ce/model.safetensors"), repo.resolve("model.safetensors"));
        Path layout = Path.of(HuggingFaceHubTest.class.getResource("/tokenize/vocab-files/roberta").toURI());
        for (String f : List.of("vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json")) {
            Files.copy(layout.resolve(f), repo.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        hub = new FakeHub().serve(repo, Map.of());

        Path snapshot = fetch(ID);
        for (String f : List.of("vocab.json", "merges.txt", "special_tokens_map.json")) assertTrue(Files.isRegularFile(snapshot.resolve(f)), f);
        try (Reranker fromHub = Reranker.load(snapshot)) {
            assertTrue(fromHub.description().get("tokenizer").startsWith("vocab.json and merges.txt"), fromHub.description().toString());
            fromHub.score("how many people live in berlin?", List.of("Berlin has 3.7 million inhabitants."));
        }
    }

    @Test
    void aShardedRepositoryIsFetchedShardByShardAndLoads() throws IOException {
        hub.close();
        Path bert = Golden.path("bert-tiny-ce");
        Path repo = Golden.tinyCrossEncoderWithoutWeights(Files.createTempDirectory(outside, "sharded-repo"));
        try (Stream<Path> shards = Files.list(Path.of("src/test/resources/torch/sharded-safetensors"))) {
            for (Path shard : shards.toList()) Files.copy(shard, repo.resolve(shard.getFileName().toString()));
        }
        hub = new FakeHub().serve(repo, Map.of("pytorch_model.bin", new byte[5000]));

        Path snapshot = fetch(ID);
        for (int i = 1; i <= 3; i++) assertTrue(Files.isRegularFile(snapshot.resolve("model-0000" + i + "-of-00003.safetensors")), "shard " + i);
        assertTrue(hub.downloads().stream().noneMatch(r -> r.path().endsWith("pytorch_model.bin")), hub.downloads().toString());
        List<String> docs = List.of("Berlin has 3.7 million inhabitants.", "Paris is the capital of France.");
        try (Reranker fromHub = Reranker.load(snapshot); Reranker original = Reranker.load(bert)) {
            assertArrayEquals(original.score("how many people live in berlin?", docs), fromHub.score("how many people live in berlin?", docs));
        }

        hub.close();
        Path hostile = Files.createTempDirectory(outside, "hostile-index");
        for (String f : List.of("config.json", "tokenizer.json")) Files.copy(bert.resolve(f), hostile.resolve(f));
        Files.writeString(hostile.resolve("model.safetensors.index.json"), "{\"weight_map\": {\"w\": \"../../../escape.safetensors\"}}");
        hub = new FakeHub().serve(hostile, Map.of());
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> fetch(ID));
        assertTrue(e.getMessage().contains("not a file name beside the index"), e.getMessage());
        assertFalse(Files.exists(cache.resolve("escape.safetensors")));
    }

    @Test
    void hostileListingsAndModulePathsAreRefused() throws IOException {
        hub.listingOverride = "{\"sha\": \"" + FakeHub.COMMIT + "\", \"siblings\": [{\"rfilename\": \"config.json\", \"size\": 10,"
                + " \"blobId\": \"../../../../etc/passwd\"}, {\"rfilename\": \"tokenizer.json\", \"size\": 1, \"blobId\": \"x\"},"
                + " {\"rfilename\": \"model.safetensors\", \"size\": 1, \"blobId\": \"y\"}]}";
        ModelFormatException blobId = assertThrows(ModelFormatException.class, () -> fetch(ID));
        assertTrue(blobId.getMessage().contains("not 40 lowercase hex digits"), blobId.getMessage());
        hub.listingOverride = "{\"sha\": \"../x\", \"siblings\": []}";
        assertThrows(ModelFormatException.class, () -> fetch(ID));
        hub.listingOverride = "not json";
        assertThrows(ModelFormatException.class, () -> fetch(ID));

        hub.listingOverride = null;
        hub.serve(Files.createTempDirectory(outside, "none"), Map.of());
        byte[] modules = "[{\"idx\": 0, \"path\": \"\"}, {\"idx\": 1, \"path\": \"../../../escape\"}]".getBytes(StandardCharsets.UTF_8);
        Path evil = Files.createTempDirectory(outside, "evil");
        Files.write(evil.resolve("modules.json"), modules);
        hub.serve(evil, Map.of());
        ModelFormatException path = assertThrows(ModelFormatException.class, () -> fetch(ID));
        assertTrue(path.getMessage().contains("leaves the model directory"), path.getMessage());
        assertFalse(Files.exists(cache.resolve("escape")));
    }

    @Test
    void modelIdsThatCouldLeaveTheCacheAreRefused() {
        for (String bad : List.of("model", "a/b/c", "../x", "a/..", "a--b/c", "owner/model@../../x", "owner/model@/abs",
                "owner/model@a//b", "owner/model@", "-a/b", "a/b.", "a b/c")) {
            assertThrows(IllegalArgumentException.class, () -> RepoId.parse(bad), bad);
            assertFalse(RepoId.looksLikeId(bad) && bad.indexOf('@') < 0 && !bad.contains("..") && !bad.contains("--")
                    && !bad.startsWith("-") && !bad.endsWith("."), bad);
        }
        RepoId pr = RepoId.parse("BAAI/bge-reranker-v2-m3@refs/pr/3");
        assertEquals("BAAI", pr.owner());
        assertEquals("bge-reranker-v2-m3", pr.name());
        assertEquals("refs/pr/3", pr.revision());
        assertEquals("main", RepoId.parse("cross-encoder/ms-marco-MiniLM-L-6-v2").revision());
        assertTrue(RepoId.parse("a/b@" + FakeHub.COMMIT).isCommit());
    }

    @Test
    void settingsComeFromTheEnvironmentAsHuggingfaceHubReadsThem(@TempDir Path home) throws IOException {
        HuggingFaceHub.Settings defaults = HuggingFaceHub.Settings.fromEnvironment(Map.of(), home);
        assertEquals(home.resolve(".cache/huggingface/hub"), defaults.cache());
        assertEquals(HuggingFaceHub.Settings.DEFAULT_ENDPOINT, defaults.endpoint());
        assertNull(defaults.token());
        assertFalse(defaults.offline());

        Files.createDirectories(home.resolve("hf"));
        Files.writeString(home.resolve("hf/token"), "hf_from_file\n");
        HuggingFaceHub.Settings hfHome = HuggingFaceHub.Settings.fromEnvironment(
                Map.of("HF_HOME", home.resolve("hf").toString(), "HF_HUB_OFFLINE", "1", "HF_HUB_DOWNLOAD_TIMEOUT", "2.5"), home);
        assertEquals(home.resolve("hf/hub"), hfHome.cache());
        assertEquals("hf_from_file", hfHome.token());
        assertTrue(hfHome.offline());
        assertEquals(Duration.ofMillis(2500), hfHome.stallTimeout());
        assertFalse(hfHome.toString().contains("hf_from_file"), "the token is never printed");

        HuggingFaceHub.Settings explicit = HuggingFaceHub.Settings.fromEnvironment(Map.of("HF_HOME", home.resolve("hf").toString(),
                "HF_HUB_CACHE", home.resolve("c").toString(), "HF_TOKEN", "hf_env", "HF_ENDPOINT", "https://mirror.example",
                "HF_HUB_OFFLINE", "0"), home);
        assertEquals(home.resolve("c"), explicit.cache());
        assertEquals("hf_env", explicit.token());
        assertEquals("https://mirror.example", explicit.endpoint().toString());
        assertFalse(explicit.offline());
        for (String timeout : List.of("soon", "0", "-1", "1e10", "NaN")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> HuggingFaceHub.Settings.fromEnvironment(Map.of("HF_HUB_DOWNLOAD_TIMEOUT", timeout), home), timeout);
            assertTrue(e.getMessage().contains("HF_HUB_DOWNLOAD_TIMEOUT"), e.getMessage());
        }
        for (String endpoint : List.of("hf-mirror.com", "ftp://mirror", "http://")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> HuggingFaceHub.Settings.fromEnvironment(Map.of("HF_ENDPOINT", endpoint), home), endpoint);
            assertTrue(e.getMessage().contains("HF_ENDPOINT"), e.getMessage());
        }
        HuggingFaceHub.Settings legacy = HuggingFaceHub.Settings.fromEnvironment(Map.of("HF_HOME", "~/hf",
                "HUGGINGFACE_HUB_CACHE", "~/old-cache", "HUGGING_FACE_HUB_TOKEN", "hf_old", "TRANSFORMERS_OFFLINE", "yes"), home);
        assertEquals(home.resolve("old-cache"), legacy.cache());
        assertEquals("hf_old", legacy.token());
        assertTrue(legacy.offline());
        assertEquals(home.resolve("hf/hub"), HuggingFaceHub.Settings.fromEnvironment(Map.of("HF_HOME", "~/hf"), home).cache());
    }
}
