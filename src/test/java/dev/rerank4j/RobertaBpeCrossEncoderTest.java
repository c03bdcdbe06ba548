package dev.rerank4j;

import dev.rerank4j.tokenize.PairTruncation;
import dev.rerank4j.tokenize.Tokenizer;
import dev.rerank4j.tokenize.TokenizerJson;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * An English RoBERTa cross-encoder (cross-encoder/stsb-roberta-base's kind: byte-level BPE, RobertaForSequenceClassification)
 * as sentence-transformers saves it (golden/roberta-tiny-st, tools/make_bpe_fixture.py): text → ids → score as its
 * CrossEncoder.predict gives them.
 */
class RobertaBpeCrossEncoderTest {
    /** The fp32 bar. */
    private static final double TOLERANCE = 1e-4;

    @TempDir
    Path dir;

    @Test
    void textScoresAsCrossEncoderPredict() throws IOException {
        try (var files = Files.list(Golden.path("roberta-tiny-st"))) {
            for (Path f : files.toList()) Files.copy(f, dir.resolve(f.getFileName()));
        }
        Files.copy(Golden.path("xlmr-tiny-ce/model.safetensors"), dir.resolve("model.safetensors"));
        Files.copy(Golden.path("roberta-bpe-tokenizer/tokenizer.json"), dir.resolve("tokenizer.json"));
        Tokenizer tokenizer = TokenizerJson.load(dir.resolve("tokenizer.json"));
        for (Map<String, Object> p : Golden.list(Golden.json("roberta-tiny-st.json"), "pairs")) {
            int maxLength = ((Number) p.get("max_length")).intValue();
            String query = (String) p.get("query"), doc = (String) p.get("doc");
            assertArrayEquals(Golden.ints(p.get("input_ids")), tokenizer.encodePair(query, doc, maxLength, PairTruncation.LONGEST_FIRST).ids(),
                    () -> "ids of " + p.get("id"));
            try (Reranker byDefault = Reranker.load(dir, Golden.options().withMaxLength(maxLength));
                 Reranker raw = Reranker.load(dir, Golden.options().withMaxLength(maxLength).withScoreFunction(Options.ScoreFunction.RAW))) {
                assertEquals("longest first (sentence-transformers' CrossEncoder)", byDefault.description().get("pairs cut"));
                assertEquals(((Number) p.get("score")).doubleValue(), byDefault.score(query, List.of(doc))[0], TOLERANCE, () -> "score of " + p.get("id"));
                assertEquals(((Number) p.get("logit")).doubleValue(), raw.score(query, List.of(doc))[0], TOLERANCE, () -> "logit of " + p.get("id"));
            }
        }
    }
}
