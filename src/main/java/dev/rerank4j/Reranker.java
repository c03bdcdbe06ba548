package dev.rerank4j;

import dev.rerank4j.backend.Backend;
import dev.rerank4j.backend.Backends;
import dev.rerank4j.backend.MissingKernelException;
import dev.rerank4j.backend.cuda.CudaException;
import dev.rerank4j.convert.ModelWeights;
import dev.rerank4j.io.Json;
import dev.rerank4j.io.ModelConfig;
import dev.rerank4j.io.SafeTensors;
import dev.rerank4j.model.CausalReranker;
import dev.rerank4j.model.ColbertEncoder;
import dev.rerank4j.model.CrossEncoder;
import dev.rerank4j.model.Model;
import dev.rerank4j.model.SentenceEncoder;
import dev.rerank4j.tokenize.Tokenizer;
import dev.rerank4j.tokenize.ModelTokenizer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A reranker loaded from a Hugging Face model directory (config.json, model.safetensors or pytorch_model.bin,
 * tokenizer.json or the vocabulary files; see {@link #load(Path, Options)}); for a
 * model on the hub, {@code Reranker.load(HuggingFaceHub.model("BAAI/bge-reranker-base"))} gives its directory in
 * the hub's cache ({@link dev.rerank4j.hub.HuggingFaceHub}).
 *
 * <p>{@code load} maps the weights file (no copy of it onto the heap) and packs the linear layers for
 * the CPU kernels off the heap: expect about the model's F32 size in native memory, freed by close() (or by the
 * GC, for a reranker dropped without it). Scoring is pure Java, or CUDA kernels on an NVIDIA GPU
 * (see {@link Options#backend()}; the weights then live in device memory, freed by close()). A
 * reranker is safe to call from many threads at once; each call tokenizes, batches its documents by
 * length and runs them on this reranker's own thread pool. {@link #close()} waits for running calls,
 * then frees the weights; scoring calls and {@link #warmUp()} after it throw {@link IllegalStateException} (what
 * describes the reranker, {@link #maxLength()}, {@link #description()} and {@link #backendName()}, still answers). A
 * call whose thread is interrupted (a request's deadline, {@code Future.cancel(true)}) stops while it tokenizes (every
 * few thousand words), plans its batches, or before the encoder's next layer, and throws
 * {@link java.util.concurrent.CancellationException}, the interrupt status left set; the reranker stays usable.
 * (CancellationException is an IllegalStateException: code that tells a closed reranker by the latter catches it first.)
 */
public final class Reranker implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Reranker.class.getName());
    /**
     * Unmaps the weights file of a reranker that became unreachable without being closed (the backend frees its own
     * memory the same way). Each call keeps its reranker reachable until it returns ({@link #whileOpen}): else the GC
     * could unmap the file under a running call.
     */
    private static final java.lang.ref.Cleaner UNCLOSED = java.lang.ref.Cleaner.create(r -> {
        Thread t = new Thread(r, "rerank4j-mapping-cleaner");
        t.setDaemon(true);
        return t;
    });

    private final Path dir;
    private final SafeTensors weights;
    private final Backend backend;
    private final Scorer scorer;
    private final Map<String, String> description;
    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    /** Unmaps the weights, once: at close(), or when the GC finds this reranker unclosed. */
    private final java.lang.ref.Cleaner.Cleanable unmap;
    private boolean closed;
    /** Set when close() begins, before it waits for running calls: calls made from then on fail at once. */
    private volatile boolean closing;
    /**
     * Set by the first call that cut an input. Only that call warns: a service reranking long documents cuts on most
     * calls, and a WARNING each time would bury its log (transformers, too, warns of an over-long input once per tokenizer).
     */
    private final java.util.concurrent.atomic.AtomicBoolean warnedOfCuts = new java.util.concurrent.atomic.AtomicBoolean();

    private Reranker(Path dir, SafeTensors weights, Backend backend, Scorer scorer, Map<String, String> description) {
        this.dir = dir;
        this.weights = weights;
        this.backend = backend;
        this.scorer = scorer;
        this.description = description;
        this.unmap = UNCLOSED.register(this, weights::close);
    }

    /** Loads the model in {@code dir} with {@link Options#defaults()}. */
    public static Reranker load(Path dir) {
        return load(dir, Options.defaults());
    }

    /**
     * Loads the model in {@code dir}: a {@code BertForSequenceClassification}, {@code XLMRobertaForSequenceClassification},
     * {@code RobertaForSequenceClassification}, {@code ElectraForSequenceClassification},
     * {@code DistilBertForSequenceClassification}, {@code DebertaV2ForSequenceClassification} or
     * {@code ModernBertForSequenceClassification} cross-encoder; a reranker on a causal decoder
     * ({@code Qwen3ForCausalLM} and {@code Qwen3ForSequenceClassification} as Qwen3-Reranker, {@code Qwen2ForCausalLM} as
     * mxbai-rerank-v2); a sentence-transformers bi-encoder with mean, first-token or last-token pooling (scored by cosine
     * similarity or the dot product, each text after its prompt); or a ColBERT model in PyLate's, Stanford's or
     * sentence-transformers 6's layout (scored by MaxSim; its query and document lengths come from its own files).
     *
     * <p>The CPU backend packs the linear layers' weights off the heap as F32, 4 bytes a parameter (all-MiniLM-L6-v2:
     * 42 MB, bge-reranker-base: 0.34 GB, bge-reranker-large: 1.2 GB; the load's log line gives the figure), and the
     * JVM counts them against -XX:MaxDirectMemorySize, which defaults to the maximum heap size.
     *
     * <p>Safetensors shards are mapped where they lie; in a file system other than the default one ({@code dir} inside a
     * jar or zip file system, where an application ships its model), from copies in {@code java.io.tmpdir}, deleted once
     * mapped (the disk space stays taken until close()). A PyTorch checkpoint (whole or sharded) is read through a
     * temporary safetensors copy; see {@link ModelWeights}. The tokenizer is tokenizer.json, else (a model saved without
     * one) vocab.txt for the BERT family, or vocab.json and merges.txt for RoBERTa, with the files beside them; see
     * {@link ModelTokenizer}.
     *
     * @throws ModelFormatException     if a file is missing, malformed, or disagrees with another
     * @throws IllegalArgumentException if {@code dir} or {@code options} is null, {@code dir} holds a PyTorch checkpoint in a
     *                                  file system other than the default one, or an option does not fit the model: a
     *                                  maxLength past its positions or too small for its special tokens or prompt, or
     *                                  an option it would ignore (an instruction for a model that takes none, a score
     *                                  function for a bi-encoder or ColBERT model, a maxLength for a ColBERT model)
     * @throws java.io.UncheckedIOException if a file cannot be read, or the temporary copy of weights in another format
     *                                  cannot be written
     * @throws OutOfMemoryError         if the JVM refuses the memory for the packed weights; its message names the flags to raise
     * @throws dev.rerank4j.backend.MissingKernelException if {@link Options.BackendChoice#CUDA} was asked for a model whose
     *                                  kernels it lacks (the Qwen decoders'; AUTO runs those on the CPU)
     * @throws java.util.concurrent.CancellationException if the thread was interrupted while the load read a file (the
     *                                  interrupt status left set; nothing is left open)
     * @throws IllegalStateException    if the JVM was started without the Vector API ({@code --add-modules
     *                                  jdk.incubator.vector}) and the model would run on the CPU (CPU; AUTO without a
     *                                  usable GPU: nothing is opened then; AUTO leaving a GPU that fails to start or lacks
     *                                  the model's kernels: all is closed again). The message names the flag
     */
    public static Reranker load(Path dir, Options options) {
        try {
            return loadOrFail(dir, options);
        } catch (RuntimeException e) {
            throw withArchive(cancelledIfInterrupted(e, dir), dir);
        }
    }

    /**
     * A file inside a jar or zip file system prints as its path inside the archive ({@code /models/m/config.json}), which
     * does not say which archive: a bad file's error then also names the model folder's URI, which does.
     */
    private static RuntimeException withArchive(RuntimeException failure, Path dir) {
        if (!(failure instanceof ModelFormatException) || dir == null || dir.getFileSystem() == java.nio.file.FileSystems.getDefault()) {
            return failure;
        }
        return new ModelFormatException(failure.getMessage() + " (in " + dir.toUri() + ")", failure);
    }

    /**
     * {@code failure}, or the cancellation it is where the thread's interrupt closed a file it was reading (the JDK then
     * throws ClosedByInterruptException, which the readers report as a file they cannot read).
     */
    static RuntimeException cancelledIfInterrupted(RuntimeException failure, Path file) {
        for (Throwable c = failure; c != null; c = c.getCause()) {
            if (c instanceof java.nio.channels.ClosedByInterruptException) {
                var cancelled = new java.util.concurrent.CancellationException("the thread was interrupted, so reading " + file + " stopped");
                cancelled.initCause(failure);
                return cancelled;
            }
        }
        return failure;
    }

    private static Reranker loadOrFail(Path dir, Options options) {
        if (dir == null) throw new IllegalArgumentException("dir is null");
        if (options == null) throw new IllegalArgumentException("options is null");
        Backends.requireUsable(options.backend()); // a JVM without the Vector API fails here, before any file is opened
        long started = System.nanoTime();
        Path configFile = requireFile(dir, "config.json");
        ModelConfig config = ModelConfig.read(configFile);
        ModelTokenizer modelTokenizer = ModelTokenizer.load(dir, config.modelType());
        Tokenizer tokenizer = modelTokenizer.tokenizer();
        if (tokenizer.vocabSize() > config.vocabSize()) {
            throw new ModelFormatException(modelTokenizer.file() + ": the tokenizer has " + tokenizer.vocabSize()
                    + " ids but config.json vocab_size is " + config.vocabSize() + " (tokenizer and model do not belong together)");
        }
        CrossEncoderConventions conventions = CrossEncoderConventions.of(dir, config);
        Limit limit = maxLength(dir, config, options);
        int maxLength = limit.tokens();
        SafeTensors weights = ModelWeights.open(dir);
        Backend backend = null;
        try {
            Placed placed = place(dir, config, weights, options);
            backend = placed.backend();
            Model model = placed.model();
            refuseIgnoredOptions(options, model, dir);
            boolean sigmoid = sigmoid(options, conventions, model instanceof CausalReranker && RerankerPrompt.of(config).sigmoidByDefault());
            Scorer scorer = switch (model) {
                case CrossEncoder ce -> new Scorer.Cross(tokenizer, ce, maxLength, conventions.truncation(config), options.batchSize(), sigmoid);
                case SentenceEncoder se -> new Scorer.Bi(tokenizer, se, maxLength, options.batchSize());
                case ColbertEncoder ce -> Scorer.Colbert.of(tokenizer, modelTokenizer.file(), ce, options.batchSize(), maskToken(dir));
                case CausalReranker cr -> Scorer.Causal.of(tokenizer, modelTokenizer.file(), cr, RerankerPrompt.of(config), options.instruction(),
                        maxLength, config.maxInputLength(), options.batchSize(), sigmoid);
            };
            if (model instanceof CrossEncoder || model instanceof SentenceEncoder) {
                limit.requireRoomFor(tokenizer.specialTokens(model instanceof CrossEncoder));
            }
            if (scorer instanceof Scorer.Causal causal) requireYesNoAnswers(dir, causal);
            String limitSource = model instanceof ColbertEncoder ? "ColBERT's document_length"
                    : scorer.maxLength() < limit.tokens() ? limit.source() + ", lowered from " + limit.tokens()
                    + " to leave room for the prompt within the model's positions" : limit.source();
            Map<String, String> description = ModelDescription.of(dir, config, weights, modelTokenizer.description(), model, scorer,
                    limitSource, conventions.truncation(config), sigmoid, backend, placed.backendReason());
            Reranker reranker = new Reranker(dir, weights, backend, scorer, description);
            LOG.log(System.Logger.Level.INFO, () -> String.format("loaded %s in %.0f ms: %s", dir, (System.nanoTime() - started) / 1e6,
                    String.join("; ", description.entrySet().stream().skip(1).map(e -> e.getKey() + " " + e.getValue()).toList())));
            return reranker;
        } catch (RuntimeException | Error e) { // an Error too: the JVM refusing memory for the weights must not leak the mapping
            if (backend != null) backend.close();
            weights.close();
            throw e;
        }
    }

    /** An option the model would not use is refused, so that no caller believes it took effect. */
    private static void refuseIgnoredOptions(Options options, Model model, Path dir) {
        if (options.instruction() != null && !(model instanceof CausalReranker)) {
            throw new IllegalArgumentException("an instruction was given (Options.withInstruction, --instruction), but " + dir
                    + " is not an instruction-following reranker (Qwen3-Reranker, mxbai-rerank-v2): it would be ignored");
        }
        if (options.scoreFunction() != Options.ScoreFunction.MODEL_DEFAULT
                && (model instanceof SentenceEncoder || model instanceof ColbertEncoder)) {
            throw new IllegalArgumentException("a score function was chosen (Options.withScoreFunction, --sigmoid or --raw), but "
                    + dir + " is a " + (model instanceof ColbertEncoder ? "ColBERT model, scored by MaxSim"
                    : "bi-encoder, scored by the similarity its files name") + ": it would be ignored");
        }
        if (options.maxLength() > 0 && model instanceof ColbertEncoder) {
            throw new IllegalArgumentException("a maxLength was given (Options.withMaxLength, --max-length), but " + dir
                    + " is a ColBERT model, whose query and document lengths come from its own files: it would be ignored");
        }
    }

    /** A model, the backend it was loaded on and why that one (for the load's log line). */
    private record Placed(Backend backend, Model model, String backendReason) {}

    /** AUTO's fall-back when the GPU it chose could not run the model, with the reason it gives. */
    private static Placed onCpu(Path dir, ModelConfig config, SafeTensors weights, Options options, String why) {
        Placed cpu = place(dir, config, weights, options.withBackend(Options.BackendChoice.CPU));
        return new Placed(cpu.backend(), cpu.model(), why);
    }

    /**
     * The model on the backend {@code options} picks. AUTO promises a working reranker: a GPU that answered but
     * cannot hold the model (full, shared), or lacks kernels the model needs (the Qwen decoders), leaves it to the CPU, as one
     * that fails to start does (Backends).
     * On failure nothing is left open.
     */
    private static Placed place(Path dir, ModelConfig config, SafeTensors weights, Options options) {
        Backends.Selection selection = Backends.select(options.backend(), options.threads());
        Backend backend = selection.backend();
        try {
            return new Placed(backend, Model.load(dir, config, weights, backend), selection.reason());
        } catch (CudaException e) {
            backend.close();
            if (options.backend() != Options.BackendChoice.AUTO) throw e;
            LOG.log(System.Logger.Level.WARNING, "AUTO: the CUDA device failed while loading the model ({0}): running on the CPU",
                    e.getMessage());
            return onCpu(dir, config, weights, options, "AUTO: the CUDA device failed while loading the model (" + e.getMessage() + ")");
        } catch (MissingKernelException e) {
            backend.close();
            if (options.backend() != Options.BackendChoice.AUTO) throw e;
            return onCpu(dir, config, weights, options, "AUTO: " + e.getMessage());
        } catch (RuntimeException | Error e) {
            backend.close();
            throw e;
        }
    }

    private static Path requireFile(Path dir, String name) {
        if (!Files.isDirectory(dir)) {
            // a relative path is resolved against the working directory, which an IDE or a service manager may choose
            String what = Files.exists(dir) ? "not a directory" : dir.isAbsolute() ? "not a directory: nothing is there"
                    : "not a directory: nothing is at " + dir.toAbsolutePath();
            throw new ModelFormatException(dir + ": " + what + " (expected a model directory with config.json, model.safetensors or"
                    + " pytorch_model.bin, tokenizer.json or vocab.txt or vocab.json and merges.txt)");
        }
        Path file = dir.resolve(name);
        if (!Files.isRegularFile(file)) {
            throw new ModelFormatException(dir + ": missing " + name);
        }
        return file;
    }

    /**
     * Whether scores are sigmoid(logit): the caller's choice, else the activation the files name, else the reference's for a
     * causal reranker whose reference reports sigmoid(logit) ({@code sigmoidByDefault}: Qwen3-Reranker's P(yes)).
     */
    private static boolean sigmoid(Options options, CrossEncoderConventions conventions, boolean sigmoidByDefault) {
        return switch (options.scoreFunction()) {
            case RAW -> false;
            case SIGMOID -> true;
            case MODEL_DEFAULT -> conventions.sigmoid() || sigmoidByDefault && conventions.activation() == null;
        };
    }

    /**
     * A token limit and where it was read, so that a limit too small for the template's special tokens is
     * refused at load, naming its source, rather than at the first call.
     */
    private record Limit(int tokens, String source, boolean fromOptions) {
        void requireRoomFor(int specials) {
            if (tokens >= specials) return;
            String message = source + " allows " + tokens + " tokens, fewer than the " + specials
                    + " special tokens the tokenizer adds to every input";
            throw fromOptions ? new IllegalArgumentException(message) : new ModelFormatException(message);
        }
    }

    /**
     * The caller's limit, else the model's own (as sentence-transformers and HF tokenizers pick it; a causal reranker's as
     * its reference does), within the
     * position table: max_position_embeddings less the RoBERTa/XLM-R offset (514 → 512, 8194 → 8192).
     */
    private static Limit maxLength(Path dir, ModelConfig config, Options options) {
        int positions = config.maxInputLength();
        if (options.maxLength() > 0) {
            if (options.maxLength() > positions) {
                throw new IllegalArgumentException("maxLength " + options.maxLength() + " exceeds the model's maximum input of "
                        + positions + " tokens (max_position_embeddings " + config.maxPositionEmbeddings()
                        + (config.positionOffset() > 0 ? " − position offset " + config.positionOffset() : "") + "; " + dir + ")");
            }
            return new Limit(options.maxLength(), "the maxLength asked for (Options.withMaxLength, --max-length)", true);
        }
        Path sentenceTransformers = dir.resolve("sentence_bert_config.json");
        Long fromSentenceTransformers = longField(sentenceTransformers, "max_seq_length");
        if (fromSentenceTransformers != null && fromSentenceTransformers > 0) {
            return new Limit((int) Math.min(fromSentenceTransformers, positions), sentenceTransformers + ": max_seq_length", false);
        }
        // a causal reranker's: a pair of 8,192 tokens already takes minutes on a CPU, and Options.withMaxLength raises it
        if (Model.isCausalReranker(dir, config)) {
            RerankerPrompt prompt = RerankerPrompt.of(config);
            return new Limit(Math.min(prompt.defaultMaxLength(), positions), prompt.defaultMaxLengthSource(), false);
        }
        Path tokenizerConfig = dir.resolve("tokenizer_config.json");
        Long fromTokenizerConfig = longField(tokenizerConfig, "model_max_length");
        if (fromTokenizerConfig != null && fromTokenizerConfig > 0) {
            // HF writes 1e30 for "no limit"
            return new Limit((int) Math.min(fromTokenizerConfig, positions), tokenizerConfig + ": model_max_length", false);
        }
        return new Limit(positions, dir.resolve("config.json") + ": max_position_embeddings", false);
    }

    /**
     * A causal reranker that sentence-transformers saved (modules.json: Transformer → LogitScore) names the tokens its
     * answer is read from, and formats pairs with its tokenizer's chat template. rerank4j runs its reference's recipe:
     * logit[yes] − logit[no] of that reference's prompt. Other answer tokens (zerank-2 reads one token alone) are refused
     * rather than scored as the prompt's; with the prompt's the log says that the chat template is not rendered.
     */
    private static void requireYesNoAnswers(Path dir, Scorer.Causal scorer) {
        Path modules = dir.resolve("modules.json");
        if (!Files.isRegularFile(modules) || !(Json.parseFile(modules) instanceof List<?> list)) return;
        for (Object module : list) {
            if (!(module instanceof Map<?, ?> m) || !(m.get("type") instanceof String type) || !type.endsWith(".LogitScore")) continue;
            if (!(m.get("path") instanceof String path) || !path.matches("[\\w.-]+") || path.startsWith(".")) {
                throw new ModelFormatException(modules + ": the LogitScore module's path must be a folder name beside it, found "
                        + Json.write(m.get("path")));
            }
            Path config = dir.resolve(path).resolve("config.json");
            Map<String, Object> answers = Json.parseObjectFile(config);
            Object yes = answers.get("true_token_id"), no = answers.get("false_token_id");
            RerankerPrompt prompt = scorer.prompt();
            if (!(yes instanceof Long y && y == scorer.yesId()) || !(no instanceof Long n && n == scorer.noId())) {
                throw new ModelFormatException(config + ": true_token_id " + Json.write(yes) + " and false_token_id " + Json.write(no)
                        + " are not the ids of " + Json.write(prompt.yes()) + " (" + scorer.yesId() + ") and " + Json.write(prompt.no())
                        + " (" + scorer.noId() + "): rerank4j runs its reference's recipe only, logit[" + prompt.yes() + "] − logit["
                        + prompt.no() + "] after its prompt");
            }
            LOG.log(System.Logger.Level.INFO, "{0}: a sentence-transformers CrossEncoder; rerank4j builds its reference''s prompt "
                    + "rather than rendering the tokenizer''s chat template", dir);
        }
    }

    /** tokenizer_config.json's mask_token (a string or an AddedToken object), else "[MASK]". */
    private static String maskToken(Path dir) {
        Path file = dir.resolve("tokenizer_config.json");
        if (!Files.isRegularFile(file)) return "[MASK]";
        Object v = Json.parseObjectFile(file).get("mask_token");
        if (v instanceof String s) return s;
        if (v instanceof Map<?, ?> m && m.get("content") instanceof String s) return s;
        return "[MASK]";
    }

    /**
     * A token limit of {@code file} (HF's 1e30 "no limit" is one, read as Long.MAX_VALUE), or null where the file or the field
     * is absent or null. Anything else but a positive whole number is refused: a string, or a limit of 0, was skipped, so that
     * the next source's limit cut the texts where the model's own library would not have.
     */
    private static Long longField(Path file, String field) {
        if (!Files.isRegularFile(file)) return null;
        Object v = Json.parseObjectFile(file).get(field);
        if (v == null) return null;
        if (!(v instanceof Number n) || n instanceof Double d && !(d == Math.rint(d))) {
            throw new ModelFormatException(file + ": " + field + " must be a whole number of tokens, found " + Json.write(v));
        }
        if (n.doubleValue() < 1) {
            throw new ModelFormatException(file + ": " + field + " must be at least 1 token, found " + Json.write(v));
        }
        return n.longValue();
    }

    /**
     * One score per document, in the order of {@code docs}. Inputs longer than {@link #maxLength()}
     * are truncated as the model's reference implementation does (sentence-transformers' {@code longest_first}
     * for BERT cross-encoders, FlagEmbedding's query cap for XLM-R rerankers), and the log says how many: a WARNING
     * the first time this reranker cuts, DEBUG after that.
     *
     * @throws IllegalArgumentException if the query or a document is null, or {@code docs} is empty
     */
    public float[] score(String query, List<String> docs) {
        return run(query, snapshot(docs)).values();
    }

    /**
     * One score per pair, in the order of {@code pairs}: several queries, each with its own documents, in one call.
     * A cross-encoder batches all the pairs together; a bi-encoder or ColBERT model encodes each distinct query and each
     * distinct document once.
     * Each score is the one {@link #score(String, List)} gives for the same query and document, and inputs are
     * truncated the same way.
     *
     * @throws IllegalArgumentException if {@code pairs} is null or empty, or holds a null pair, query or document
     */
    public float[] score(List<Pair> pairs) {
        if (pairs == null) throw new IllegalArgumentException("pairs is null");
        List<String> queries = new ArrayList<>(pairs.size());
        List<String> docs = new ArrayList<>(pairs.size());
        for (int i = 0; i < pairs.size(); i++) {
            Pair pair = pairs.get(i);
            if (pair == null) throw new IllegalArgumentException("pairs[" + i + "] is null");
            if (pair.query() == null) throw new IllegalArgumentException("pairs[" + i + "].query is null");
            if (pair.doc() == null) throw new IllegalArgumentException("pairs[" + i + "].doc is null");
            queries.add(pair.query());
            docs.add(pair.doc());
        }
        if (docs.isEmpty()) throw new IllegalArgumentException("pairs is empty: nothing to score");
        return run(queries, docs).values();
    }

    /**
     * The {@code topK} best documents, highest score first; ties keep the caller's order, and a NaN score (only
     * weights holding NaN make one) ranks last. Each result carries its index in {@code docs} and the text that
     * was scored.
     */
    public List<Ranked> rank(String query, List<String> docs, int topK) {
        if (topK < 1) {
            throw new IllegalArgumentException("topK must be ≥ 1, got " + topK);
        }
        List<String> snapshot = snapshot(docs);
        Scorer.Scores scores = run(query, snapshot);
        List<Ranked> ranked = new ArrayList<>(snapshot.size());
        for (int i = 0; i < snapshot.size(); i++) {
            ranked.add(new Ranked(i, scores.values()[i], snapshot.get(i), scores.truncated()[i]));
        }
        ranked.sort(Ranked.BEST_FIRST);
        return List.copyOf(ranked.subList(0, Math.min(topK, ranked.size())));
    }

    /** Scores {@code query} with each of {@code snapshot}, a copy the caller cannot change meanwhile. */
    private Scorer.Scores run(String query, List<String> snapshot) {
        if (query == null) throw new IllegalArgumentException("query is null");
        if (snapshot.isEmpty()) throw new IllegalArgumentException("docs is empty: nothing to score");
        return run(java.util.Collections.nCopies(snapshot.size(), query), snapshot);
    }

    /** Scores the pairs (queries[i], docs[i]), lists the caller cannot change meanwhile. */
    private Scorer.Scores run(List<String> queries, List<String> docs) {
        // warned of after the call, not inside it: a log handler may close this reranker
        return warnOfTruncation(whileOpen(() -> scorer.score(queries, docs)));
    }

    /** Runs {@code body} while this reranker is open: close() waits for it, and after close() it does not start. */
    private <T> T whileOpen(java.util.function.Supplier<T> body) {
        // once close() has begun a call fails at once: it would wait for the calls close() waits for (a hot reload's old
        // model: seconds), deaf to its thread's interrupt, and then fail anyway
        if (closing) throw new IllegalStateException("this Reranker is closed (" + dir + ")");
        try {
            lifecycle.readLock().lockInterruptibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.util.concurrent.CancellationException("the calling thread was interrupted while the call waited for close() ("
                    + Thread.currentThread().getName() + "'s interrupt status stays set)");
        }
        try {
            if (closed) throw new IllegalStateException("this Reranker is closed (" + dir + ")");
            return body.get();
        } finally {
            lifecycle.readLock().unlock();
            java.lang.ref.Reference.reachabilityFence(this); // until the call is done: see UNCLOSED
        }
    }

    private Scorer.Scores warnOfTruncation(Scorer.Scores scores) {
        if (scores.queriesTruncated() == 0 && scores.truncatedCount() == 0) return scores;
        Cut cut = cut();
        if (scores.queriesTruncated() > 0 && scores.queries() == 1) {
            LOG.log(cut.level(), "truncated the query to {0} tokens, as the model''s reference implementation does{1}",
                    scorer.queryMaxLength(), cut.note());
        } else if (scores.queriesTruncated() > 0) {
            LOG.log(cut.level(), "truncated {0} of {1} queries to {2} tokens, as the model''s reference implementation does{3}",
                    scores.queriesTruncated(), scores.queries(), scorer.queryMaxLength(), cut.note());
        }
        logInputsCut(cut, scores.truncatedCount(), scores.truncated().length);
        return scores;
    }

    private void warnOfTruncation(int truncated, int inputs) {
        if (truncated > 0) logInputsCut(cut(), truncated, inputs);
    }

    private void logInputsCut(Cut cut, int truncated, int inputs) {
        if (truncated > 0) {
            LOG.log(cut.level(), "truncated {0} of {1} inputs to {2} tokens, as the model''s reference implementation does{3}",
                    truncated, inputs, scorer.maxLength(), cut.note());
        }
    }

    /** How a call's cuts are logged: the first call of this reranker that cuts warns, and says that later ones are DEBUG. */
    private record Cut(System.Logger.Level level, String note) {}

    private Cut cut() {
        return warnedOfCuts.compareAndSet(false, true)
                ? new Cut(System.Logger.Level.WARNING, " (this reranker logs later cuts at DEBUG; Ranked.truncated() marks each document)")
                : new Cut(System.Logger.Level.DEBUG, "");
    }

    /**
     * ColBERT only: the token vectors of {@code docs}, to keep and score later with
     * {@link #score(String, DocumentEmbeddings, int[])}. Costs one encoder pass per document and
     * {@code 4 · dim} bytes per kept token.
     *
     * @throws UnsupportedOperationException if this is not a ColBERT model
     */
    public DocumentEmbeddings encodeDocuments(List<String> docs) {
        List<String> snapshot = snapshot(docs);
        boolean[] truncated = new boolean[snapshot.size()];
        DocumentEmbeddings embeddings = colbert(c -> c.encodeDocuments(snapshot, truncated));
        warnOfTruncation(Scorer.Scores.count(truncated), truncated.length);
        return embeddings;
    }

    /** A copy of the caller's documents (it may change its list meanwhile), none of them null. */
    private static List<String> snapshot(List<String> docs) {
        if (docs == null) throw new IllegalArgumentException("docs is null");
        List<String> copy = new ArrayList<>(docs.size());
        for (int i = 0; i < docs.size(); i++) {
            String doc = docs.get(i);
            if (doc == null) throw new IllegalArgumentException("docs[" + i + "] is null");
            copy.add(doc);
        }
        return copy;
    }

    /**
     * ColBERT only: MaxSim scores of {@code query} against documents {@code candidateIds} of {@code docs}
     * (indexes into {@code docs}, in the order given; repeats allowed). Runs the encoder on the query only.
     *
     * @throws IllegalArgumentException      if {@code docs} was made by another model (its fingerprint differs)
     *                                       or a candidate id is out of range
     * @throws UnsupportedOperationException if this is not a ColBERT model
     */
    public float[] score(String query, DocumentEmbeddings docs, int[] candidateIds) {
        if (query == null) throw new IllegalArgumentException("query is null");
        if (docs == null) throw new IllegalArgumentException("docs is null");
        if (candidateIds == null) throw new IllegalArgumentException("candidateIds is null");
        int[] ids = candidateIds.clone();
        return warnOfTruncation(colbert(c -> c.score(query, docs, ids))).values();
    }

    private <T> T colbert(java.util.function.Function<Scorer.Colbert, T> body) {
        return whileOpen(() -> {
            if (!(scorer instanceof Scorer.Colbert c)) {
                throw new UnsupportedOperationException("document embeddings need a ColBERT model; " + dir + " is not one");
            }
            return body.apply(c);
        });
    }

    /** For tests in this package. */
    Scorer scorer() {
        return scorer;
    }

    /**
     * Documents a causal reranker warms up on: each carries the model card's prompt (about 60 tokens) and a token of
     * Qwen3-0.6B costs 40 times MiniLM-L6's, so 40 took 62 s on a Qwen3-Reranker-0.6B-shaped model (2 threads, Xeon,
     * 2026-12-06); 8 took 17 s and 4 took 10 s, and the call after ran as fast each way (two short documents: 0.95–1.03 s
     * against 0.98 s after 40).
     */
    private static final int CAUSAL_WARM_UP_DOCS = 4;

    /**
     * Runs the model on made-up text so that the JIT compiles its kernels now rather than during the first real call,
     * and returns how long that took: a service calls it before it takes traffic. Until C2 has compiled them the JVM
     * runs the Vector API kernels at a small fraction of their speed, so the first call of a fresh JVM pays seconds
     * (figures in README.md). Three calls on 40 short documents (1 to 32 words, within the maximum length; a causal
     * reranker 4, which its prompt makes long) compile what calls of long documents and of a single one run too
     * (measured on all-MiniLM-L6-v2), and keep the arithmetic small for large models. Scores of later calls are those of
     * a warm JVM. Logs nothing.
     *
     * @throws IllegalStateException if this reranker is closed
     * @throws java.util.concurrent.CancellationException if the thread is interrupted, as for a call
     */
    public java.time.Duration warmUp() {
        int words = Math.max(1, Math.min(32, maxLength() - 8));
        List<String> docs = new ArrayList<>();
        int count = scorer instanceof Scorer.Causal ? CAUSAL_WARM_UP_DOCS : 40;
        for (int i = 0; i < count; i++) docs.add("word ".repeat(1 + i * 7919 % words).strip());
        List<String> queries = java.util.Collections.nCopies(docs.size(), "warm up the model");
        long start = System.nanoTime();
        whileOpen(() -> {
            for (int round = 0; round < 3; round++) scorer.score(queries, docs);
            return null;
        });
        return java.time.Duration.ofNanos(System.nanoTime() - start);
    }

    /** Tokens per input after which text is truncated. */
    public int maxLength() {
        return scorer.maxLength();
    }

    /**
     * What this reranker does with its model, in words, in a fixed order: {@code model} (the directory), {@code kind} and
     * its score, {@code encoder}, {@code weights}, {@code tokenizer} (the file it was read from), {@code max length} and
     * where it was read, {@code pairs cut} (cross-encoders and causal rerankers), {@code backend}. For people and logs;
     * the wording may change.
     */
    public Map<String, String> description() {
        return description;
    }

    /** The backend running this model: "cpu" or "cuda" (see {@link Options#backend()}). */
    public String backendName() {
        return backend.name();
    }

    /**
     * Waits for running calls, then unmaps the weights file and stops the thread pool. Idempotent. A call made once close()
     * has begun, while it waits, throws {@link IllegalStateException} at once rather than wait with it.
     *
     * @throws IllegalStateException if called from inside a call of this reranker (a log handler's), which it would wait
     *                               for without end
     */
    @Override
    public void close() {
        if (lifecycle.getReadHoldCount() > 0) {
            throw new IllegalStateException("close() called from inside a call of this Reranker (" + dir + "), which it would wait for");
        }
        closing = true;
        lifecycle.writeLock().lock();
        try {
            if (closed) return;
            closed = true;
            backend.close();
            unmap.clean();
        } finally {
            lifecycle.writeLock().unlock();
        }
    }
}
