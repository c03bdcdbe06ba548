package dev.rerank4j.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rerank4j.ChildJvm;
import dev.rerank4j.Golden;
import dev.rerank4j.ModelFormatException;
import dev.rerank4j.Reranker;
import dev.rerank4j.io.SafeTensors;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** Sharded checkpoints (tools/make_torch_fixture.py: golden/bert-tiny-ce's tensors in three safetensors shards, two torch ones). */
class ShardedWeightsTest {
    private static final Path BERT = Path.of("src/test/resources/golden/bert-tiny-ce");
    private static final List<String> DOCS = List.of("Berlin has 3.7 million inhabitants.", "Paris is the capital of France.", "");

    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"sharded-safetensors", "sharded-pytorch"})
    void aShardedCheckpointScoresAsTheWholeOne(String fixture) throws IOException {
        Path model = model(fixture);
        List<String> before = listing(model);
        try (Reranker sharded = Reranker.load(model); Reranker whole = Reranker.load(BERT)) {
            assertArrayEquals(whole.score("how many people live in berlin?", DOCS), sharded.score("how many people live in berlin?", DOCS));
            String weights = fixture.endsWith("safetensors") ? "model\\.safetensors\\.index\\.json, 3 shards, 0\\.2 MB"
                    : "pytorch_model\\.bin\\.index\\.json, read through a safetensors copy of 0\\.2 MB";
            assertTrue(sharded.description().get("weights").matches("F32, 0\\.1 M parameters, " + weights), sharded.description().get("weights"));
            assertTrue(whole.description().get("weights").matches("F32, 0\\.1 M parameters, model\\.safetensors 0\\.2 MB"),
                    whole.description().get("weights"));
        }
        assertEquals(before, listing(model), "loading writes nothing into the directory");
    }

    @Test
    void convertWritesOneFileFromPytorchShards() throws IOException {
        Path model = model("sharded-pytorch");
        TorchCheckpoint.convert(model);
        try (SafeTensors got = SafeTensors.open(model.resolve("model.safetensors"));
             SafeTensors want = SafeTensors.open(BERT.resolve("model.safetensors"))) {
            assertEquals(new TreeSet<>(want.names()), new TreeSet<>(got.names()));
            for (String name : want.names()) {
                assertArrayEquals(want.raw(name).orElseThrow().bytes().toArray(ValueLayout.JAVA_BYTE),
                        got.raw(name).orElseThrow().bytes().toArray(ValueLayout.JAVA_BYTE), name);
            }
        }
    }

    @Test
    void refusesIndicesThatPointOutsideTheFolderOrAtNothing() throws IOException {
        Path model = model("sharded-safetensors");
        Path index = model.resolve(ShardIndex.SAFETENSORS);
        String json = Files.readString(index);

        Files.writeString(index, json.replaceFirst("model-00001-of-00003.safetensors", "../../outside.safetensors"));
        ModelFormatException outside = assertThrows(ModelFormatException.class, () -> Reranker.load(model).close());
        assertTrue(outside.getMessage().contains("not a file name beside the index"), outside.getMessage());

        Files.writeString(index, json.replaceFirst("model-00001-of-00003.safetensors", "model-00009-of-00003.safetensors"));
        ModelFormatException missing = assertThrows(ModelFormatException.class, () -> Reranker.load(model).close());
        assertTrue(missing.getMessage().contains("shard model-00009-of-00003.safetensors is missing"), missing.getMessage());

        // a fourth shard that repeats the first: its tensors would be read twice
        Files.copy(model.resolve("model-00001-of-00003.safetensors"), model.resolve("model-00004-of-00003.safetensors"));
        Files.writeString(index, json.replaceFirst("\"model-00002-of-00003.safetensors\"", "\"model-00004-of-00003.safetensors\""));
        ModelFormatException twice = assertThrows(ModelFormatException.class, () -> Reranker.load(model).close());
        assertTrue(twice.getMessage().contains(": tensor 'bert.embeddings.LayerNorm.bias' is in two shards, "
                + model.resolve("model-00001-of-00003.safetensors") + " and " + model.resolve("model-00004-of-00003.safetensors")),
                twice.getMessage());

        Files.writeString(index, "{\"metadata\": {}}");
        ModelFormatException noMap = assertThrows(ModelFormatException.class, () -> Reranker.load(model).close());
        assertTrue(noMap.getMessage().contains("no weight_map"), noMap.getMessage());
    }

    @Test
    void mapsShardsInPlaceWithTheWholeFilesTensors() throws IOException {
        Path model = model("sharded-safetensors");
        List<Path> shards = List.of(1, 2, 3).stream().map(i -> model.resolve("model-0000" + i + "-of-00003.safetensors")).toList();
        try (SafeTensors sharded = ModelWeights.open(model); SafeTensors whole = SafeTensors.open(BERT.resolve("model.safetensors"))) {
            assertEquals(new TreeSet<>(whole.names()), new TreeSet<>(sharded.names()));
            for (String name : whole.names()) {
                SafeTensors.Raw want = whole.raw(name).orElseThrow(), got = sharded.raw(name).orElseThrow();
                assertEquals(want.dtype(), got.dtype(), name);
                assertArrayEquals(want.shape(), got.shape(), name);
                assertArrayEquals(want.bytes().toArray(ValueLayout.JAVA_BYTE), got.bytes().toArray(ValueLayout.JAVA_BYTE), name);
            }
            assertEquals(model.resolve(ShardIndex.SAFETENSORS), sharded.file());
            assertEquals(shards, sharded.shards());
            assertEquals(model.resolve("model-00003-of-00003.safetensors"), sharded.fileOf("bert.pooler.dense.weight"));
            long shardBytes = 0;
            for (Path shard : shards) shardBytes += Files.size(shard);
            assertEquals(shardBytes, sharded.byteSize());
        }
    }

    /** A temporary directory that does not exist fails any load that writes a copy (TorchCheckpointTest shows it). */
    @Test
    void writesNoTemporaryCopyOfSafetensorsShards() throws Exception {
        Path model = model("sharded-safetensors");
        Path docs = Files.writeString(tmp.resolve("docs.txt"), "a b\nc\n");
        ChildJvm.Result child = ChildJvm.run(List.of("-Djava.io.tmpdir=" + tmp.resolve("absent"), "--add-modules", "jdk.incubator.vector"),
                dev.rerank4j.cli.Main.class, Duration.ofSeconds(60), "--query", "q", "--docs", docs.toString(), "--model", model.toString(),
                "--raw");
        assertEquals(0, child.exitCode(), child.all());
        assertTrue(child.err().contains("model.safetensors.index.json, 3 shards, 0.2 MB"), child.err());
    }

    @Test
    void refusesAnIndexPlacingATensorInAShardWithoutIt() throws IOException {
        Path model = model("sharded-safetensors");
        Path index = model.resolve(ShardIndex.SAFETENSORS);
        Files.writeString(index, Files.readString(index).replace("\"classifier.bias\": \"model-00001-of-00003.safetensors\"",
                "\"classifier.bias\": \"model-00002-of-00003.safetensors\""));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Reranker.load(model).close());
        assertEquals(index + ": tensor 'classifier.bias' is mapped to model-00002-of-00003.safetensors, which does not hold it",
                e.getMessage());
    }

    @Test
    void acceptsTensorsTheIndexDoesNotList() throws IOException {
        Path model = model("sharded-safetensors");
        Path index = model.resolve(ShardIndex.SAFETENSORS);
        String json = Files.readString(index);
        String unlisted = "    \"classifier.bias\": \"model-00001-of-00003.safetensors\",\n";
        assertTrue(json.contains(unlisted), json);
        Files.writeString(index, json.replace(unlisted, ""));
        try (Reranker sharded = Reranker.load(model); Reranker whole = Reranker.load(BERT)) {
            assertArrayEquals(whole.score("how many people live in berlin?", DOCS), sharded.score("how many people live in berlin?", DOCS));
        }
    }

    @Test
    void namesTheShardOfATensorWhoseShapeDisagreesWithTheConfig() throws IOException {
        Path model = model("sharded-safetensors");
        Path config = model.resolve("config.json");
        String json = Files.readString(config);
        assertTrue(json.contains("\"intermediate_size\": 64"), json);
        Files.writeString(config, json.replace("\"intermediate_size\": 64", "\"intermediate_size\": 65"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Reranker.load(model).close());
        assertTrue(e.getMessage().startsWith(model.resolve("model-00002-of-00003.safetensors")
                + ": tensor 'bert.encoder.layer.0.intermediate.dense.weight' has shape [64, 32]"), e.getMessage());
    }

    private Path model(String fixture) throws IOException {
        Path model = Golden.tinyCrossEncoderWithoutWeights(tmp.resolve(fixture));
        try (Stream<Path> shards = Files.list(Path.of("src/test/resources/torch").resolve(fixture))) {
            for (Path shard : shards.toList()) Files.copy(shard, model.resolve(shard.getFileName().toString()));
        }
        return model;
    }

    private static List<String> listing(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
