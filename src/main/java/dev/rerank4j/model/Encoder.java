package dev.rerank4j.model;

import dev.rerank4j.backend.Backend;
import dev.rerank4j.io.Cancellation;
import dev.rerank4j.io.ModelConfig;
import dev.rerank4j.tokenize.Encoding;

import java.lang.ref.SoftReference;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * A transformer encoder run on ragged batches (no padding): its layers' math ({@link EncoderLayers}: BERT's family,
 * ModernBERT, or a Qwen causal decoder), the work arrays each call borrows and gives back, batches side by side on the
 * backend's lanes, and a caller's interrupt between layers. Immutable after loading; safe to share between threads.
 */
public final class Encoder {
    private final ModelConfig config;
    private final Backend backend;
    private final EncoderLayers layers;
    /** Work arrays given back, most recent last; guarded by itself. */
    private final List<SoftReference<Buffers>> idleScratch = new ArrayList<>();

    private Encoder(ModelConfig config, Backend backend, EncoderLayers layers) {
        this.config = config;
        this.backend = backend;
        this.layers = layers;
    }

    /**
     * Binds the encoder weights found under {@code weights}' prefix, checking every shape against {@code config}:
     * ModernBERT's where config.json says model_type "modernbert", the Qwen decoder's where "qwen2" or "qwen3", else BERT's family's.
     */
    static Encoder load(Weights weights, ModelConfig config, Backend backend) {
        EncoderLayers layers = config.modernBert() != null ? ModernBertLayers.load(weights, config, backend)
                : config.qwen() != null ? QwenLayers.load(weights, config, backend)
                : BertLayers.load(weights, config, backend);
        return new Encoder(config, backend, layers);
    }

    /** The tensor whose name, under a prefix or none, says where a checkpoint keeps the encoder: its token embeddings. */
    static String tokenEmbeddings(ModelConfig config) {
        return config.modernBert() != null ? "embeddings.tok_embeddings.weight" : config.qwen() != null ? "embed_tokens.weight"
                : "embeddings.word_embeddings.weight";
    }

    public ModelConfig config() {
        return config;
    }

    /**
     * Work arrays for batches of up to {@code maxTokens} tokens, reused across layers and batches; closing
     * them gives them back for later calls, so a steady stream of calls allocates no activations. A call takes
     * the most recently given back one that fits (dropping those it passes over that are too small: the one it
     * makes instead replaces them), else makes one up to 1/8 larger than asked, so calls of similar sizes
     * share it. Idle ones, at most one per lane (see {@link #trimIdle}), are held softly: the collector may take them
     * back under memory pressure.
     */
    public Scratch scratch(int maxTokens) {
        if (maxTokens < 0) throw new IllegalArgumentException("maxTokens must be ≥ 0, got " + maxTokens);
        synchronized (idleScratch) {
            while (!idleScratch.isEmpty()) {
                Buffers b = idleScratch.removeLast().get();
                if (b != null && b.capacity >= maxTokens) return new Scratch(this, b);
            }
        }
        return new Scratch(this, new Buffers(backend, layers, roundUp(maxTokens), config.hiddenSize()));
    }

    /**
     * Drops idle work arrays past what one call takes at once (one per lane, with batches side by side), the longest
     * idle first: each of several calls running at once gives its own back, and keeping them all held one call's arrays
     * per concurrent caller for as long as the JVM had heap to spare (all-MiniLM-L6-v2, 13 callers: 386 MB of heap after
     * GC, 32 callers: 599 MB, against 60 MB for one; up to 63 MB per lane of a long batch). Calls beyond that make their
     * own and drop them. Called holding {@link #idleScratch}.
     */
    private void trimIdle() {
        int keep = Math.max(1, backend.lanes());
        while (idleScratch.size() > keep) idleScratch.removeFirst();
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
        final float[] gated;

        Buffers(Backend backend, EncoderLayers layers, int maxTokens, int hiddenSize) {
            capacity = maxTokens;
            hidden = new float[Math.multiplyExact(maxTokens, hiddenSize)];
            qkv = new float[Math.max(Math.multiplyExact(maxTokens, 3 * hiddenSize), layers.qkvFloats(maxTokens))];
            context = new float[Math.max(hidden.length, layers.contextFloats(maxTokens))];
            attended = new float[hidden.length];
            ffn = new float[layers.feedForwardFloats(maxTokens)];
            gated = new float[layers.gatedFloats(maxTokens)];
            // between layers the activations stay where the kernels run; forward hands back only its result
            for (float[] a : new float[][] {hidden, qkv, context, attended, ffn, gated}) backend.keepOnDevice(a);
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
            Cancellation.stopIfInterrupted(caller);
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

        float[] gated() {
            return buffers.gated;
        }

        @Override
        public void close() {
            synchronized (owner.idleScratch) {
                if (closed) return;
                closed = true;
                owner.idleScratch.add(new SoftReference<>(buffers));
                owner.trimIdle();
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
        return layers.forward(requireFits(batch, scratch), keyLengths, scratch);
    }

    /**
     * The last hidden state of each sequence's first token only: row b of the returned array (H floats) is
     * sequence b's, equal to row {@code batch.start(b)} of {@link #forward(RaggedBatch, Scratch)} up to rounding; the
     * layers may skip the work the other rows would need. The array is {@code scratch}'s, as with forward.
     */
    public float[] firstTokenStates(RaggedBatch batch, Scratch scratch) {
        return layers.firstTokenStates(requireFits(batch, scratch), scratch);
    }

    /**
     * The final states of each sequence's last token (a causal decoder's): row b of the returned array (H floats) is
     * sequence b's; the last layer runs for those tokens only. The array is {@code scratch}'s, as with forward.
     */
    public float[] lastTokenStates(RaggedBatch batch, Scratch scratch) {
        return layers.lastTokenStates(requireFits(batch, scratch), scratch);
    }

    /** batch, if its tokens fit scratch and each sequence the model's positions. */
    private RaggedBatch requireFits(RaggedBatch batch, Scratch scratch) {
        if (batch.tokens() > scratch.capacity()) {
            throw new IllegalArgumentException("batch of " + batch.tokens() + " tokens exceeds scratch capacity " + scratch.capacity());
        }
        int longest = batch.longest(), offset = config.positionOffset();
        if (longest > config.maxInputLength()) {
            throw new IllegalArgumentException("sequence of " + longest + " tokens exceeds the model's maximum input of "
                    + config.maxInputLength() + " (max_position_embeddings " + config.maxPositionEmbeddings()
                    + (offset > 0 ? " − position offset " + offset + ")" : ")"));
        }
        return batch;
    }
}
