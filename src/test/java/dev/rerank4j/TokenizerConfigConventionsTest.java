package dev.rerank4j;

import dev.rerank4j.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What tokenizer_config.json says about the model's inputs, taken as transformers' tokenizer takes it. */
class TokenizerConfigConventionsTest {
    /** The fp32 bar. */
    private static final double TOLERANCE = 1e-4;

    @TempDir
    Path tmp;

    /**
     * model_input_names without token_type_ids: transformers' tokenizer returns none and the model takes zeros
     * (golden/bert-tiny-ce-no-types.json, tools/make_golden.py --only-bert-no-types); the pair's types were added.
     */
    @Test
    void modelInputNamesWithoutTokenTypesScoreAsTransformersWithZeroTypes() throws IOException {
        Path model = bertWithTokenizerConfig(c -> c.put("model_input_names", List.of("input_ids", "attention_mask")));
        Map<String, Object> golden = Golden.json("bert-tiny-ce-no-types.json");
        try (Reranker r = Reranker.load(model, Golden.options().withScoreFunction(Options.ScoreFunction.RAW))) {
            assertTrue(r.description().get("tokenizer").endsWith("; no token types (tokenizer_config.json's model_input_names)"),
                    r.description().get("tokenizer"));
            for (Map<String, Object> p : Golden.list(golden, "pairs")) {
                float score = r.score((String) p.get("query"), List.of((String) p.get("passage")))[0];
                assertEquals(((Number) p.get("logit")).doubleValue(), score, TOLERANCE, () -> "pair " + p.get("id"));
            }
        }
    }

    /** Cutting texts from the left is refused by name rather than done from the right. */
    @Test
    void aLeftTruncationSideIsRefusedByName() throws IOException {
        Path model = bertWithTokenizerConfig(c -> c.put("truncation_side", "left"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Reranker.load(model, Golden.options()));
        assertTrue(e.getMessage().equals(model.resolve("tokenizer_config.json") + ": truncation_side \"left\" is not supported"
                + " (rerank4j cuts texts at their end, as \"right\", transformers' default, does)"), e.getMessage());
    }

    private Path bertWithTokenizerConfig(java.util.function.Consumer<Map<String, Object>> edit) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("model"));
        try (var files = Files.list(Golden.path("bert-tiny-ce"))) {
            for (Path f : files.toList()) Files.copy(f, dir.resolve(f.getFileName()));
        }
        Map<String, Object> config = Json.parseObject(Files.readString(dir.resolve("tokenizer_config.json")));
        edit.accept(config);
        Files.writeString(dir.resolve("tokenizer_config.json"), Json.write(config));
        return dir;
    }
}
