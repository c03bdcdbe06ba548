package dev.rerank4j.model;

import dev.rerank4j.ModelFormatException;
import dev.rerank4j.backend.Backend;
import dev.rerank4j.io.ModelConfig;
import dev.rerank4j.io.QwenConfig;
import dev.rerank4j.io.SafeTensors;

import java.nio.file.Path;

/** A loaded scoring model; which kind is decided by the files in its directory. */
public sealed interface Model permits CrossEncoder, SentenceEncoder, ColbertEncoder, CausalReranker {
    Encoder encoder();

    /**
     * Binds the weights of {@code weights} to the model that {@code dir} describes:
     * {@code BertForSequenceClassification}, {@code XLMRobertaForSequenceClassification},
     * {@code RobertaForSequenceClassification}, {@code ElectraForSequenceClassification},
     * {@code DistilBertForSequenceClassification}, {@code DebertaV2ForSequenceClassification} or
     * {@code ModernBertForSequenceClassification} in config.json → {@link CrossEncoder};
     * a sentence-transformers modules.json with mean, first-token or (Qwen3) last-token pooling → {@link SentenceEncoder};
     * else {@code Qwen3ForCausalLM}, {@code Qwen3ForSequenceClassification} or {@code Qwen2ForCausalLM} → {@link CausalReranker};
     * checked first, a ColBERT in PyLate's or Stanford's layout → {@link ColbertEncoder}.
     */
    /** Whether {@link #load} makes a {@link CausalReranker} of {@code dir}: a Qwen decoder no sentence-transformers pipeline makes a bi-encoder. */
    static boolean isCausalReranker(Path dir, ModelConfig config) {
        return config.qwen() != null && SentenceTransformerPipeline.read(dir).isEmpty();
    }

    static Model load(Path dir, ModelConfig config, SafeTensors weights, Backend backend) {
        Weights all = new Weights(weights, "");
        if (ColbertEncoder.isColbert(dir, config)) {
            return ColbertEncoder.load(dir, all, config, backend);
        }
        if (config.architectures().contains("BertForSequenceClassification")) {
            return CrossEncoder.load(all, config, backend);
        }
        if (config.architectures().contains("XLMRobertaForSequenceClassification")
                || config.architectures().contains("RobertaForSequenceClassification")) {
            return CrossEncoder.loadRoberta(all, config, backend);
        }
        if (config.architectures().contains("ElectraForSequenceClassification")) {
            return CrossEncoder.loadElectra(all, config, backend);
        }
        if (config.architectures().contains("DebertaV2ForSequenceClassification")) {
            return CrossEncoder.loadDeberta(all, config, backend);
        }
        if (config.architectures().contains("DistilBertForSequenceClassification")) {
            return CrossEncoder.loadDistilBert(all, config, backend);
        }
        if (config.architectures().contains("ModernBertForSequenceClassification")) {
            return CrossEncoder.loadModernBert(all, config, backend);
        }
        // before the Qwen heads: Qwen3-Embedding's config.json names Qwen3ForCausalLM too, and its Pooling module decides
        java.util.Optional<SentenceTransformerPipeline.Settings> biEncoder = SentenceTransformerPipeline.read(dir);
        if (biEncoder.isPresent()) {
            return SentenceEncoder.load(all, config, backend, biEncoder.get());
        }
        if (config.architectures().contains("Qwen3ForCausalLM")) {
            return CausalReranker.loadLanguageModel(all, config, backend, QwenConfig.Generation.QWEN3);
        }
        if (config.architectures().contains("Qwen2ForCausalLM")) {
            return CausalReranker.loadLanguageModel(all, config, backend, QwenConfig.Generation.QWEN2);
        }
        if (config.architectures().contains("Qwen3ForSequenceClassification")) {
            return CausalReranker.loadClassifier(all, config, backend);
        }
        throw new ModelFormatException(dir + ": cannot tell which model this is: config.json architectures "
                + config.architectures() + " (supported: BertForSequenceClassification, XLMRobertaForSequenceClassification, RobertaForSequenceClassification, "
                + "ElectraForSequenceClassification, DistilBertForSequenceClassification, DebertaV2ForSequenceClassification, "
                + "ModernBertForSequenceClassification, Qwen3ForCausalLM, Qwen3ForSequenceClassification, Qwen2ForCausalLM) and no "
                + "sentence-transformers "
                + "modules.json with mean, first-token or last-token pooling");
    }
}
