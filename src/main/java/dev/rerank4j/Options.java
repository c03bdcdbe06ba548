package dev.rerank4j;

/**
 * How a {@link Reranker} loads and runs a model. Immutable; start from {@link #defaults()} and change
 * fields with the {@code with…} methods.
 *
 * @param maxLength     tokens per input (pair for cross-encoders), special tokens included; 0 means the
 *                      model's own limit (sentence-transformers' max_seq_length, else for a reranker on a causal
 *                      decoder its reference's default of 8,192, else tokenizer_config's model_max_length, else the
 *                      position table). Longer inputs are truncated as HF does. mxbai-rerank-v2 bounds the pair with
 *                      it and adds its template's tokens on top (lowered where the two would pass the positions, as
 *                      its library does). A ColBERT model takes its lengths from its own files and refuses one at
 *                      load; so does a value past the model's positions or too small for its special tokens.
 * @param batchSize     sequences in flight at once: one forward pass of this many, or, where a call's batches run
 *                      side by side on the CPU, ⌈batchSize / threads⌉ per thread; larger batches use more memory,
 *                      not fewer FLOPs
 * @param threads       worker threads of this reranker's own pool on the CPU (unused on CUDA); more than
 *                      {@link Runtime#availableProcessors()} run as that many (with a warning), since each kernel's
 *                      helpers poll for work
 * @param scoreFunction what is applied to a cross-encoder's or causal reranker's logit; a bi-encoder or ColBERT model
 *                      refuses any but {@link ScoreFunction#MODEL_DEFAULT} at load
 * @param backend       where the kernels run: {@link BackendChoice#AUTO} (default), CPU or CUDA
 * @param instruction   the task an instruction-following reranker is told: Qwen3-Reranker's, in place of its default
 *                      ("Given a web search query, retrieve relevant passages that answer the query"); mxbai-rerank-v2's,
 *                      which has none by default (empty: none, as its library reads it); null for the default. A model
 *                      that takes no instruction refuses one at load.
 */
public record Options(int maxLength, int batchSize, int threads, ScoreFunction scoreFunction, BackendChoice backend, String instruction) {

    /**
     * The function turning a cross-encoder's (or causal reranker's) logit into the returned score. Bi-encoders return
     * the similarity their files name (cosine or dot product), ColBERT models MaxSim; neither takes one.
     */
    public enum ScoreFunction {
        /**
         * The activation sentence-transformers named when it saved the model (Identity or Sigmoid: in
         * config_sentence_transformers.json in version 6, in config.json before; ms-marco cross-encoders name
         * Identity); the raw logit when the files name none (FlagEmbedding's default for bge-reranker-*); for a reranker on a
         * causal language model, what its reference reports: P(yes) = sigmoid(logit[yes] − logit[no]) for Qwen3-Reranker (its
         * model card), the raw logit["1"] − logit["0"] for mxbai-rerank-v2 (mxbai_rerank's predict).
         */
        MODEL_DEFAULT,
        /** The raw logit. */
        RAW,
        /** sigmoid(logit), in (0, 1): TEI's default and FlagEmbedding's normalize=True. */
        SIGMOID
    }

    /** Where a model's kernels run. */
    public enum BackendChoice {
        /**
         * CUDA if the JVM grants native access ({@code --enable-native-access}), the NVIDIA driver loads, cuInit
         * succeeds and a GPU of compute capability 8.0 or newer answers; the CPU otherwise. The model's load line says
         * which and why; where the GPU then fails while the model loads (full, shared), a warning says so and that the model
         * runs on the CPU.
         */
        AUTO,
        /** The pure-Java Vector API kernels, on {@link Options#threads()} threads. */
        CPU,
        /**
         * The CUDA kernels on the first GPU of compute capability 8.0 or newer; loading fails with a
         * {@code dev.rerank4j.backend.cuda.CudaException} (an {@link IllegalStateException}) naming what is
         * missing (the driver library, a device, the compute capability) where there is none.
         */
        CUDA;

        /**
         * The choice {@code name} names in any case ({@code "auto"}, {@code "cpu"}, {@code "cuda"}), for a setting read from
         * a command line or a configuration file.
         *
         * @throws IllegalArgumentException for any other name, with the message "expected auto, cpu or cuda, not NAME"
         */
        public static BackendChoice named(String name) {
            for (BackendChoice c : values()) {
                if (c.name().equalsIgnoreCase(name)) return c;
            }
            throw new IllegalArgumentException("expected auto, cpu or cuda, not " + name);
        }
    }

    public Options {
        if (maxLength < 0) throw new IllegalArgumentException("maxLength must be ≥ 0 (0 = model default), got " + maxLength);
        if (batchSize < 1) throw new IllegalArgumentException("batchSize must be ≥ 1, got " + batchSize);
        if (threads < 1) throw new IllegalArgumentException("threads must be ≥ 1, got " + threads);
        if (scoreFunction == null) throw new IllegalArgumentException("scoreFunction must not be null");
        if (backend == null) throw new IllegalArgumentException("backend must not be null");
    }

    public static Options defaults() {
        return new Options(0, 32, Runtime.getRuntime().availableProcessors(), ScoreFunction.MODEL_DEFAULT, BackendChoice.AUTO, null);
    }

    public Options withMaxLength(int maxLength) {
        return new Options(maxLength, batchSize, threads, scoreFunction, backend, instruction);
    }

    public Options withBatchSize(int batchSize) {
        return new Options(maxLength, batchSize, threads, scoreFunction, backend, instruction);
    }

    public Options withThreads(int threads) {
        return new Options(maxLength, batchSize, threads, scoreFunction, backend, instruction);
    }

    public Options withScoreFunction(ScoreFunction scoreFunction) {
        return new Options(maxLength, batchSize, threads, scoreFunction, backend, instruction);
    }

    public Options withBackend(BackendChoice backend) {
        return new Options(maxLength, batchSize, threads, scoreFunction, backend, instruction);
    }

    /** The instruction an instruction-following reranker is given (null: its default); see {@link #instruction()}. */
    public Options withInstruction(String instruction) {
        return new Options(maxLength, batchSize, threads, scoreFunction, backend, instruction);
    }
}
