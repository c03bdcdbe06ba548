package dev.rerank4j.io;

import dev.rerank4j.ModelFormatException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Qwen3's config.json fields with transformers 5.23's defaults (configuration_qwen3.py), and what is refused. */
class Qwen3ConfigTest {
    private static ModelConfig read(String extra) {
        return ModelConfig.fromJson(Json.parseObject("""
                {"model_type": "qwen3", "architectures": ["Qwen3ForCausalLM"], "hidden_size": 128, "num_attention_heads": 64,
                 "num_hidden_layers": 30, "intermediate_size": 96, "vocab_size": 905, "max_position_embeddings": 1024""" + extra + "}"),
                "config.json");
    }

    @Test
    void headDimAndKeyValueHeadsDefaultAsTransformersDoes() {
        ModelConfig absent = read("");
        assertEquals(128, absent.qwen3().headDim(), "head_dim absent: 128, not hidden / heads");
        assertEquals(128, absent.headDim());
        assertEquals(32, absent.qwen3().keyValueHeads(), "num_key_value_heads absent: 32");
        assertEquals(64, read(", \"num_key_value_heads\": null").qwen3().keyValueHeads(), "null: as many as the query heads");
        assertEquals(1e-6f, absent.layerNormEps());
        assertEquals(10_000.0, absent.qwen3().ropeTheta());
        assertEquals(false, absent.qwen3().tiedEmbeddings(), "tie_word_embeddings absent: false");
    }

    @Test
    void slidingWindowsOnlyWhereTransformersWouldUseThem() {
        read(", \"use_sliding_window\": true, \"max_window_layers\": 30");
        read(", \"use_sliding_window\": true, \"sliding_window\": null, \"max_window_layers\": 2");
        read(", \"rope_scaling\": {\"rope_type\": \"default\"}");
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> read(", \"use_sliding_window\": true"));
        assertTrue(e.getMessage().contains("max_window_layers 28 below num_hidden_layers 30"), e.getMessage());
    }

    @Test
    void aHostileHeadDimIsRefused() {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> read(", \"head_dim\": 1048576"));
        assertTrue(e.getMessage().contains("head_dim 1048576 is beyond 1024"), e.getMessage());
    }
}
