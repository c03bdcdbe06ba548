package dev.rerank4j.model;

import dev.rerank4j.ModelFormatException;
import dev.rerank4j.backend.Activation;
import dev.rerank4j.backend.Backend;
import dev.rerank4j.backend.LinearWeights;
import dev.rerank4j.io.ModelConfig;
import dev.rerank4j.io.Tensor;
import dev.rerank4j.tokenize.Encoding;

import java.lang.foreign.Arena;
import java.lang.ref.SoftReference;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.function.Function;

/**
 * A BERT-family transformer encoder: embeddings, then N × (self-attention, FFN), post-LayerNorm.
 * BERT, RoBERTa, XLM-R and ELECTRA share this one code path; what differs is data in {@link ModelConfig}
 * (position offset, number of token types, LayerNorm eps, ELECTRA's embedding width) and the weight prefix the caller binds.
 * Runs ragged batches (no padding). Immutable after loading; safe to share between threads.
 */
public final class Encoder {
    /**
     * Token embeddings: word [V,E], position [P,E], token type [T,E], then LayerNorm, then (ELECTRA, where E ≠ H) a
     * linear layer [H,E] to the encoder's width; project is null where E = H.
     */
    private record Embeddings(Tensor word, Tensor position, Tensor tokenType, float[] normGamma, float[] normBeta,
                              LinearWeights project) {}

    /** One layer. qkv: W_q, W_k, W_v stacked [3H, H]; ffnIn [I, H]; ffnOut [H, I]. */
    private record Layer(LinearWeights qkv, LinearWeights attentionOut, float[] attentionNormGamma, float[] attentionNormBeta,
                         LinearWeights ffnIn, LinearWeights ffnOut, float[] outputNormGamma, float[] outputNormBeta) {}

    private final ModelConfig config;
    private final Backend backend;
    private final Embeddings embeddings;
    private final List<Layer> layers;
    /** Work arrays given back, most recent last; guarded by itself. */
    private final List<SoftReference<Buffers>> idleScratch = new ArrayList<>();

    private Encoder(ModelConfig config, Backend backend, Embeddings embeddings, List<Layer> layers) {
        this.config = config;
        this.backend = backend;
        this.embeddings = embeddings;
        this.layers = layers;
    }

    /** Binds the encoder weights found under {@code weights}' prefix, checking every shape against {@code config}. */
    static Encoder load(Weights weights, ModelConfig config, Backend backend) {
        long h = config.hiddenSize();
        long e = config.embeddingSize();
        long inner = config.intermediateSize();
        if (e > 3 * h) { // the embeddings are laid out in the scratch's Q/K/V rows before they are projected
            throw new ModelFormatException("config.json: embedding_size " + e + " is more than 3 × hidden_size " + h
                    + ", which rerank4j does not support");
        }
        Embeddings embeddings = new Embeddings(
                weights.get("embeddings.word_embeddings.weight", config.vocabSize(), e),
                weights.get("embeddings.position_embeddings.weight", config.maxPositionEmbeddings(), e),
                weights.get("embeddings.token_type_embeddings.weight", config.typeVocabSize(), e),
                weights.vector("embeddings.LayerNorm.weight", e),
                weights.vector("embeddings.LayerNorm.bias", e),
                config.projectsEmbeddings()
                        ? backend.prepareLinear(weights.get("embeddings_project.weight", h, e), weights.get("embeddings_project.bias", h))
                        : null);
        List<Layer> layers = new ArrayList<>();
        for (int i = 0; i < config.numLayers(); i++) {
            String l = "encoder.layer." + i + ".";
            String self = l + "attention.self.";
            LinearWeights qkv;
            try (Arena fused = Arena.ofConfined()) { // the backend packs its own copy
                qkv = backend.prepareLinear(
                        Weights.concatRows(fused, self + "qkv.weight",
                                weights.get(self + "query.weight", h, h), weights.get(self + "key.weight", h, h), weights.get(self + "value.weight", h, h)),
                        Weights.concatRows(fused, self + "qkv.bias",
                                weights.get(self + "query.bias", h), weights.get(self + "key.bias", h), weights.get(self + "value.bias", h)));
            }
            layers.add(new Layer(
                    qkv,
                    backend.prepareLinear(weights.get(l + "attention.output.dense.weight", h, h), weights.get(l + "attention.output.dense.bias", h)),
                    weights.vector(l + "attention.output.LayerNorm.weight", h),
                    weights.vector(l + "attention.output.LayerNorm.bias", h),
                    backend.prepareLinear(weights.get(l + "intermediate.dense.weight", inner, h), weights.get(l + "intermediate.dense.bias", inner)),
                    backend.prepareLinear(weights.get(l + "output.dense.weight", h, inner), weights.get(l + "output.dense.bias", h)),
                    weights.vector(l + "output.LayerNorm.weight", h),
                    weights.vector(l + "output.LayerNorm.bias", h)));
        }
        // LayerNorm parameters go to the device once, not with every call
        for (float[] p : new float[][] {embeddings.normGamma(), embeddings.normBeta()}) backend.keepOnDevice(p);
        for (Layer layer : layers) {
            for (float[] p : new float[][] {layer.attentionNormGamma(), layer.attentionNormBeta(), layer.outputNormGamma(),
                    layer.outputNormBeta()}) {
                backend.keepOnDevice(p);
            }
        }
        return new Encoder(config, backend, embeddings, List.copyOf(layers));
    }

    public ModelConfig config() {
        return config;
    }

    /**
     * Work arrays for batches of up to {@code maxTokens} tokens, reused across layers and batches; closing
     * them gives them back for later calls, so a steady stream of calls allocates no activations. A call takes
     * the most recently given back one that fits (dropping those it passes over that are too small: the one it
     * makes instead replaces them), else makes one up to 1/8 larger than asked, so calls of similar sizes
     * share it. Idle ones are held softly: the collector may take them back under memory pressure.
     */
    public Scratch scratch(int maxTokens) {
        if (maxTokens < 0) throw new IllegalArgumentException("maxTokens must be ≥ 0, got " + maxTokens);
        synchronized (idleScratch) {
            while (!idleScratch.isEmpty()) {
                Buffers b = idleScratch.removeLast().get();
                if (b != null && b.capacity >= maxTokens) return new Scratch(this, b);
            }
        }
        return new Scratch(this, new Buffers(backend, roundUp(maxTokens), config.hiddenSize(), config.intermediateSize()));
    }

    /** n rounded up to a multiple of an eighth of its highest power of two: at most 12.5% more. */
    static int roundUp(int n) {
        int step = Math.max(1, Integer.highestOneBit(Math.max(1, n)) / 8);
        return (int) Math.min(Integer.MAX_VALUE, ((long) n + step - 1) / step * step);
    }

    /** The activation arrays a scratch lends, kept between calls. */
    private static final class Buffers {
        final int capacity;
        final float[] hidden;
        final float[] qkv;
        final float[] context;
        final float[] attended;
        final float[] ffn;

        Buffers(Backend backend, int maxTokens, int hiddenSize, int intermediateSize) {
            capacity = maxTokens;
            hidden = new float[Math.multiplyExact(maxTokens, hiddenSize)];
            qkv = new float[Math.multiplyExact(maxTokens, 3 * hiddenSize)];
            context = new float[hidden.length];
            attended = new float[hidden.length];
            ffn = new float[backend.feedForwardHidden(maxTokens, intermediateSize)];
            // between layers the activations stay where the kernels run; forward hands back only its result
            for (float[] a : new float[][] {hidden, qkv, context, attended, ffn}) backend.keepOnDevice(a);
        }
    }

    /**
     * Activations of one call; one per calling thread, never shared. {@link #close()} gives its arrays back to the
     * encoder, once: each take is a scratch of its own, so a second close of one cannot lend its arrays to two calls.
     */
    public static final class Scratch implements AutoCloseable {
        private final Encoder owner;
        private final Buffers buffers;
        private boolean closed; // guarded by owner.idleScratch
        /** The thread whose interrupt stops the call this scratch serves (null: none), whichever thread runs it. */
        private volatile Thread caller;

        private Scratch(Encoder owner, Buffers buffers) {
            this.owner = owner;
            this.buffers = buffers;
        }

        /** Has each layer run with this scratch first check whether {@code caller} was interrupted. */
        void stopWhenInterrupted(Thread caller) {
            this.caller = caller;
        }

        /** Ends the call, between two layers, if its caller was interrupted; the interrupt status stays set. */
        void stopIfInterrupted() {
            Thread t = caller;
            if (t != null && t.isInterrupted()) {
                throw new CancellationException("the calling thread was interrupted, so the call stopped (" + t.getName()
                        + "'s interrupt status stays set)");
            }
        }

        /** Tokens a batch may have. */
        public int capacity() {
            return buffers.capacity;
        }

        float[] hidden() {
            return buffers.hidden;
        }

        float[] qkv() {
            return buffers.qkv;
        }

        float[] context() {
            return buffers.context;
        }

        float[] attended() {
            return buffers.attended;
        }

        float[] ffn() {
            return buffers.ffn;
        }

        @Override
        public void close() {
            synchronized (owner.idleScratch) {
                if (closed) return;
                closed = true;
                owner.idleScratch.add(new SoftReference<>(buffers));
            }
        }
    }

    /** What a model does with one batch of a call, in {@code scratch}, with {@code lane}, the state of the thread running it. */
    interface BatchTask<S> {
        void run(Batcher.Slice slice, Scratch scratch, S lane);
    }

    private record Lane<S>(Scratch scratch, S state) {}

    /**
     * Runs {@code task} on every batch of {@code encodings} (at most {@code batchSize} sequences each): side by
     * side, one batch per core, where the backend has several cores and the work splits evenly between them
     * ({@link Batcher#sideBySide}); else one batch after another, each kernel on all cores. Each thread taking
     * part gets a scratch of its own and {@code lane} of it, for its own output buffers.
     */
    <S> void forEachBatch(List<Encoding> encodings, int batchSize, Function<Scratch, S> lane, BatchTask<S> task) {
        Thread caller = Thread.currentThread();
        int width = 2 * config.hiddenSize() + config.intermediateSize();
        Optional<List<Batcher.Slice>> sideBySide = Batcher.sideBySide(encodings, batchSize, backend.lanes(), width);
        if (sideBySide.isPresent()) {
            List<Batcher.Slice> slices = sideBySide.get();
            int maxTokens = Batcher.maxTokens(slices);
            List<Scratch> taken = Collections.synchronizedList(new ArrayList<>());
            try {
                backend.sideBySide(slices.size(), () -> {
                    Scratch scratch = scratch(maxTokens);
                    scratch.stopWhenInterrupted(caller);
                    taken.add(scratch);
                    return new Lane<>(scratch, lane.apply(scratch));
                }, (l, i) -> task.run(slices.get(i), l.scratch(), l.state()));
            } finally {
                taken.forEach(Scratch::close);
            }
            return;
        }
        List<Batcher.Slice> slices = Batcher.split(encodings, batchSize);
        try (Scratch scratch = scratch(Batcher.maxTokens(slices))) {
            scratch.stopWhenInterrupted(caller);
            S state = lane.apply(scratch);
            for (Batcher.Slice slice : slices) task.run(slice, scratch, state);
        }
    }

    /**
     * The last hidden states of {@code batch}: row t of the returned array (H floats) belongs to token t.
     * The array is {@code scratch}'s and is overwritten by the next call with the same scratch.
     */
    public float[] forward(RaggedBatch batch, Scratch scratch) {
        return forward(batch, null, scratch);
    }

    /**
     * As {@link #forward(RaggedBatch, Scratch)}, but sequence b's tokens attend only to its first
     * {@code keyLengths[b]} tokens (null: all): an attention mask whose zeros trail, as ColBERT's query
     * [MASK] padding has it.
     */
    public float[] forward(RaggedBatch batch, int[] keyLengths, Scratch scratch) {
        float[] x = embed(batch, scratch);
        for (Layer layer : layers) layer(layer, batch, keyLengths, x, scratch);
        backend.toHost(x);
        return x;
    }

    /**
     * The last hidden state of each sequence's first token only: row b of the returned array (H floats) is
     * sequence b's, equal to row {@code batch.start(b)} of {@link #forward(RaggedBatch, Scratch)} up to rounding. The
     * last layer's attention needs only the first tokens' queries, which the backend may apply to every token's input
     * without forming its keys and values ({@link Backend#firstTokenSelfAttention}), and past its attention nothing
     * reaches the first token from the others, so the rest of that layer runs on one row per sequence. The array is
     * {@code scratch}'s, as with forward.
     */
    public float[] firstTokenStates(RaggedBatch batch, Scratch scratch) {
        int h = config.hiddenSize();
        float[] x = embed(batch, scratch);
        for (Layer layer : layers.subList(0, layers.size() - 1)) layer(layer, batch, null, x, scratch);
        scratch.stopIfInterrupted(); // the last layer, first tokens only, runs below
        Layer last = layers.getLast();
        backend.firstTokenSelfAttention(x, batch.seqStarts(), last.qkv, scratch.qkv(), config.numHeads(), config.headDim(),
                scratch.context());                                                                               // [B, H]
        // The residual's first-token rows, moved to the front: start(b) ≥ b, so no row is overwritten before it is read.
        backend.toHost(x);
        for (int b = 0; b < batch.sequences(); b++) System.arraycopy(x, batch.start(b) * h, x, b * h, h);
        attendedFeedForward(last, x, batch.sequences(), scratch);
        backend.toHost(x);
        return x;
    }

    /** One whole layer on every token of batch, x in place; first, the call stops here if its caller was interrupted. */
    private void layer(Layer layer, RaggedBatch batch, int[] keyLengths, float[] x, Scratch scratch) {
        scratch.stopIfInterrupted();
        backend.selfAttention(x, batch.seqStarts(), keyLengths, layer.qkv, scratch.qkv(), config.numHeads(), config.headDim(),
                scratch.context());                                                                               // [T, H]
        attendedFeedForward(layer, x, batch.tokens(), scratch);
    }

    /**
     * x ← the embeddings of batch's tokens, after their LayerNorm and, where the model has one, the projection to the
     * encoder's width (written first to the Q/K/V rows, unused until the first layer); x is scratch's.
     */
    private float[] embed(RaggedBatch batch, Scratch scratch) {
        int tokens = batch.tokens();
        if (tokens > scratch.capacity()) {
            throw new IllegalArgumentException("batch of " + tokens + " tokens exceeds scratch capacity " + scratch.capacity());
        }
        float[] x = scratch.hidden();
        float[] embedded = embeddings.project == null ? x : scratch.qkv();
        backend.toHost(embedded); // written here (after a failed call the device may still hold the truth)
        embed(batch, embedded);
        backend.addLayerNorm(embedded, null, tokens, config.embeddingSize(), embeddings.normGamma, embeddings.normBeta,
                config.layerNormEps());
        if (embeddings.project != null) backend.linear(embedded, tokens, embeddings.project, x, Activation.NONE); // [T, E] → [T, H]
        return x;
    }

    /**
     * The rest of a layer on {@code rows} rows, given attention's output in scratch.context():
     * a = LN(context·W_oᵀ + x), x ← LN(GELU(a·W_inᵀ)·W_outᵀ + a).
     */
    private void attendedFeedForward(Layer layer, float[] x, int rows, Scratch scratch) {
        int h = config.hiddenSize();
        float eps = config.layerNormEps();
        backend.linear(scratch.context(), rows, layer.attentionOut, scratch.attended(), Activation.NONE); // [R, H]
        backend.addLayerNorm(scratch.attended(), x, rows, h, layer.attentionNormGamma, layer.attentionNormBeta, eps);
        backend.feedForward(scratch.attended(), rows, layer.ffnIn, Activation.GELU, layer.ffnOut, scratch.ffn(), x); // [R, I] → [R, H]
        backend.addLayerNorm(x, scratch.attended(), rows, h, layer.outputNormGamma, layer.outputNormBeta, eps);
    }

    /**
     * x[t] = word[id] + position[offset + p] + tokenType[type], with p counting from 0 in each sequence and
     * offset = {@link ModelConfig#positionOffset()} (0 for BERT, pad_token_id + 1 for RoBERTa/XLM-R;
     * sequences are never padded, so every token is real and counts). Rows are the embeddings' width.
     */
    private void embed(RaggedBatch batch, float[] x) {
        int width = config.embeddingSize();
        int offset0 = config.positionOffset();
        float[] row = new float[width];
        for (int b = 0; b < batch.sequences(); b++) {
            int start = batch.start(b);
            int length = batch.length(b);
            if (length > config.maxInputLength()) {
                throw new IllegalArgumentException("sequence of " + length + " tokens exceeds the model's maximum input of "
                        + config.maxInputLength() + " (max_position_embeddings " + config.maxPositionEmbeddings()
                        + (offset0 > 0 ? " − position offset " + offset0 + ")" : ")"));
            }
            for (int p = 0; p < length; p++) {
                int t = start + p;
                int id = batch.ids()[t];
                int type = batch.typeIds()[t];
                if (id < 0 || id >= config.vocabSize()) {
                    throw new ModelFormatException("token id " + id + " is outside the embedding table of " + config.vocabSize() + " rows (tokenizer and model disagree)");
                }
                if (type < 0 || type >= config.typeVocabSize()) {
                    throw new ModelFormatException("token type " + type + " is outside the " + config.typeVocabSize() + " token types of the model");
                }
                int offset = t * width;
                embeddings.word.read((long) id * width, width, x, offset);
                addRow(embeddings.position, offset0 + p, row, x, offset);
                addRow(embeddings.tokenType, type, row, x, offset);
            }
        }
    }

    /** dst[offset …] += table's row {@code index}, read through {@code buffer} (one row wide). */
    private static void addRow(Tensor table, long index, float[] buffer, float[] dst, int offset) {
        table.read(index * buffer.length, buffer.length, buffer, 0);
        for (int i = 0; i < buffer.length; i++) dst[offset + i] += buffer[i];
    }
}
