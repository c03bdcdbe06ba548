package dev.rerank4j.model;

import dev.rerank4j.backend.Activation;
import dev.rerank4j.backend.Backend;
import dev.rerank4j.backend.DecoderKernels;
import dev.rerank4j.backend.LinearWeights;
import dev.rerank4j.backend.MissingKernelException;
import dev.rerank4j.backend.RotaryTable;
import dev.rerank4j.io.ModelConfig;
import dev.rerank4j.io.QwenConfig;
import dev.rerank4j.io.Tensor;
import dev.rerank4j.model.Encoder.Scratch;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;

/**
 * Qwen2's and Qwen3's decoder (transformers' Qwen2Model, Qwen3Model): x = embed(ids), then per layer, pre-norm, with
 * RMSNorm N,
 * <pre>
 *   x ← x + W_o·attention(RoPE(N_q(Q)), RoPE(N_k(K)), V),  [Q | K | V] = W_qkv·N_in(x) + b_qkv   (causal, grouped K and V)
 *   x ← x + W_down·(SiLU(g) ⊙ u),  [g | u] = [W_gate; W_up]·N_post(x)
 * </pre>
 * and last N_final(x). Qwen3 norms each head of Q and K (N_q, N_k) and has no b_qkv; Qwen2 has b_qkv and no head norms.
 * Needs a backend with {@link DecoderKernels} (the CPU one).
 */
final class QwenLayers implements EncoderLayers {
    /** queryNorm and keyNorm null where the heads are not normed (Qwen2). */
    private record Layer(float[] inputNorm, LinearWeights qkv, float[] queryNorm, float[] keyNorm, LinearWeights attentionOut,
                         float[] postAttentionNorm, LinearWeights mlpIn, LinearWeights mlpOut) {}

    private final ModelConfig config;
    private final QwenConfig qwen;
    private final Backend backend;
    private final DecoderKernels kernels;
    private final Tensor tokenEmbeddings;
    private final List<Layer> layers;
    private final float[] finalNorm;
    private final RotaryTables rope;

    private QwenLayers(ModelConfig config, Backend backend, DecoderKernels kernels, Tensor tokenEmbeddings, List<Layer> layers,
                        float[] finalNorm) {
        this.config = config;
        this.qwen = config.qwen();
        this.backend = backend;
        this.kernels = kernels;
        this.tokenEmbeddings = tokenEmbeddings;
        this.layers = layers;
        this.finalNorm = finalNorm;
        this.rope = new RotaryTables(backend, config.headDim(), config.maxPositionEmbeddings(), qwen.ropeTheta());
    }

    /** Binds the decoder's tensors under {@code weights}' prefix ("model."), checking every shape. */
    static QwenLayers load(Weights weights, ModelConfig config, Backend backend) {
        if (!(backend instanceof DecoderKernels kernels)) {
            throw new MissingKernelException("the " + backend.name() + " backend has no kernels for Qwen's causal grouped-query "
                    + "attention, RMSNorm and SwiGLU (DecoderKernels); the CPU backend has them");
        }
        QwenConfig qwen = config.qwen();
        boolean qwen2 = qwen.generation() == QwenConfig.Generation.QWEN2;
        long h = config.hiddenSize(), inner = config.intermediateSize(), hd = qwen.headDim();
        long q = config.numHeads() * hd, kv = qwen.keyValueHeads() * hd;
        List<Layer> layers = new ArrayList<>();
        for (int i = 0; i < config.numLayers(); i++) {
            String l = "layers." + i + ".";
            try (Arena fused = Weights.scratchArena()) { // the backend packs its own copy
                Tensor qkvBias = qwen2 ? Weights.concatRows(fused, l + "self_attn.qkv_proj.bias", weights.get(l + "self_attn.q_proj.bias", q),
                        weights.get(l + "self_attn.k_proj.bias", kv), weights.get(l + "self_attn.v_proj.bias", kv)) : null;
                layers.add(new Layer(
                        weights.vector(l + "input_layernorm.weight", h),
                        backend.prepareLinear(Weights.concatRows(fused, l + "self_attn.qkv_proj.weight",
                                weights.get(l + "self_attn.q_proj.weight", q, h), weights.get(l + "self_attn.k_proj.weight", kv, h),
                                weights.get(l + "self_attn.v_proj.weight", kv, h)), qkvBias),
                        qwen2 ? null : weights.vector(l + "self_attn.q_norm.weight", hd),
                        qwen2 ? null : weights.vector(l + "self_attn.k_norm.weight", hd),
                        backend.prepareLinear(weights.get(l + "self_attn.o_proj.weight", h, q), null),
                        weights.vector(l + "post_attention_layernorm.weight", h),
                        backend.prepareLinear(Weights.concatRows(fused, l + "mlp.gate_up_proj.weight",
                                weights.get(l + "mlp.gate_proj.weight", inner, h), weights.get(l + "mlp.up_proj.weight", inner, h)), null),
                        backend.prepareLinear(weights.get(l + "mlp.down_proj.weight", h, inner), null)));
            }
        }
        return new QwenLayers(config, backend, kernels, weights.get("embed_tokens.weight", config.vocabSize(), h), List.copyOf(layers),
                weights.vector("norm.weight", h));
    }

    @Override
    public int qkvFloats(int tokens) {
        return Math.multiplyExact(tokens, (config.numHeads() + 2 * qwen.keyValueHeads()) * qwen.headDim());
    }

    @Override
    public int contextFloats(int tokens) {
        return Math.multiplyExact(tokens, Math.max(config.hiddenSize(), config.numHeads() * qwen.headDim()));
    }

    @Override
    public int feedForwardFloats(int tokens) {
        return Math.multiplyExact(tokens, 2 * config.intermediateSize());
    }

    @Override
    public int gatedFloats(int tokens) {
        return Math.multiplyExact(tokens, config.intermediateSize());
    }

    /** Every token's final states; a decoder has no attention mask beyond causality, so {@code keyLengths} must be null. */
    @Override
    public float[] forward(RaggedBatch batch, int[] keyLengths, Scratch scratch) {
        if (keyLengths != null) throw new IllegalArgumentException("a causal decoder takes no key lengths");
        return run(batch, scratch, false);
    }

    @Override
    public float[] firstTokenStates(RaggedBatch batch, Scratch scratch) {
        throw new UnsupportedOperationException("a causal decoder's first token has seen only itself; read its last token's states");
    }

    /** Each sequence's last token's final states, row b for sequence b; the last layer runs for those tokens only. */
    @Override
    public float[] lastTokenStates(RaggedBatch batch, Scratch scratch) {
        for (int b = 0; b < batch.sequences(); b++) {
            if (batch.length(b) == 0) throw new IllegalArgumentException("sequence " + b + " is empty: it has no last token");
        }
        return run(batch, scratch, true);
    }

    /**
     * The residual stream x lives in scratch.hidden(), each step's normed input in scratch.attended(); attention's output
     * goes to scratch.context(), its projection to the Q/K/V rows (free once attention has run), the feed-forward's to
     * scratch.context(). With {@code lastOnly} the last layer moves each sequence's last row of x to row b after attention
     * (whose keys and values need every token) and runs the rest on those rows.
     */
    private float[] run(RaggedBatch batch, Scratch scratch, boolean lastOnly) {
        int h = config.hiddenSize(), rows = batch.tokens();
        float eps = config.layerNormEps();
        RotaryTable table = rope.forLength(batch.longest())[0];
        float[] x = embed(batch, scratch), normed = scratch.attended();
        kernels.addAndRmsNormalize(x, null, rows, h, layers.getFirst().inputNorm, eps, normed);
        for (int i = 0; i < layers.size(); i++) {
            scratch.stopIfInterrupted();
            Layer layer = layers.get(i);
            boolean lastRowsOnly = lastOnly && i == layers.size() - 1;
            kernels.causalSelfAttention(normed, batch.seqStarts(), layer.qkv, layer.queryNorm, layer.keyNorm, eps, table, scratch.qkv(),
                    config.numHeads(), qwen.keyValueHeads(), qwen.headDim(), lastRowsOnly, scratch.context());
            if (lastRowsOnly) {
                backend.toHost(x);
                batch.lastRowsToFront(x, h);
                rows = batch.sequences();
            }
            backend.linear(scratch.context(), rows, layer.attentionOut, scratch.qkv(), Activation.NONE);
            kernels.addAndRmsNormalize(x, scratch.qkv(), rows, h, layer.postAttentionNorm, eps, normed);
            kernels.swiGluFeedForward(normed, rows, layer.mlpIn, layer.mlpOut, scratch.ffn(), scratch.gated(), scratch.context());
            kernels.addAndRmsNormalize(x, scratch.context(), rows, h, i + 1 < layers.size() ? layers.get(i + 1).inputNorm : finalNorm, eps,
                    normed);
        }
        backend.toHost(normed);
        return normed;
    }

    /** x = the token embeddings, x scratch's hidden array. */
    private float[] embed(RaggedBatch batch, Scratch scratch) {
        float[] x = scratch.hidden();
        backend.toHost(x); // written here (after a failed call the device may still hold the truth)
        batch.tokenRows(tokenEmbeddings, config.vocabSize(), config.hiddenSize(), x);
        return x;
    }
}
