package dev.rerank4j.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rerank4j.Golden;
import dev.rerank4j.ModelFormatException;
import dev.rerank4j.Reranker;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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
            String index = fixture.endsWith("safetensors") ? ShardIndex.SAFETENSORS : ShardIndex.PYTORCH;
            assertTrue(sharded.description().get("weights").matches("F32, 0\\.1 M parameters, " + index.replace(".", "\\.")
                    + ", read through a safetensors copy of 0\\.2 MB"), sharded.description().get("weights"));
            assertTrue(whole.description().get("weights").matches("F32, 0\\.1 M parameters, model\\.safetensors 0\\.2 MB"),
                    whole.description().get("weights"));
        }
        assertEquals(before, listing(model), "loading writes nothing into the directory");
    }

    @Test
    void convertWritesOneFileFromPytorchShards() throws IOException {
        Path model = model("sharded-pytorch");
        TorchCheckpoint.convert(model);
        try (dev.rerank4j.io.SafeTensors got = dev.rerank4j.io.SafeTensors.open(model.resolve("model.safetensors"));
             dev.rerank4j.io.SafeTensors want = dev.rerank4j.io.SafeTensors.open(BERT.resolve("model.safetensors"))) {
            assertEquals(new java.util.TreeSet<>(want.names()), new java.util.TreeSet<>(got.names()));
            for (String name : want.names()) {
                assertArrayEquals(want.raw(name).orElseThrow().bytes().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                        got.raw(name).orElseThrow().bytes().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), name);
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
        assertTrue(twice.getMessage().contains("is in another shard too"), twice.getMessage());

        Files.writeString(index, "{\"metadata\": {}}");
        ModelFormatException noMap = assertThrows(ModelFormatException.class, () -> Reranker.load(model).close());
        assertTrue(noMap.getMessage().contains("no weight_map"), noMap.getMessage());
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
