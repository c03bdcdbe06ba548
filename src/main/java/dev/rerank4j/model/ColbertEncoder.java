package dev.rerank4j.model;

import dev.rerank4j.ModelFormatException;
import dev.rerank4j.backend.Activation;
import dev.rerank4j.backend.Backend;
import dev.rerank4j.backend.LinearWeights;
import dev.rerank4j.convert.ModelWeights;
import dev.rerank4j.io.Json;
import dev.rerank4j.io.ModelConfig;
import dev.rerank4j.io.SafeTensors;
import dev.rerank4j.io.Tensor;
import dev.rerank4j.tokenize.Encoding;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * A ColBERT late-interaction model: the BERT encoder, {@code Linear(hidden, dim)} on every token, L2
 * normalisation of every token vector. Two layouts are read:
 * <ul>
 *   <li>PyLate / sentence-transformers: {@code modules.json} with a Dense module (its {@code config.json}
 *       and {@code model.safetensors} holding {@code linear.weight}), and {@code config_sentence_transformers.json}
 *       with {@code query_prefix}, {@code document_prefix}, {@code query_length}, {@code document_length},
 *       {@code attend_to_expansion_tokens}, {@code do_query_expansion}, {@code skiplist_words};</li>
 *   <li>sentence-transformers 6's MultiVectorEncoder (which reads the other two and saves them so): the same Dense module,
 *       the prefixes as its {@code prompts}, {@code document_length} and {@code query_expansion} in
 *       {@code sentence_bert_config.json}, the skiplist in its MultiVectorMask module; see {@link #multiVectorSettings};</li>
 *   <li>Stanford (colbert-ir/colbertv2.0): {@code linear.weight} next to {@code bert.*} in
 *       {@code model.safetensors}, settings in {@code artifact.metadata} ({@code query_token_id},
 *       {@code doc_token_id}, {@code query_maxlen}, {@code doc_maxlen}, {@code attend_to_mask_tokens}).</li>
 * </ul>
 * Missing settings take PyLate's defaults. Immutable after loading; safe to share between threads.
 */
public final class ColbertEncoder implements Model {
    /** config_sentence_transformers.json's model_type for a sentence-transformers 6 late-interaction model. */
    private static final String MULTI_VECTOR = "MultiVectorEncoder";

    /** PyLate's default skiplist: Python's {@code string.punctuation}, one character per word. */
    public static final List<String> PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".chars()
            .mapToObj(c -> String.valueOf((char) c)).toList();

    /**
     * How texts become token sequences, as the model's files say. A prefix is one token put after the first; with
     * {@code prefixesPrepended} (sentence-transformers 6) the model's library prepends it to the text instead, which
     * tokenizes the same only where the prefix is a token matched in raw text (the caller checks).
     */
    public record Settings(String queryPrefix, String documentPrefix, int queryLength, int documentLength,
                           boolean queryExpansion, boolean attendToExpansion, List<String> skiplistWords,
                           boolean prefixesPrepended) {}

    private final Encoder encoder;
    private final Backend backend;
    private final LinearWeights projection;
    private final int dim;
    private final Settings settings;
    private final String fingerprint;

    private ColbertEncoder(Encoder encoder, Backend backend, LinearWeights projection, int dim, Settings settings, String fingerprint) {
        this.encoder = encoder;
        this.backend = backend;
        this.projection = projection;
        this.dim = dim;
        this.settings = settings;
        this.fingerprint = fingerprint;
    }

    /** Whether {@code dir} holds a ColBERT model in either layout. */
    static boolean isColbert(Path dir, ModelConfig config) {
        if (config.architectures().contains("HF_ColBERT") || Files.isRegularFile(dir.resolve("artifact.metadata"))) {
            return true;
        }
        Path st = dir.resolve("config_sentence_transformers.json");
        if (!Files.isRegularFile(st)) return false;
        Map<String, Object> json = Json.parseObjectFile(st);
        return "ColBERT".equals(json.get("model_type")) || "MaxSim".equals(json.get("similarity_fn_name"))
                || MULTI_VECTOR.equals(json.get("model_type"));
    }

    static ColbertEncoder load(Path dir, Weights weights, ModelConfig config, Backend backend) {
        Weights bert = new Weights(weights.file(), Weights.detectPrefix(weights.file(), Encoder.tokenEmbeddings(config), "", "bert."));
        Encoder encoder = Encoder.load(bert, config, backend);
        Path denseDir = pylateDense(dir);
        long hidden = config.hiddenSize();
        if (denseDir != null) {
            Map<String, Object> denseConfig = Json.parseObjectFile(denseDir.resolve("config.json"));
            Object activation = denseConfig.getOrDefault("activation_function", "torch.nn.modules.linear.Identity");
            if (!String.valueOf(activation).endsWith("Identity")) {
                throw new ModelFormatException(denseDir.resolve("config.json") + ": activation_function " + activation
                        + " is not supported (ColBERT projections are linear: torch.nn.modules.linear.Identity)");
            }
            if (Boolean.TRUE.equals(denseConfig.get("use_residual"))) {
                throw new ModelFormatException(denseDir.resolve("config.json") + ": use_residual true is not supported");
            }
            Path stFile = dir.resolve("config_sentence_transformers.json");
            Map<String, Object> st = Files.isRegularFile(stFile) ? Json.parseObjectFile(stFile) : Map.of();
            try (SafeTensors dense = ModelWeights.open(denseDir)) {
                return bind(encoder, backend, dense, hidden, MULTI_VECTOR.equals(st.get("model_type"))
                        ? multiVectorSettings(dir, stFile, st, config) : pylateSettings(stFile, st, config));
            }
        }
        return bind(encoder, backend, weights.file(), hidden, stanfordSettings(dir, config));
    }

    private static ColbertEncoder bind(Encoder encoder, Backend backend, SafeTensors file, long hidden, Settings settings) {
        Tensor w = file.tensor("linear.weight");
        if (w.rank() != 2 || w.dim(1) != hidden || w.dim(0) < 1) {
            throw new ModelFormatException(file.file() + ": tensor 'linear.weight' has shape " + w.shapeString()
                    + " but a ColBERT projection must be [dim, " + hidden + "] (hidden_size from config.json)");
        }
        Tensor bias = file.find("linear.bias").orElse(null);
        if (bias != null && (bias.rank() != 1 || bias.dim(0) != w.dim(0))) {
            throw new ModelFormatException(file.file() + ": tensor 'linear.bias' has shape " + bias.shapeString()
                    + ", expected [" + w.dim(0) + "]");
        }
        int dim = Math.toIntExact(w.dim(0));
        if (encoder.config().deberta() != null) {
            throw new ModelFormatException("config.json: a ColBERT on DeBERTa is not supported (rerank4j's disentangled attention "
                    + "takes no query mask)");
        }
        requireMaskTokensSeeAKey(encoder.config(), settings);
        return new ColbertEncoder(encoder, backend, backend.prepareLinear(w, bias), dim, settings, fingerprint(w, bias, settings));
    }

    /**
     * A query's [MASK] padding attends to none of the padding (attend_to_expansion_tokens false), so in ModernBERT's
     * sliding layers the last of them must still have a real token within its window, even after the shortest query
     * ([CLS], the prefix, [SEP]); transformers would give such a token the mean of every value, masked ones included,
     * which rerank4j does not reproduce. GTE-ModernColBERT's queries of 32 tokens and windows of ±64 are far from it.
     */
    private static void requireMaskTokensSeeAKey(ModelConfig config, Settings settings) {
        if (config.modernBert() == null || !settings.queryExpansion() || settings.attendToExpansion()
                || !config.modernBert().slidingLayers().contains(true)) {
            return;
        }
        int shortest = settings.queryPrefix().isEmpty() ? 2 : 3, window = config.modernBert().window();
        if (settings.queryLength() > shortest + window) {
            throw new ModelFormatException("queries padded to " + settings.queryLength() + " tokens put [MASK] tokens more than the local "
                    + "attention window of " + window + " past the last real token of a short query, where they would attend to "
                    + "nothing: rerank4j does not support this ModernBERT ColBERT (query_length at most " + (shortest + window) + ")");
        }
    }

    /** "colbert-d{dim}-{first 16 hex digits of SHA-256 over the projection (as F32) and the document settings}". */
    private static String fingerprint(Tensor w, Tensor bias, Settings s) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
            buf.putLong(w.dim(0)).putLong(w.dim(1));
            for (Tensor t : bias == null ? List.of(w) : List.of(w, bias)) {
                for (long i = 0, n = t.elementCount(); i < n; i++) {
                    if (buf.remaining() < 4) {
                        sha.update(buf.flip());
                        buf.clear();
                    }
                    buf.putFloat(t.get(i));
                }
            }
            sha.update(buf.flip());
            sha.update((s.documentPrefix() + "\u0000" + s.documentLength() + "\u0000" + s.skiplistWords()).getBytes(StandardCharsets.UTF_8));
            return "colbert-d" + w.dim(0) + "-" + HexFormat.of().formatHex(sha.digest(), 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The directory of the single Dense module in modules.json, or null when there is no modules.json. */
    private static Path pylateDense(Path dir) {
        Path modules = dir.resolve("modules.json");
        if (!Files.isRegularFile(modules)) return null;
        if (!(Json.parseFile(modules) instanceof List<?> list)) {
            throw new ModelFormatException(modules + ": expected an array of modules");
        }
        List<Path> dense = new ArrayList<>();
        for (Object module : list) {
            if (module instanceof Map<?, ?> m && String.valueOf(m.get("type")).endsWith("Dense")) {
                dense.add(SentenceTransformerPipeline.moduleDir(dir, modules, m, "Dense"));
            }
        }
        if (dense.isEmpty()) return null; // a Stanford checkpoint with sentence-transformers files beside it
        if (dense.size() > 1) {
            throw new ModelFormatException(modules + ": " + dense.size() + " Dense modules; only one projection is supported");
        }
        return dense.getFirst();
    }

    /**
     * sentence-transformers 6's MultiVectorEncoder settings, as its Transformer and MultiVectorMask modules read them:
     * prompts.query / prompts.document (prepended to the text), document_length, and query_expansion
     * {strategy "fixed", length, attend, token null (the tokenizer's mask token)}: classic ColBERT, as every PyLate and
     * Stanford checkpoint it converts has it. The pipeline must be Transformer → Dense → MultiVectorMask (skiplist on
     * documents only) → Normalize, scored by MaxSim. Anything else (strategy "min", no expansion, another expansion
     * token, kept token ids, a skiplist on queries) is refused by name.
     */
    private static Settings multiVectorSettings(Path dir, Path stFile, Map<String, Object> st, ModelConfig config) {
        Object similarity = st.get("similarity_fn_name");
        if (similarity != null && !"maxsim".equalsIgnoreCase(String.valueOf(similarity))) {
            throw new ModelFormatException(stFile + ": similarity_fn_name " + Json.write(similarity) + " is not supported (only MaxSim)");
        }
        Map<String, Object> prompts = st.get("prompts") instanceof Map<?, ?> m ? object(m) : Map.of();
        Path bertFile = dir.resolve("sentence_bert_config.json");
        Map<String, Object> bert = Files.isRegularFile(bertFile) ? Json.parseObjectFile(bertFile) : Map.of();
        if (!(bert.get("query_expansion") instanceof Map<?, ?> expansionMap)) {
            throw new ModelFormatException(bertFile + ": no query_expansion; rerank4j runs ColBERT queries with the classic"
                    + " fixed expansion ({\"strategy\": \"fixed\", \"length\": 32}) only");
        }
        Map<String, Object> expansion = object(expansionMap);
        if (!"fixed".equals(expansion.get("strategy")) || expansion.get("token") != null) {
            throw new ModelFormatException(bertFile + ": query_expansion " + Json.write(expansion) + " is not supported (only"
                    + " strategy \"fixed\" with the tokenizer's mask token, token null)");
        }
        if (bert.get("document_length") == null) {
            throw new ModelFormatException(bertFile + ": no document_length (rerank4j needs the length documents are cut at)");
        }
        return new Settings(
                string(prompts, "query", "", stFile),
                string(prompts, "document", "", stFile),
                length(expansion, "query_expansion.length", "length", 32, bertFile, config),
                length(bert, "document_length", "document_length", 180, bertFile, config),
                true,
                bool(expansion, "attend", false, bertFile),
                multiVectorSkiplist(dir),
                true);
    }

    /** The skiplist of the MultiVectorMask module, checking that the pipeline around it is the one rerank4j runs. */
    private static List<String> multiVectorSkiplist(Path dir) {
        Path modules = dir.resolve("modules.json");
        List<String> skiplist = null;
        boolean normalize = false;
        for (Object module : (List<?>) Json.parseFile(modules)) {
            String type = module instanceof Map<?, ?> m ? String.valueOf(m.get("type")) : "";
            if (type.endsWith(".Transformer") || type.endsWith(".Dense")) continue;
            if (type.endsWith(".Normalize")) {
                normalize = true;
            } else if (type.endsWith(".MultiVectorMask")) {
                Path file = SentenceTransformerPipeline.moduleDir(dir, modules, (Map<?, ?>) module, "MultiVectorMask").resolve("config.json");
                Map<String, Object> mask = Json.parseObjectFile(file);
                if (mask.get("keep_only_token_ids") != null || !List.of("document").equals(mask.get("skiplist_tasks"))) {
                    throw new ModelFormatException(file + ": rerank4j applies a skiplist to documents only and keeps every other"
                            + " token (skiplist_tasks [\"document\"], keep_only_token_ids null)");
                }
                skiplist = mask.get("skiplist_words") == null ? List.of() : words(mask, "skiplist_words", file);
            } else {
                throw new ModelFormatException(modules + ": module type " + type + " is not supported in a ColBERT model"
                        + " (rerank4j runs Transformer → Dense → MultiVectorMask → Normalize)");
            }
        }
        if (skiplist == null || !normalize) {
            throw new ModelFormatException(modules + ": a ColBERT model needs a MultiVectorMask and a Normalize module");
        }
        return skiplist;
    }

    /** A JSON object as the parser made it (string keys). */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Map<?, ?> parsed) {
        return (Map<String, Object>) parsed;
    }

    /** PyLate's settings, from its config_sentence_transformers.json ({@code json}, read from {@code file}; empty if none). */
    private static Settings pylateSettings(Path file, Map<String, Object> json, ModelConfig config) {
        return new Settings(
                string(json, "query_prefix", "[Q] ", file),
                string(json, "document_prefix", "[D] ", file),
                length(json, "query_length", "query_length", 32, file, config),
                length(json, "document_length", "document_length", 180, file, config),
                bool(json, "do_query_expansion", true, file),
                bool(json, "attend_to_expansion_tokens", false, file),
                words(json, "skiplist_words", file),
                false);
    }

    /**
     * Stanford ColBERT's ColBERTConfig: punctuation is skipped only with mask_punctuation (default true), and
     * only the "cosine" similarity, a dot product of normalized vectors, is what MaxSim here computes.
     */
    private static Settings stanfordSettings(Path dir, ModelConfig config) {
        Path file = dir.resolve("artifact.metadata");
        Map<String, Object> json = Files.isRegularFile(file) ? Json.parseObjectFile(file) : Map.of();
        String similarity = string(json, "similarity", "cosine", file);
        if (!similarity.equals("cosine")) {
            throw new ModelFormatException(file + ": similarity '" + similarity + "' is not supported (only \"cosine\", ColBERT's default)");
        }
        return new Settings(
                marker(json, "query_token_id", "[unused0]", file),
                marker(json, "doc_token_id", "[unused1]", file),
                length(json, "query_maxlen", "query_maxlen", 32, file, config),
                length(json, "doc_maxlen", "doc_maxlen", 180, file, config),
                true,
                bool(json, "attend_to_mask_tokens", false, file),
                bool(json, "mask_punctuation", true, file) ? PUNCTUATION : List.of(),
                false);
    }

    private static String string(Map<String, Object> json, String key, String fallback, Path file) {
        Object v = json.get(key);
        if (v == null) return fallback;
        if (v instanceof String s) return s;
        throw new ModelFormatException(file + ": '" + key + "' must be a string, found " + Json.typeName(v));
    }

    /**
     * Stanford ColBERT always puts its marker after [CLS], converting the name to an id: an empty name becomes the unknown
     * token's id there, where an empty prefix here means none, so the two would score apart.
     */
    private static String marker(Map<String, Object> json, String key, String fallback, Path file) {
        String token = string(json, key, fallback, file);
        if (token.isEmpty()) throw new ModelFormatException(file + ": '" + key + "' is empty; Stanford ColBERT puts a marker token there");
        return token;
    }

    private static int positive(Map<String, Object> json, String key, int fallback, Path file) {
        Object v = json.get(key);
        if (v == null) return fallback;
        if (v instanceof Number n && n.doubleValue() == n.longValue() && n.longValue() >= 3 && n.longValue() <= 1 << 20) {
            return (int) n.longValue();
        }
        throw new ModelFormatException(file + ": '" + key + "' must be an integer ≥ 3, found " + v);
    }

    /**
     * A query or document length in tokens ({@link #positive}) that the position table holds: every query is padded to its
     * length, and a longer document would fail at the first call that reads one, so a model whose files (or, where they name
     * none, ColBERT's defaults) ask for more tokens than config.json's max_position_embeddings allows is refused here.
     * {@code name} is the key as the message shows it.
     */
    private static int length(Map<String, Object> json, String name, String key, int fallback, Path file, ModelConfig config) {
        int tokens = positive(json, key, fallback, file);
        if (tokens > config.maxInputLength()) {
            throw new ModelFormatException(file + ": " + (json.get(key) == null ? "no '" + name + "', and its default of " + tokens
                    : "'" + name + "' " + tokens) + " is more than the model's maximum input of " + config.maxInputLength()
                    + " tokens (config.json max_position_embeddings " + config.maxPositionEmbeddings()
                    + (config.positionOffset() > 0 ? " − position offset " + config.positionOffset() : "") + ")");
        }
        return tokens;
    }

    private static boolean bool(Map<String, Object> json, String key, boolean fallback, Path file) {
        Object v = json.get(key);
        if (v == null) return fallback;
        if (v instanceof Boolean b) return b;
        throw new ModelFormatException(file + ": '" + key + "' must be true or false, found " + v);
    }

    private static List<String> words(Map<String, Object> json, String key, Path file) {
        Object v = json.get(key);
        if (v == null) return PUNCTUATION;
        if (v instanceof List<?> list && list.stream().allMatch(String.class::isInstance)) {
            return list.stream().map(String.class::cast).toList();
        }
        throw new ModelFormatException(file + ": '" + key + "' must be an array of strings");
    }

    @Override
    public Encoder encoder() {
        return encoder;
    }

    /** Floats per token vector. */
    public int dimension() {
        return dim;
    }

    public Settings settings() {
        return settings;
    }

    /** Identifies the projection and the document settings: embeddings with another fingerprint do not belong here. */
    public String fingerprint() {
        return fingerprint;
    }

    /**
     * One array per encoding, in the order given: its {@code length × dim} unit-length token vectors
     * (every token, no filtering). {@code keyLengths[i]} limits which tokens encoding i attends to
     * (see {@link Encoder#forward(RaggedBatch, int[], Encoder.Scratch)}); null: all.
     */
    public float[][] embed(List<Encoding> encodings, int[] keyLengths, int batchSize) {
        float[][] out = new float[encodings.size()][];
        encoder.forEachBatch(encodings, batchSize, scratch -> new float[Math.multiplyExact(scratch.capacity(), dim)],
                (slice, scratch, projected) -> {
                    RaggedBatch batch = slice.batch();
                    int[] keys = null;
                    if (keyLengths != null) {
                        keys = new int[batch.sequences()];
                        for (int b = 0; b < keys.length; b++) keys[b] = keyLengths[slice.origins()[b]];
                    }
                    float[] hidden = encoder.forward(batch, keys, scratch);
                    backend.linear(hidden, batch.tokens(), projection, projected, Activation.NONE);
                    for (int b = 0; b < batch.sequences(); b++) {
                        out[slice.origins()[b]] = normalisedRows(projected, batch.start(b), batch.length(b), dim);
                    }
                });
        return out;
    }

    /** PyLate's torch.nn.functional.normalize(p=2, dim=1): each row divided by max(‖row‖, 1e-12). */
    private static float[] normalisedRows(float[] x, int start, int rows, int dim) {
        float[] out = new float[rows * dim];
        for (int r = 0; r < rows; r++) {
            int src = (start + r) * dim;
            double norm = 0;
            for (int i = 0; i < dim; i++) norm += (double) x[src + i] * x[src + i];
            float scale = (float) (1.0 / Math.max(Math.sqrt(norm), 1e-12));
            for (int i = 0; i < dim; i++) out[r * dim + i] = x[src + i] * scale;
        }
        return out;
    }

    /** MaxSim of one query's {@code queryTokens} vectors against documents {@code candidates} (see {@link Backend#maxSim}). */
    public void maxSim(float[] query, int queryTokens, float[] docs, int[] docOffsets, int[] candidates, float[] scores) {
        backend.maxSim(query, queryTokens, docs, docOffsets, candidates, dim, scores);
    }

    /** The backend this model runs on: MaxSim over stored document embeddings gathers their rows on its lanes ({@link Backend#sideBySide}). */
    public Backend backend() {
        return backend;
    }
}
