package dev.rerank4j.io;

import dev.rerank4j.ModelFormatException;

import java.util.List;
import java.util.Map;

/**
 * The fields of a Qwen2 or Qwen3 config.json beyond {@link ModelConfig}'s, in both forms they are published in:
 * transformers 4's ({@code rope_theta}, {@code rope_scaling}; the hub's checkpoints) and transformers 5's
 * ({@code rope_parameters}, {@code layer_types}), with transformers' defaults for what is absent (configuration_qwen2.py,
 * configuration_qwen3.py). What rerank4j does not implement is refused by name: sliding-window layers, RoPE scaling, an
 * activation other than SiLU, and Qwen3 attention biases.
 *
 * @param generation      Qwen2 (biases on Q, K and V) or Qwen3 (no biases; every head of Q and K RMS-normed)
 * @param keyValueHeads   heads of K and V (grouped-query attention): each serves numHeads / keyValueHeads query heads
 * @param headDim         dims of a head: Qwen3's head_dim (default 128, as transformers'), which need not be hidden_size /
 *                        num_attention_heads; Qwen2's head_dim where config.json gives one, else that quotient
 * @param ropeTheta       RoPE base θ
 * @param tiedEmbeddings  whether the language-model head is the token embedding table (tie_word_embeddings)
 */
public record QwenConfig(Generation generation, int keyValueHeads, int headDim, double ropeTheta, boolean tiedEmbeddings) {
    /** Which decoder: model_type "qwen2" or "qwen3". */
    public enum Generation {
        /** Qwen2ForCausalLM (mixedbread-ai/mxbai-rerank-*-v2): Q, K and V projections with biases. */
        QWEN2,
        /** Qwen3ForCausalLM (Qwen/Qwen3-Reranker-*): no biases, Q and K RMS-normed per head before RoPE. */
        QWEN3
    }

    /** Dims a head may have: Qwen2's and Qwen3's are 64–128; far more is a damaged or hostile file (head_dim 2²⁰ took 1.2 GB at load). */
    static final int MAX_HEAD_DIM = 1024;

    static QwenConfig fromJson(ModelConfig.Fields f, Generation generation, int hidden, int heads, int layers) {
        Map<String, Object> json = f.json();
        String source = f.source();
        String act = f.string("hidden_act", "silu");
        if (!act.equals("silu")) {
            throw new ModelFormatException(source + ": hidden_act '" + act + "' is not supported (rerank4j implements Qwen's \"silu\")");
        }
        // Qwen2's modeling code gives Q, K and V biases whatever attention_bias says; Qwen3's reads the field
        if (generation == Generation.QWEN3 && f.bool("attention_bias")) {
            throw new ModelFormatException(source + ": attention_bias true is not supported (Qwen3's projections have no biases)");
        }
        requireFullAttention(f, layers);
        // transformers' defaults: 32 key/value heads where the field is absent, as many as the query heads where it is null
        int keyValueHeads = json.containsKey("num_key_value_heads") && json.get("num_key_value_heads") == null ? heads
                : f.positiveInt("num_key_value_heads", 32);
        if (heads % keyValueHeads != 0) {
            throw new ModelFormatException(source + ": num_attention_heads " + heads + " is not a multiple of num_key_value_heads "
                    + keyValueHeads);
        }
        int headDim;
        if (generation == Generation.QWEN3 || json.get("head_dim") != null) {
            headDim = f.positiveInt("head_dim", 128);
        } else if (hidden % heads != 0) {
            throw new ModelFormatException(source + ": hidden_size " + hidden + " is not a multiple of num_attention_heads " + heads
                    + ", and there is no head_dim");
        } else {
            headDim = hidden / heads;
        }
        if (headDim % 2 != 0 || headDim > MAX_HEAD_DIM) {
            throw new ModelFormatException(source + ": head_dim " + headDim + (headDim % 2 != 0 ? " is odd, and RoPE rotates pairs of dims"
                    : " is beyond " + MAX_HEAD_DIM + ", far past any Qwen's 128"));
        }
        Object tie = json.get("tie_word_embeddings");
        if (tie != null && !(tie instanceof Boolean)) {
            throw new ModelFormatException(source + ": field 'tie_word_embeddings' must be true or false, found " + Json.write(tie));
        }
        return new QwenConfig(generation, keyValueHeads, headDim, ropeTheta(json, source), Boolean.TRUE.equals(tie));
    }

    /**
     * Every layer must attend to all earlier tokens: layer_types where given, else transformers' rule, a sliding window in
     * the layers from max_window_layers (default 28) on where use_sliding_window (and sliding_window, default 4,096) say so.
     */
    private static void requireFullAttention(ModelConfig.Fields f, int layers) {
        Map<String, Object> json = f.json();
        Object types = json.get("layer_types");
        if (types != null) {
            if (!(types instanceof List<?> list) || list.size() != layers || !list.stream().allMatch("full_attention"::equals)) {
                throw new ModelFormatException(f.source() + ": layer_types must be " + layers + " times \"full_attention\" (rerank4j "
                        + "implements full causal attention), found " + Json.write(types));
            }
            return;
        }
        boolean windowed = f.bool("use_sliding_window") && (!json.containsKey("sliding_window") || json.get("sliding_window") != null);
        if (windowed && f.integer("max_window_layers", 28) < layers) {
            throw new ModelFormatException(f.source() + ": use_sliding_window true with max_window_layers " + f.integer("max_window_layers", 28)
                    + " below num_hidden_layers " + layers + " gives layers a sliding window, which is not supported (rerank4j implements "
                    + "full causal attention)");
        }
    }

    /** rope_parameters.rope_theta (transformers 5), else rope_theta (transformers 4), else 10,000; only default RoPE. */
    private static double ropeTheta(Map<String, Object> json, String source) {
        Object scaling = json.get("rope_scaling");
        if (scaling != null && !(scaling instanceof Map<?, ?> m && m.size() == 1
                && "default".equals(m.containsKey("rope_type") ? m.get("rope_type") : m.get("type")))) {
            throw new ModelFormatException(source + ": rope_scaling " + Json.write(scaling)
                    + " is not supported (rerank4j implements Qwen's default RoPE)");
        }
        Object parameters = json.get("rope_parameters");
        Object theta = json.get("rope_theta");
        String key = "rope_theta";
        if (parameters != null) {
            if (!(parameters instanceof Map<?, ?> p)) {
                throw new ModelFormatException(source + ": rope_parameters must be an object, found " + Json.write(parameters));
            }
            Object ropeType = p.get("rope_type");
            if (ropeType != null && !"default".equals(ropeType)) {
                throw new ModelFormatException(source + ": rope_type " + Json.write(ropeType)
                        + " is not supported (rerank4j implements \"default\" RoPE)");
            }
            if (p.get("rope_theta") != null) {
                theta = p.get("rope_theta");
                key = "rope_parameters.rope_theta";
            }
        }
        if (theta == null) return 10_000.0;
        if (!(theta instanceof Number n) || !(n.doubleValue() > 1) || Double.isInfinite(n.doubleValue())) {
            throw new ModelFormatException(source + ": " + key + " must be a finite number > 1, found " + Json.write(theta));
        }
        return n.doubleValue();
    }
}
