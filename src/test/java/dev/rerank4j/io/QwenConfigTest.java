package dev.rerank4j.io;

import dev.rerank4j.ModelFormatException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Qwen2's and Qwen3's config.json fields with transformers 5.23's defaults (configuration_qwen2.py, _qwen3.py), and what is refused. */
class QwenConfigTest {
    private static ModelConfig read(String extra) {
        return read("qwen3", extra);
    }

    private static ModelConfig read(String modelType, String extra) {
        return ModelConfig.fromJson(Json.parseObject("{\"model_type\": \"" + modelType + "\"," + """
                 "architectures": ["Qwen3ForCausalLM"], "hidden_size": 128, "num_attention_heads": 64,
                 "num_hidden_layers": 30, "intermediate_size": 96, "vocab_size": 905, "max_position_embeddings": 1024""" + extra + "}"),
                "config.json");
    }

    @Test
    void headDimAndKeyValueHeadsDefaultAsTransformersDoes() {
        ModelConfig absent = read("");
        assertEquals(128, absent.qwen().headDim(), "head_dim absent: 128, not hidden / heads");
        assertEquals(128, absent.headDim());
        assertEquals(32, absent.qwen().keyValueHeads(), "num_key_value_heads absent: 32");
        assertEquals(64, read(", \"num_key_value_heads\": null").qwen().keyValueHeads(), "null: as many as the query heads");
        assertEquals(1e-6f, absent.layerNormEps());
        assertEquals(10_000.0, absent.qwen().ropeTheta());
        assertEquals(false, absent.qwen().tiedEmbeddings(), "tie_word_embeddings absent: false");
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

    /**
     * Qwen2: head_dim hidden_size / heads unless given, biases whatever attention_bias says (Qwen2's modeling code gives Q,
     * K and V biases always), and the same window and RoPE rules as Qwen3.
     */
    @Test
    void qwen2HeadsAreHiddenOverHeadsUnlessGiven() {
        ModelConfig qwen2 = read("qwen2", "");
        assertEquals(QwenConfig.Generation.QWEN2, qwen2.qwen().generation());
        assertEquals("qwen2", qwen2.modelType());
        assertEquals(2, qwen2.qwen().headDim(), "128 / 64");
        assertEquals(64, read("qwen2", ", \"head_dim\": 64").qwen().headDim());
        assertEquals(QwenConfig.Generation.QWEN2, read("qwen2", ", \"attention_bias\": true").qwen().generation());
        ModelFormatException window = assertThrows(ModelFormatException.class, () -> read("qwen2", ", \"use_sliding_window\": true"));
        assertTrue(window.getMessage().contains("max_window_layers 28 below num_hidden_layers 30"), window.getMessage());
        ModelFormatException uneven = assertThrows(ModelFormatException.class, () -> ModelConfig.fromJson(Json.parseObject("""
                {"model_type": "qwen2", "hidden_size": 100, "num_attention_heads": 8, "num_key_value_heads": 4, "num_hidden_layers": 2,
                 "intermediate_size": 96, "vocab_size": 905, "max_position_embeddings": 1024}"""), "config.json"));
        assertTrue(uneven.getMessage().contains("hidden_size 100 is not a multiple of num_attention_heads 8"), uneven.getMessage());
    }
}
