package dev.rerank4j;

import dev.rerank4j.backend.Backend;
import dev.rerank4j.backend.cpu.CpuBackend;
import dev.rerank4j.io.Json;
import dev.rerank4j.io.ModelConfig;
import dev.rerank4j.io.ModernBertConfig;
import dev.rerank4j.io.QwenConfig;
import dev.rerank4j.io.SafeTensors;
import dev.rerank4j.model.CausalReranker;
import dev.rerank4j.model.ColbertEncoder;
import dev.rerank4j.model.CrossEncoder;
import dev.rerank4j.model.Model;
import dev.rerank4j.model.SentenceEncoder;
import dev.rerank4j.tokenize.PairTruncation;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a loaded reranker does with its model, in words: the kind and its score, the encoder's shape, the weights, the
 * token limit and where it was read, how pairs are cut, and where the kernels run. {@code rerank inspect} prints it and
 * {@code load} logs it, so a user sees which of the model's files decided what.
 */
final class ModelDescription {
    private ModelDescription() {}

    static Map<String, String> of(Path dir, ModelConfig config, SafeTensors weights, String tokenizer, Model model, Scorer scorer, String limitSource,
                                  PairTruncation truncation, boolean sigmoid, Backend backend, String backendReason) {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("model", dir.toString());
        d.put("kind", switch (model) {
            case CrossEncoder ce -> "cross-encoder; score = " + (sigmoid ? "sigmoid(logit)" : "logit");
            case SentenceEncoder se -> "bi-encoder, " + se.pooling() + " pooling; score = "
                    + (se.scoresByDotProduct() ? "dot product" : "cosine similarity") + " of the query's and the document's embeddings"
                    + prompt("query", se.queryPrompt()) + prompt("document", se.documentPrompt());
            case ColbertEncoder ce -> "ColBERT late interaction; score = MaxSim of per-token vectors";
            case CausalReranker cr -> causal(cr, (Scorer.Causal) scorer, sigmoid);
        });
        d.put("encoder", String.format("%s, %d layers, hidden %d, %d heads, intermediate %d, vocab %d%s", config.modelType(),
                config.numLayers(), config.hiddenSize(), config.numHeads(), config.intermediateSize(), config.vocabSize(),
                config.projectsEmbeddings() ? String.format(", embeddings %d wide, projected to %d", config.embeddingSize(),
                        config.hiddenSize()) : "") + modernBert(config.modernBert()) + qwen(config.qwen()));
        d.put("weights", weights(weights));
        d.put("tokenizer", tokenizer);
        d.put("max length", scorer.maxLength() + " tokens (" + limitSource + ")"
                + (model instanceof ColbertEncoder ? "; queries " + scorer.queryMaxLength() + " tokens" : ""));
        if (scorer instanceof Scorer.Causal c) d.put("pairs cut", c.prompt().cutting());
        if (model instanceof CrossEncoder) {
            d.put("pairs cut", truncation == PairTruncation.LONGEST_FIRST ? "longest first (sentence-transformers' CrossEncoder)"
                    : "query to at most 3/4 of the length, then the passage (FlagEmbedding)");
        }
        d.put("backend", (backend instanceof CpuBackend cpu
                ? "cpu, " + cpu.lanes() + " threads, packed weights " + cpu.packedWeights() + " off the heap" : backend.name())
                + " (" + backendReason + ")");
        return Collections.unmodifiableMap(d);
    }

    private static String prompt(String role, String prompt) {
        return prompt.isEmpty() ? "" : "; " + role + " prompt " + Json.write(prompt);
    }

    /** ", RoPE θ 160000 (10000 local), 16 of 22 layers see ±64 tokens, head on the mean of the tokens", or nothing. */
    private static String modernBert(ModernBertConfig m) {
        if (m == null) return "";
        long sliding = m.slidingLayers().stream().filter(Boolean::booleanValue).count();
        return String.format(", RoPE θ %s (%s local), %d of %d layers see ±%d tokens, head on %s", plain(m.globalRopeTheta()),
                plain(m.localRopeTheta()), sliding, m.slidingLayers().size(), m.window(),
                m.meanPooling() ? "the mean of the tokens" : "the first token");
    }

    /** ", 8 key/value heads of 128 dims, RoPE θ 1000000, tied embeddings", or nothing. */
    /** A causal reranker's kind: where it is read, its score, and the instruction it is given. */
    private static String causal(CausalReranker model, Scorer.Causal scorer, boolean sigmoid) {
        RerankerPrompt prompt = scorer.prompt();
        return "reranker on a causal decoder, read at the last token of its prompt; score = " + (sigmoid ? "sigmoid(logit)" : "logit")
                + ", logit = " + (model.answersWithTokens() ? "logit[" + prompt.yes() + "] − logit[" + prompt.no()
                + "] of the language-model head" : "the classifier's") + "; instruction " + instruction(scorer);
    }

    /** The instruction a causal reranker is given: the caller's, else its prompt's default, else none. */
    private static String instruction(Scorer.Causal c) {
        String told = c.instruction() != null ? c.instruction() : c.prompt().defaultInstruction();
        return told == null ? "none" : Json.write(told);
    }

    private static String qwen(QwenConfig q) {
        if (q == null) return "";
        return String.format(", %d key/value heads of %d dims, RoPE θ %s%s", q.keyValueHeads(), q.headDim(), plain(q.ropeTheta()),
                q.tiedEmbeddings() ? ", tied embeddings" : "");
    }

    private static String plain(double v) {
        return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
    }

    /**
     * The dtypes by parameter count, the total, and the file's size: "F32, 22.7 M parameters, model.safetensors 90.9 MB"
     * (for shards: "…, model.safetensors.index.json, 3 shards, 90.9 MB"; for weights read from another format: "…,
     * pytorch_model.bin, read through a safetensors copy of 90.3 MB").
     */
    private static String weights(SafeTensors weights) {
        Map<String, Long> byDtype = new TreeMap<>();
        long total = 0;
        for (String name : weights.names()) {
            long count = 1;
            for (long dim : weights.raw(name).orElseThrow().shape()) count *= dim;
            byDtype.merge(weights.dtypeName(name), count, Long::sum);
            total += count;
        }
        String file = weights.file().getFileName().toString();
        double mb = weights.byteSize() / 1e6;
        String where = !weights.shards().isEmpty() ? String.format("%s, %d shards, %.1f MB", file, weights.shards().size(), mb)
                : file.endsWith(".safetensors") ? String.format("%s %.1f MB", file, mb)
                : String.format("%s, read through a safetensors copy of %.1f MB", file, mb);
        return String.join(" + ", byDtype.keySet()) + ", " + String.format("%.1f M parameters, ", total / 1e6) + where;
    }
}
