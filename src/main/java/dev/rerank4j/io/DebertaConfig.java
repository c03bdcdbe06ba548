package dev.rerank4j.io;

import dev.rerank4j.ModelFormatException;

import java.util.List;
import java.util.Map;

/**
 * The fields of a DeBERTa-v2/v3 config.json that shape its disentangled attention, with transformers' defaults
 * (configuration_deberta_v2.py, modeling_deberta_v2.py). rerank4j runs the layout of DeBERTa-v3 and the rerankers built
 * on it (mxbai-rerank-*-v1): relative attention with content-to-position and position-to-content terms, the position
 * keys and queries made by the content projections (share_att_key), no convolution layer. Others are refused by name.
 *
 * @param bucketSize        position_buckets: distances past half of it fall in log-spaced buckets (0: no buckets)
 * @param maxRelative       max_relative_positions, or max_position_embeddings where it is below 1
 * @param span              relative embeddings read either side: position_buckets where set, else maxRelative
 * @param contentToPosition whether pos_att_type holds "c2p"
 * @param positionToContent whether pos_att_type holds "p2c"
 * @param normRelative      whether the relative embeddings pass the encoder's LayerNorm (norm_rel_ebd "layer_norm")
 * @param absolutePositions whether the embeddings add an absolute position table (position_biased_input)
 */
public record DebertaConfig(int bucketSize, int maxRelative, int span, boolean contentToPosition, boolean positionToContent,
                            boolean normRelative, boolean absolutePositions) {

    static DebertaConfig fromJson(ModelConfig.Fields f, int hidden, int heads, int maxPositions) {
        Map<String, Object> json = f.json();
        String source = f.source();
        if (!Boolean.TRUE.equals(json.getOrDefault("relative_attention", false))) {
            throw new ModelFormatException(source + ": relative_attention false is not supported (rerank4j runs DeBERTa-v3's relative attention)");
        }
        if (!Boolean.TRUE.equals(json.getOrDefault("share_att_key", false))) {
            throw new ModelFormatException(source + ": share_att_key false is not supported (rerank4j runs DeBERTa-v3's shared position keys)");
        }
        Object conv = json.get("conv_kernel_size");
        if (conv instanceof Number n && n.intValue() > 0) {
            throw new ModelFormatException(source + ": conv_kernel_size " + conv + " is not supported (DeBERTa-v2's convolution layer)");
        }
        for (String key : new String[] {"embedding_size", "pooler_hidden_size"}) {
            if (json.get(key) instanceof Number n && n.intValue() != hidden) {
                throw new ModelFormatException(source + ": " + key + " " + n + " differs from hidden_size " + hidden + ", which rerank4j does not support");
            }
        }
        if (json.get("attention_head_size") instanceof Number n && n.intValue() * heads != hidden) {
            throw new ModelFormatException(source + ": attention_head_size " + n + " × " + heads + " heads is not hidden_size " + hidden);
        }
        f.requireGelu("hidden_act", "pooler_hidden_act");
        Object types = json.get("pos_att_type");
        List<?> posAttType = types instanceof List<?> l ? l : types instanceof String s ? List.of(s.toLowerCase(java.util.Locale.ROOT).split("\\|")) : List.of();
        for (Object t : posAttType) {
            if (!"c2p".equals(t) && !"p2c".equals(t)) throw new ModelFormatException(source + ": pos_att_type " + Json.write(types) + " holds " + Json.write(t)
                    + ", not one of \"c2p\", \"p2c\"");
        }
        int buckets = f.integer("position_buckets", -1);
        if (buckets == 1) { // half of it, 0, would divide the log buckets' distances
            throw new ModelFormatException(source + ": position_buckets 1 is not supported (at least 2, or none)");
        }
        int maxRelative = f.integer("max_relative_positions", -1);
        if (maxRelative < 1) maxRelative = maxPositions;
        int span = buckets > 0 ? buckets : maxRelative;
        Object norm = json.getOrDefault("norm_rel_ebd", "none");
        if (!(norm instanceof String normText)) throw new ModelFormatException(source + ": norm_rel_ebd must be a string, found " + Json.write(norm));
        return new DebertaConfig(Math.max(buckets, 0), maxRelative, span, posAttType.contains("c2p"), posAttType.contains("p2c"),
                normText.contains("layer_norm"), Boolean.TRUE.equals(json.getOrDefault("position_biased_input", true)));
    }

    /** Terms beside content-to-content: 1 + c2p + p2c, the factor under the square root of the score's scale. */
    public int scaleFactor() {
        return 1 + (contentToPosition ? 1 : 0) + (positionToContent ? 1 : 0);
    }

    /**
     * Row of the relative embeddings for distance i − j, as transformers' make_log_bucket_position then clamp(· + span,
     * 0, 2·span − 1): distances within half the bucket size as they are, longer ones log-spaced, all in F32 as PyTorch
     * computes them.
     */
    public int row(int distance) {
        long bucket = distance;
        if (bucketSize > 0) {
            int mid = bucketSize / 2;
            int abs = distance < mid && distance > -mid ? mid - 1 : Math.abs(distance);
            if (abs > mid) {
                float ratio = (float) abs / mid;
                // (max_position - 1) / mid is a Python float, made an F32 tensor before its log
                float logMax = (float) Math.log((float) ((double) (maxRelative - 1) / mid));
                float logPos = (float) Math.ceil((float) Math.log(ratio) / logMax * (mid - 1)) + mid;
                bucket = (long) (logPos * Integer.signum(distance));
            }
        }
        return (int) Math.clamp(bucket + span, 0, 2L * span - 1);
    }
}
