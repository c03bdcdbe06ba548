package dev.rerank4j.io;

import dev.rerank4j.ModelFormatException;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The fields of a Hugging Face config.json that shape a BERT-family encoder.
 *
 * @param modelType             "bert", "xlm-roberta", ...
 * @param architectures         e.g. ["BertForSequenceClassification"]; empty when absent
 * @param typeVocabSize         rows of the token-type table; 0 where the model has none (DistilBERT)
 * @param embeddingSize         width of the embedding tables: ELECTRA's embedding_size, else hidden_size; where the two
 *                              differ, a linear layer (embeddings_project) widens the embeddings to hidden_size
 * @param numLabels             classifier outputs (from num_labels or id2label), 2 when neither is given (transformers'
 *                              default, which transformers 5 leaves out of the config.json it writes)
 * @param ceActivation          the sentence-transformers cross-encoder activation named in the config
 *                              (a class name such as "torch.nn.modules.linear.Identity"), or null
 * @param modernBert            ModernBERT's own fields where model_type is "modernbert", else null
 * @param deberta               DeBERTa's relative attention where model_type is "deberta-v2", else null
 * @param qwen                  the Qwen decoder's own fields where model_type is "qwen2" or "qwen3", else null;
 *                              layerNormEps is then its RMSNorm's rms_norm_eps
 */
public record ModelConfig(
        String modelType,
        List<String> architectures,
        int embeddingSize,
        int hiddenSize,
        int numLayers,
        int numHeads,
        int intermediateSize,
        int vocabSize,
        int maxPositionEmbeddings,
        int typeVocabSize,
        float layerNormEps,
        String hiddenAct,
        int padTokenId,
        int numLabels,
        String ceActivation,
        ModernBertConfig modernBert,
        DebertaConfig deberta,
        QwenConfig qwen) {

    public ModelConfig {
        architectures = List.copyOf(architectures);
    }

    /** Dims of an attention head: hidden_size / num_attention_heads, except where a Qwen's head_dim says otherwise. */
    public int headDim() {
        return qwen != null ? qwen.headDim() : hiddenSize / numHeads;
    }

    /** True for RoBERTa-family encoders ("roberta", "xlm-roberta"), whose positions skip the padding slots. */
    public boolean isRoberta() {
        return isRoberta(modelType);
    }

    /** True where the embeddings are narrower or wider than the encoder and pass through embeddings_project first. */
    public boolean projectsEmbeddings() {
        return embeddingSize != hiddenSize;
    }

    private static boolean isRoberta(String modelType) {
        return modelType.equals("roberta") || modelType.equals("xlm-roberta");
    }

    /**
     * Row of the position table that the first token of a sequence reads: 0 for BERT; pad_token_id + 1
     * for RoBERTa and XLM-R, whose position ids are {@code cumsum(mask) * mask + padding_idx}
     * (transformers create_position_ids_from_input_ids; rows 0..pad_token_id are reserved for padding).
     * Token p of an unpadded sequence reads row {@code positionOffset() + p}.
     */
    public int positionOffset() {
        return isRoberta() ? padTokenId + 1 : 0;
    }

    /** The longest input the position table can hold: max_position_embeddings − positionOffset() (514 → 512 for XLM-R). */
    public int maxInputLength() {
        return maxPositionEmbeddings - positionOffset();
    }

    /**
     * The model_type values whose computation rerank4j implements. Another one (camembert, mpnet, a misspelling) was read
     * as BERT's, where transformers builds that type's own classes (camembert: RoBERTa's positions) or refuses a type it
     * does not know; a bi-encoder's modules.json names no architecture to catch it.
     */
    private static final List<String> MODEL_TYPES = List.of("bert", "roberta", "xlm-roberta", "electra", "distilbert", "deberta-v2",
            "modernbert", "qwen2", "qwen3");

    public static ModelConfig read(Path file) {
        return fromJson(Json.parseObjectFile(file), file.toString());
    }

    static ModelConfig fromJson(Map<String, Object> json, String source) {
        Fields f = new Fields(json, source);
        String modelType = f.string("model_type", "bert");
        if (!MODEL_TYPES.contains(modelType)) {
            throw new ModelFormatException(source + ": model_type '" + modelType + "' is not one rerank4j runs (supported: "
                    + String.join(", ", MODEL_TYPES) + ")");
        }
        if (modelType.equals("distilbert")) return distilBert(f, source);
        if (modelType.equals("qwen2")) return qwen(f, QwenConfig.Generation.QWEN2);
        if (modelType.equals("qwen3")) return qwen(f, QwenConfig.Generation.QWEN3);
        int hidden = f.positiveInt("hidden_size");
        int heads = f.positiveInt("num_attention_heads");
        if (hidden % heads != 0) {
            throw new ModelFormatException(source + ": hidden_size " + hidden + " is not a multiple of num_attention_heads " + heads);
        }
        boolean modernBert = modelType.equals("modernbert");
        String act = f.string("hidden_act", "gelu"); // ModernBERT's hidden_activation is checked by ModernBertConfig
        if (!act.equals("gelu")) {
            throw new ModelFormatException(source + ": hidden_act '" + act + "' is not supported (rerank4j implements \"gelu\", the erf form)");
        }
        int maxPositions = f.positiveInt("max_position_embeddings");
        boolean roberta = isRoberta(modelType);
        if ((modelType.equals("bert") || roberta || modelType.equals("electra")) && f.bool("is_decoder")) {
            // transformers then masks attention causally, each token seeing only those before it; rerank4j's encoders attend both ways
            throw new ModelFormatException(source + ": is_decoder true (causal attention in transformers' " + modelType
                    + ") is not supported: rerank4j runs encoders, each token attending to every other");
        }
        // transformers' defaults when the field is absent: BertConfig 0, RobertaConfig and XLMRobertaConfig 1
        int padTokenId = json.get("pad_token_id") != null ? f.nonNegativeInt("pad_token_id") : roberta ? 1 : 0;
        if (roberta && maxPositions <= padTokenId + 1L) {
            throw new ModelFormatException(source + ": max_position_embeddings " + maxPositions + " leaves no position for a token: "
                    + modelType + " positions start at pad_token_id + 1 = " + (padTokenId + 1L));
        }
        int numLabels = numLabels(f);
        // Only ElectraConfig reads the field, and its default is 128 (transformers' configuration_electra.py); the
        // other configs keep it as an unused attribute.
        int embeddingSize = !modelType.equals("electra") ? hidden : json.get("embedding_size") != null ? f.positiveInt("embedding_size") : 128;
        return new ModelConfig(
                modelType,
                f.stringList("architectures"),
                embeddingSize,
                hidden,
                f.positiveInt("num_hidden_layers"),
                heads,
                f.positiveInt("intermediate_size"),
                f.positiveInt("vocab_size"),
                maxPositions,
                // absent: the config class's default, 2 (BERT, RoBERTa, XLM-R, ELECTRA), 0 for DeBERTa-v2; ModernBERT has no table
                json.containsKey("type_vocab_size") ? f.nonNegativeInt("type_vocab_size") : modelType.equals("deberta-v2") ? 0 : modernBert ? 1 : 2,
                layerNormEps(f, modernBert ? "norm_eps" : "layer_norm_eps", modernBert ? 1e-5 : modelType.equals("deberta-v2") ? 1e-7 : 1e-12),
                act,
                padTokenId,
                numLabels,
                crossEncoderActivation(json),
                modernBert ? ModernBertConfig.fromJson(f, f.positiveInt("num_hidden_layers")) : null,
                modelType.equals("deberta-v2") ? DebertaConfig.fromJson(f, hidden, heads, maxPositions) : null,
                null);
    }

    /**
     * A Qwen2 or Qwen3 decoder: no token types or position table (RoPE; max_position_embeddings bounds the input), RMSNorm's
     * rms_norm_eps (default 1e-6), and {@link QwenConfig} for the rest. hidden_size need not be num_attention_heads ×
     * head_dim.
     */
    private static ModelConfig qwen(Fields f, QwenConfig.Generation generation) {
        int hidden = f.positiveInt("hidden_size"), heads = f.positiveInt("num_attention_heads"), layers = f.positiveInt("num_hidden_layers");
        QwenConfig qwen = QwenConfig.fromJson(f, generation, hidden, heads, layers);
        Map<String, Object> json = f.json();
        return new ModelConfig(generation == QwenConfig.Generation.QWEN2 ? "qwen2" : "qwen3", f.stringList("architectures"), hidden,
                hidden, layers, heads, f.positiveInt("intermediate_size"), f.positiveInt("vocab_size"), f.positiveInt("max_position_embeddings"),
                0, layerNormEps(f, "rms_norm_eps", 1e-6), "silu",
                json.get("pad_token_id") != null ? f.nonNegativeInt("pad_token_id") : 0, numLabels(f), crossEncoderActivation(json),
                null, null, qwen);
    }

    /**
     * DistilBertConfig's own names (dim, hidden_dim, n_layers, n_heads, activation; transformers maps hidden_size and
     * the others onto them), its fixed LayerNorm eps of 1e-12 (modeling_distilbert.py), and no token types.
     */
    private static ModelConfig distilBert(Fields f, String source) {
        int hidden = f.positiveInt("dim");
        int heads = f.positiveInt("n_heads");
        if (hidden % heads != 0) {
            throw new ModelFormatException(source + ": dim " + hidden + " is not a multiple of n_heads " + heads);
        }
        String act = f.string("activation", "gelu");
        if (!act.equals("gelu")) {
            throw new ModelFormatException(source + ": activation '" + act + "' is not supported (rerank4j implements \"gelu\", the erf form)");
        }
        Map<String, Object> json = f.json();
        return new ModelConfig("distilbert", f.stringList("architectures"), hidden, hidden, f.positiveInt("n_layers"), heads,
                f.positiveInt("hidden_dim"), f.positiveInt("vocab_size"), f.positiveInt("max_position_embeddings"), 0, 1e-12f, act,
                json.get("pad_token_id") != null ? f.nonNegativeInt("pad_token_id") : 0, numLabels(f), crossEncoderActivation(json), null, null,
                null);
    }

    /** num_labels, else the size of id2label, else PretrainedConfig's default of 2. */
    private static int numLabels(Fields f) {
        return f.json().containsKey("num_labels") ? f.positiveInt("num_labels")
                : f.json().get("id2label") instanceof Map<?, ?> labels ? labels.size() : 2;
    }

    private static float layerNormEps(Fields f, String key, double fallback) {
        double eps = f.number(key, fallback);
        if (!(eps >= 0) || !Float.isFinite((float) eps)) {
            throw new ModelFormatException(f.source() + ": field '" + key + "' must be a non-negative float, found " + eps);
        }
        return (float) eps;
    }

    /** sentence-transformers ≥ 4 writes {"sentence_transformers": {"activation_fn": ...}}; older versions a flat key. */
    private static String crossEncoderActivation(Map<String, Object> json) {
        if (json.get("sentence_transformers") instanceof Map<?, ?> st && st.get("activation_fn") instanceof String fn) {
            return fn;
        }
        return json.get("sbert_ce_default_activation_function") instanceof String fn ? fn : null;
    }

    /** Typed reads of config fields with errors that name the file and the field. */
    record Fields(Map<String, Object> json, String source) {
        /** An optional positive integer, {@code fallback} where absent or null. */
        int positiveInt(String key, int fallback) {
            Object v = json.get(key);
            if (v == null) return fallback;
            if (!(v instanceof Long l) || l < 1 || l > Integer.MAX_VALUE) {
                throw new ModelFormatException(source + ": field '" + key + "' must be a positive integer, found " + Json.write(v));
            }
            return l.intValue();
        }

        /** An optional integer of any sign, {@code fallback} where absent or null. */
        int integer(String key, int fallback) {
            Object v = json.get(key);
            if (v == null) return fallback;
            if (!(v instanceof Long l) || l < Integer.MIN_VALUE || l > Integer.MAX_VALUE) {
                throw new ModelFormatException(source + ": field '" + key + "' must be an integer, found " + Json.write(v));
            }
            return l.intValue();
        }

        /** Each of {@code keys}, where present, must name "gelu" (an explicit null too is refused). */
        void requireGelu(String... keys) {
            for (String key : keys) {
                Object act = json.getOrDefault(key, "gelu");
                if (!"gelu".equals(act)) {
                    throw new ModelFormatException(source + ": " + key + " " + Json.write(act)
                            + " is not supported (rerank4j implements \"gelu\", the erf form)");
                }
            }
        }

        /** An optional boolean, false where absent or null. */
        boolean bool(String key) {
            Object v = json.get(key);
            if (v == null) return false;
            if (!(v instanceof Boolean b)) throw new ModelFormatException(source + ": field '" + key + "' must be true or false, found " + Json.write(v));
            return b;
        }

        Object required(String key) {
            if (!json.containsKey(key)) {
                throw new ModelFormatException(source + ": missing field '" + key + "'");
            }
            return json.get(key);
        }

        int positiveInt(String key) {
            int v = nonNegativeInt(key);
            if (v == 0) {
                throw new ModelFormatException(source + ": field '" + key + "' must be positive, found 0");
            }
            return v;
        }

        int nonNegativeInt(String key) {
            Object v = required(key);
            if (!(v instanceof Long l) || l < 0 || l > Integer.MAX_VALUE) {
                throw new ModelFormatException(source + ": field '" + key + "' must be a non-negative integer, found " + v);
            }
            return l.intValue();
        }

        double number(String key, double fallback) {
            Object v = json.get(key);
            if (v == null) return fallback;
            if (!(v instanceof Number n)) {
                throw new ModelFormatException(source + ": field '" + key + "' must be a number, found " + Json.typeName(v));
            }
            return n.doubleValue();
        }

        String string(String key, String fallback) {
            Object v = json.get(key);
            if (v == null) return fallback;
            if (!(v instanceof String s)) {
                throw new ModelFormatException(source + ": field '" + key + "' must be a string, found " + Json.typeName(v));
            }
            return s;
        }

        List<String> stringList(String key) {
            Object v = json.get(key);
            if (v == null) return List.of();
            if (!(v instanceof List<?> list) || !list.stream().allMatch(String.class::isInstance)) {
                throw new ModelFormatException(source + ": field '" + key + "' must be an array of strings");
            }
            return list.stream().map(String.class::cast).toList();
        }
    }
}
