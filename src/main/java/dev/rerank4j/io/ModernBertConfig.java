package dev.rerank4j.io;

import dev.rerank4j.ModelFormatException;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The fields of a ModernBERT config.json beyond {@link ModelConfig}'s, in both forms they are published in:
 * transformers 4's ({@code global_attn_every_n_layers}, {@code global_rope_theta}, {@code local_rope_theta}; the hub's
 * checkpoints) and transformers 5's ({@code layer_types}, {@code rope_parameters} per layer type), with
 * transformers' defaults for what is absent (configuration_modernbert.py).
 *
 * @param slidingLayers     per layer, whether it attends within a local window ("sliding_attention") or to every token
 * @param window            how far a token sees in a sliding layer: local_attention / 2 either side, |i − j| ≤ window
 * @param globalRopeTheta   RoPE base θ of the full-attention layers
 * @param localRopeTheta    RoPE base θ of the sliding layers
 * @param normBias          whether the LayerNorms have a bias
 * @param attentionBias     whether Wqkv and Wo have biases
 * @param mlpBias           whether Wi and the feed-forward's Wo have biases
 * @param classifierBias    whether the classification head's dense layer has a bias
 * @param meanPooling       whether the classifier reads the mean of the last hidden states ("mean") rather than the first
 *                          token's ("cls")
 */
public record ModernBertConfig(List<Boolean> slidingLayers, int window, double globalRopeTheta, double localRopeTheta,
                               boolean normBias, boolean attentionBias, boolean mlpBias, boolean classifierBias, boolean meanPooling) {
    private static final String FULL = "full_attention", SLIDING = "sliding_attention";

    public ModernBertConfig {
        slidingLayers = List.copyOf(slidingLayers);
    }

    static ModernBertConfig fromJson(ModelConfig.Fields f, int layers) {
        Map<String, Object> json = f.json();
        String source = f.source();
        f.requireGelu("hidden_activation", "classifier_activation");
        if (json.get("rope_scaling") != null) {
            throw new ModelFormatException(source + ": rope_scaling " + Json.write(json.get("rope_scaling"))
                    + " is not supported (rerank4j implements ModernBERT's default RoPE)");
        }
        Object pooling = json.getOrDefault("classifier_pooling", "cls");
        if (!"cls".equals(pooling) && !"mean".equals(pooling)) {
            throw new ModelFormatException(source + ": classifier_pooling " + Json.write(pooling) + " is not one of \"cls\", \"mean\"");
        }
        int localAttention = localAttention(f, source);
        return new ModernBertConfig(
                slidingLayers(f, layers),
                localAttention / 2,
                theta(json, FULL, "global_rope_theta", 160_000.0, source),
                theta(json, SLIDING, "local_rope_theta", 10_000.0, source),
                f.bool("norm_bias"),
                f.bool("attention_bias"),
                f.bool("mlp_bias"),
                f.bool("classifier_bias"),
                "mean".equals(pooling));
    }

    /**
     * The whole local window, local_attention (default 128); transformers 5 also takes it as sliding_window, the half
     * window, whose setter sets local_attention to twice it. Both, disagreeing, are refused: which wins depends on the
     * order transformers applies them in.
     */
    private static int localAttention(ModelConfig.Fields f, String source) {
        if (f.json().get("sliding_window") == null) return f.positiveInt("local_attention", 128);
        long fromHalf = 2L * f.positiveInt("sliding_window");
        if (f.json().get("local_attention") != null && f.positiveInt("local_attention") != fromHalf) {
            throw new ModelFormatException(source + ": local_attention " + f.positiveInt("local_attention") + " and sliding_window "
                    + f.positiveInt("sliding_window") + " (half a window) disagree");
        }
        if (fromHalf > Integer.MAX_VALUE) throw new ModelFormatException(source + ": sliding_window " + f.positiveInt("sliding_window") + " is too large");
        return (int) fromHalf;
    }

    /** layer_types where given; else every global_attn_every_n_layers-th layer, from the first, attends to all tokens. */
    private static List<Boolean> slidingLayers(ModelConfig.Fields f, int layers) {
        Map<String, Object> json = f.json();
        String source = f.source();
        List<Boolean> sliding = new ArrayList<>();
        Object types = json.get("layer_types");
        if (types != null) {
            if (!(types instanceof List<?> list) || list.size() != layers) {
                throw new ModelFormatException(source + ": layer_types must be an array of " + layers + " layer types (num_hidden_layers), found "
                        + Json.write(types));
            }
            for (Object type : list) {
                if (!FULL.equals(type) && !SLIDING.equals(type)) {
                    throw new ModelFormatException(source + ": layer type " + Json.write(type) + " is not one of \"" + FULL + "\", \"" + SLIDING + "\"");
                }
                sliding.add(SLIDING.equals(type));
            }
            return sliding;
        }
        int every = f.positiveInt("global_attn_every_n_layers", 3);
        for (int i = 0; i < layers; i++) sliding.add(i % every != 0);
        return sliding;
    }

    /** rope_parameters[type].rope_theta (transformers 5), else the legacy key (transformers 4), else the default. */
    private static double theta(Map<String, Object> json, String type, String legacyKey, double fallback, String source) {
        Object parameters = json.get("rope_parameters");
        if (parameters != null) {
            if (!(parameters instanceof Map<?, ?> byType) || !(byType.get(type) instanceof Map<?, ?> p)) {
                throw new ModelFormatException(source + ": rope_parameters must hold an object for \"" + type + "\", found "
                        + Json.write(parameters));
            }
            Object ropeType = p.get("rope_type");
            if (ropeType != null && !"default".equals(ropeType)) {
                throw new ModelFormatException(source + ": rope_type " + Json.write(ropeType) + " of " + type
                        + " is not supported (rerank4j implements \"default\" RoPE)");
            }
            if (p.get("rope_theta") != null) return requireTheta(p.get("rope_theta"), "rope_parameters." + type + ".rope_theta", source);
        }
        Object legacy = json.get(legacyKey);
        return legacy == null ? fallback : requireTheta(legacy, legacyKey, source);
    }

    private static double requireTheta(Object v, String key, String source) {
        if (!(v instanceof Number n) || !(n.doubleValue() > 1) || Double.isInfinite(n.doubleValue())) {
            throw new ModelFormatException(source + ": " + key + " must be a finite number > 1, found " + Json.write(v));
        }
        return n.doubleValue();
    }
}
