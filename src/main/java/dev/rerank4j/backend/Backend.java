package dev.rerank4j.backend;

import dev.rerank4j.io.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.function.ObjIntConsumer;
import java.util.function.Supplier;

/**
 * The numeric kernels a model needs. Activations are row-major F32 arrays; weights are prepared once
 * at load time into whatever layout the backend's kernels want. Implementations are safe to call
 * from many threads at once; models never know which backend runs them.
 */
public interface Backend extends AutoCloseable {
    /** A short name for logs ("cpu", "cuda"). */
    String name();

    /** Prepares {@code weight} [out, in] and the optional {@code bias} [out] for {@link #linear}. */
    LinearWeights prepareLinear(Tensor weight, Tensor bias);

    /**
     * {@code y[r, :] = activation(x[r, :] · Wᵀ + b)} for {@code r < rows}. {@code x} holds rows of
     * {@code w.in()} floats, {@code y} rows of {@code w.out()} floats (both densely packed).
     */
    void linear(float[] x, int rows, LinearWeights w, float[] y, Activation activation);

    /**
     * The feed-forward block, {@code y = activation(x · W_inᵀ + b_in) · W_outᵀ + b_out} for {@code rows} rows
     * ({@code W_out.in() == W_in.out()}), with {@code hidden} as work space of at least
     * {@link #feedForwardHidden}{@code (rows, W_in.out())} floats, in whatever layout the backend's kernels like.
     */
    default void feedForward(float[] x, int rows, LinearWeights in, Activation activation, LinearWeights out, float[] hidden,
                             float[] y) {
        BackendArguments.feedForward(x, rows, in, out, hidden, feedForwardHidden(rows, in.out()), y, activation);
        linear(x, rows, in, hidden, activation);
        linear(hidden, rows, out, y, Activation.NONE);
    }

    /** Floats {@link #feedForward}'s work space needs for {@code rows} rows of {@code width} hidden units. */
    default int feedForwardHidden(int rows, int width) {
        return Math.multiplyExact(rows, width);
    }

    /**
     * {@code x[r] = LayerNorm(x[r] + residual[r]) · gamma + beta} for {@code r < rows}, in place;
     * {@code residual} may be null. Variance is the biased one, as PyTorch computes it.
     */
    void addLayerNorm(float[] x, float[] residual, int rows, int dim, float[] gamma, float[] beta, float eps);

    /**
     * Bidirectional multi-head self-attention over ragged sequences, without padding.
     * {@code qkv} holds one row of {@code 3 · heads · headDim} floats per token: Q, then K, then V, each
     * head-major. Sequence {@code b} is tokens {@code seqStarts[b]} (inclusive) to {@code seqStarts[b+1]}.
     * {@code out} receives {@code heads · headDim} floats per token: softmax(QKᵀ/√headDim)·V.
     */
    default void attention(float[] qkv, int[] seqStarts, int heads, int headDim, float[] out) {
        attention(qkv, seqStarts, null, heads, headDim, out);
    }

    /**
     * As {@link #attention(float[], int[], int, int, float[])}, but every token of sequence {@code b}
     * attends only to the sequence's first {@code keyLengths[b]} tokens (1 ≤ keyLengths[b] ≤ its length;
     * null: all). This is an attention mask whose zeros are all at the end, as ColBERT's [MASK] query
     * padding is: the masked tokens still get outputs, they are just never looked at.
     */
    void attention(float[] qkv, int[] seqStarts, int[] keyLengths, int heads, int headDim, float[] out);

    /**
     * A layer's self-attention from its input: {@code out} = attention of x·Wᵀ + b, with w the fused [Q; K; V]
     * weights (3 · heads · headDim outputs), over the sequences and key lengths of
     * {@link #attention(float[], int[], int[], int, int, float[])}. {@code qkv} (a row of 3 · heads · headDim
     * floats per token) is work space, left unspecified. This default runs the product, then attention; a
     * backend may interleave them.
     */
    default void selfAttention(float[] x, int[] seqStarts, int[] keyLengths, LinearWeights w, float[] qkv, int heads, int headDim,
                               float[] out) {
        BackendArguments.selfAttention(x, seqStarts, keyLengths, w, qkv, heads, headDim, out);
        linear(x, seqStarts[seqStarts.length - 1], w, qkv, Activation.NONE);
        attention(qkv, seqStarts, keyLengths, heads, headDim, out);
    }

    /**
     * The rows of {@link #selfAttention}'s output that belong to each sequence's first token, and only those:
     * {@code out} receives {@code heads · headDim} floats per sequence, row b for sequence b, which must hold at
     * least one token (no key lengths: every token is a key). A classifier that reads only the first token needs no
     * more from the last layer. {@code qkv} is work space as in selfAttention. This default computes every row and
     * keeps the first ones; backends override it to skip the rest.
     */
    default void firstTokenSelfAttention(float[] x, int[] seqStarts, LinearWeights w, float[] qkv, int heads, int headDim,
                                         float[] out) {
        BackendArguments.firstTokenSelfAttention(x, seqStarts, w, qkv, heads, headDim, out);
        toHost(out); // written here, on the host
        int width = heads * headDim;
        float[] all = new float[seqStarts[seqStarts.length - 1] * width];
        selfAttention(x, seqStarts, null, w, qkv, heads, headDim, all);
        for (int b = 0; b + 1 < seqStarts.length; b++) System.arraycopy(all, seqStarts[b] * width, out, b * width, width);
    }

    /**
     * ColBERT late interaction: {@code scores[i] = Σ_q max_j q · d_j} over the {@code queryTokens} rows of
     * {@code query} and the rows d_j of document {@code candidates[i]}, which are rows {@code docOffsets[k]}
     * (inclusive) to {@code docOffsets[k+1]} of {@code docs} for document k; all rows hold {@code dim} floats,
     * in {@link DocumentLayout} (blocks of rows stored dim-major). Candidates may come in any order and
     * repeat; only their rows are read, so a few candidates out of a large corpus cost only their own rows.
     * A document without rows scores 0.
     */
    void maxSim(float[] query, int queryTokens, float[] docs, int[] docOffsets, int[] candidates, int dim, float[] scores);

    /** {@link #maxSim(float[], int, float[], int[], int[], int, float[])} of every document, in order. */
    default void maxSim(float[] query, int queryTokens, float[] docs, int[] docOffsets, int dim, float[] scores) {
        int documents = docOffsets == null ? 0 : Math.max(0, docOffsets.length - 1);
        maxSim(query, queryTokens, docs, docOffsets, java.util.stream.IntStream.range(0, documents).toArray(), dim, scores);
    }

    /**
     * {@link #maxSim(float[], int, float[], int[], int[], int, float[])} over documents stored where they lie:
     * {@code docs} holds rows {@code docOffsets[k]} to {@code docOffsets[k+1]} of document k, {@code dim} values per row,
     * little-endian F32 or ({@code half}) F16 at any alignment, in {@link DocumentLayout}; offsets are longs, so the
     * documents together may hold more than 2³¹ values. F16 values are widened exactly, and the scores are those of the
     * float[] method over the widened values. This default copies the candidates' values, chunk by chunk of at most
     * {@link #MAX_SIM_CHUNK_FLOATS} (a larger document is a chunk of its own), into an array and scores it with that
     * method; a backend that can read the segment itself overrides it.
     *
     * @throws IllegalArgumentException if a candidate is not a document, its rows are outside {@code docs}, or one
     *                                  document holds more values than an array can
     */
    default void maxSim(float[] query, int queryTokens, MemorySegment docs, boolean half, long[] docOffsets, int[] candidates,
                        int dim, float[] scores) {
        BackendArguments.maxSim(query, queryTokens, docs, half, docOffsets, candidates, dim, scores);
        short[] halves = null;
        for (int from = 0; from < candidates.length; ) {
            int to = from;
            long floats = 0;
            do {
                long f = (docOffsets[candidates[to] + 1] - docOffsets[candidates[to]]) * dim;
                if (f > Integer.MAX_VALUE - 8) {
                    throw new IllegalArgumentException("document " + candidates[to] + " holds " + f + " values, more than an array can");
                }
                if (to > from && floats + f > MAX_SIM_CHUNK_FLOATS) break;
                floats += f;
                to++;
            } while (to < candidates.length);
            float[] rows = new float[(int) floats];
            if (half && (halves == null || halves.length < rows.length)) halves = new short[rows.length];
            int[] offsets = new int[to - from + 1];
            for (int i = from; i < to; i++) {
                int c = candidates[i], tokens = (int) (docOffsets[c + 1] - docOffsets[c]);
                DocumentLayout.read(docs, half, docOffsets[c] * dim, tokens * dim, rows, offsets[i - from] * dim, halves);
                offsets[i - from + 1] = offsets[i - from] + tokens;
            }
            float[] chunk = new float[to - from];
            maxSim(query, queryTokens, rows, offsets, java.util.stream.IntStream.range(0, to - from).toArray(), dim, chunk);
            System.arraycopy(chunk, 0, scores, from, chunk.length);
            from = to;
        }
    }

    /** The most values the default segment {@code maxSim} copies into one array (64 MB). */
    int MAX_SIM_CHUNK_FLOATS = 16 << 20;

    /**
     * Lets {@code array}, a work array the caller reuses from kernel to kernel, stay where the kernels run: a
     * kernel's result in it may then stay there, and the array's own contents are current only after
     * {@link #toHost}. So the caller must call {@link #toHost} before it reads or writes such an array itself.
     * Arrays never passed here keep the plain contract: written on return. The CPU backend has nothing to
     * keep; the CUDA one keeps a device copy for as long as the array is reachable.
     */
    default void keepOnDevice(float[] array) {}

    /**
     * Makes {@code array} current on the host and hands it back there: after this the caller may read and
     * write it, and the next kernel that reads it takes the array's contents. Nothing to do for an array
     * never passed to {@link #keepOnDevice}, and on the CPU.
     */
    default void toHost(float[] array) {}

    /**
     * How many tasks {@link #sideBySide} runs at once: 1 where every kernel already takes the whole device.
     * Independent batches run side by side, one per core, are faster than the same batches one after another
     * with every kernel split across the cores, where no core waits for another at the end of each of a layer's
     * kernels (MiniLM-L6, 100 × 128 tokens on 2 cores: 1.05× measured).
     */
    default int lanes() {
        return 1;
    }

    /**
     * Runs {@code task} for 0 … {@code tasks − 1}, each once, up to {@link #lanes} at a time, taken in order
     * as threads come free; the kernels a task calls run on the thread that runs it. {@code lane} is called
     * once per thread taking part, and what it returns is handed to every task that thread runs. Returns when
     * all have run; the first failure is thrown then. This default runs them in order on the calling thread.
     */
    default <S> void sideBySide(int tasks, Supplier<S> lane, ObjIntConsumer<S> task) {
        if (tasks <= 0) return;
        S state = lane.get();
        for (int i = 0; i < tasks; i++) task.accept(state, i);
    }

    @Override
    void close();
}
