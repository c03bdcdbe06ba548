package dev.rerank4j.model;

import dev.rerank4j.ModelFormatException;
import dev.rerank4j.backend.Activation;
import dev.rerank4j.backend.Backend;
import dev.rerank4j.backend.LinearWeights;
import dev.rerank4j.backend.RotaryEncoderKernels;
import dev.rerank4j.backend.RotaryTable;
import dev.rerank4j.io.ModelConfig;
import dev.rerank4j.io.ModernBertConfig;
import dev.rerank4j.io.Tensor;
import dev.rerank4j.model.Encoder.Scratch;

import java.util.ArrayList;
import java.util.List;

/**
 * ModernBERT (transformers' ModernBertModel): x = LN(embed(ids)), then per layer, pre-norm,
 * <pre>
 *   x ← x + Wo·attention(RoPE(Wqkv·LN_attn(x)))     (LN_attn the identity in the first layer)
 *   x ← x + Wo·(GELU(u) ⊙ g),  [u | g] = Wi·LN_mlp(x)
 * </pre>
 * and last LN_final(x). Attention in the sliding layers sees the tokens at most {@link ModernBertConfig#window()}
 * positions away, in the others all; each kind has its own RoPE base. There are no position or token-type
 * embeddings. Needs a backend with {@link RotaryEncoderKernels} (the CPU and CUDA ones have them).
 */
final class ModernBertLayers implements EncoderLayers {
    /** One layer; the first has no attention norm (null). */
    private record Layer(Norm attentionNorm, LinearWeights qkv, LinearWeights attentionOut, Norm mlpNorm, LinearWeights mlpIn,
                         LinearWeights mlpOut, boolean sliding) {}

    /** A LayerNorm's γ and β (zeros where the model has no norm biases). */
    record Norm(float[] gamma, float[] beta) {
        static Norm of(Weights weights, String name, long width, boolean bias) {
            return new Norm(weights.vector(name + ".weight", width), bias ? weights.vector(name + ".bias", width) : new float[(int) width]);
        }

        void keepOnDevice(Backend backend) {
            backend.keepOnDevice(gamma);
            backend.keepOnDevice(beta);
        }
    }

    private final ModelConfig config;
    private final Backend backend;
    private final RotaryEncoderKernels kernels;
    private final Tensor tokenEmbeddings;
    private final Norm embeddingNorm;
    private final List<Layer> layers;
    private final Norm finalNorm;
    /** RoPE tables of the full-attention layers, then of the sliding ones. */
    private final RotaryTables ropes;

    private ModernBertLayers(ModelConfig config, Backend backend, RotaryEncoderKernels kernels, Tensor tokenEmbeddings,
                             Norm embeddingNorm, List<Layer> layers, Norm finalNorm) {
        this.config = config;
        this.backend = backend;
        this.kernels = kernels;
        this.tokenEmbeddings = tokenEmbeddings;
        this.embeddingNorm = embeddingNorm;
        this.layers = layers;
        this.finalNorm = finalNorm;
        ModernBertConfig settings = config.modernBert();
        this.ropes = new RotaryTables(backend, config.headDim(), config.maxPositionEmbeddings(), settings.globalRopeTheta(),
                settings.localRopeTheta());
    }

    /** Binds ModernBERT's tensors under {@code weights}' prefix ("model." in a classifier), checking every shape. */
    static ModernBertLayers load(Weights weights, ModelConfig config, Backend backend) {
        if (!(backend instanceof RotaryEncoderKernels kernels)) {
            throw new IllegalArgumentException("the " + backend.name() + " backend has no kernels for ModernBERT's rotary, locally "
                    + "windowed attention and gated feed-forward (RotaryEncoderKernels)");
        }
        if (config.headDim() % 2 != 0) {
            throw new ModelFormatException("config.json: heads of " + config.headDim() + " dims cannot be rotated (RoPE pairs dims)");
        }
        ModernBertConfig settings = config.modernBert();
        long h = config.hiddenSize(), inner = config.intermediateSize();
        boolean normBias = settings.normBias();
        List<Layer> layers = new ArrayList<>();
        for (int i = 0; i < config.numLayers(); i++) {
            String l = "layers." + i + ".";
            layers.add(new Layer(
                    i == 0 ? null : Norm.of(weights, l + "attn_norm", h, normBias),
                    linear(weights, backend, l + "attn.Wqkv", 3 * h, h, settings.attentionBias()),
                    linear(weights, backend, l + "attn.Wo", h, h, settings.attentionBias()),
                    Norm.of(weights, l + "mlp_norm", h, normBias),
                    linear(weights, backend, l + "mlp.Wi", 2 * inner, h, settings.mlpBias()),
                    linear(weights, backend, l + "mlp.Wo", h, inner, settings.mlpBias()),
                    settings.slidingLayers().get(i)));
        }
        Norm embeddingNorm = Norm.of(weights, "embeddings.norm", h, normBias), finalNorm = Norm.of(weights, "final_norm", h, normBias);
        // norm parameters go to the device once, not with every call
        embeddingNorm.keepOnDevice(backend);
        finalNorm.keepOnDevice(backend);
        for (Layer layer : layers) {
            if (layer.attentionNorm() != null) layer.attentionNorm().keepOnDevice(backend);
            layer.mlpNorm().keepOnDevice(backend);
        }
        return new ModernBertLayers(config, backend, kernels, weights.get("embeddings.tok_embeddings.weight", config.vocabSize(), h),
                embeddingNorm, List.copyOf(layers), finalNorm);
    }

    static LinearWeights linear(Weights weights, Backend backend, String name, long out, long in, boolean bias) {
        return backend.prepareLinear(weights.get(name + ".weight", out, in), bias ? weights.get(name + ".bias", out) : null);
    }

    @Override
    public int feedForwardFloats(int tokens) {
        return Math.multiplyExact(tokens, 2 * config.intermediateSize());
    }

    @Override
    public int gatedFloats(int tokens) {
        return Math.multiplyExact(tokens, config.intermediateSize());
    }

    /**
     * The residual stream x lives in scratch.hidden(), each layer's normed input in scratch.attended(); attention's
     * output projection goes to the Q/K/V rows (free once attention has run), the feed-forward's to scratch.context().
     */
    @Override
    public float[] forward(RaggedBatch batch, int[] keyLengths, Scratch scratch) {
        int tokens = batch.tokens(), h = config.hiddenSize();
        float eps = config.layerNormEps();
        float[] x = embed(batch, scratch), normed = scratch.attended();
        float[] input = x;
        RotaryTable[] rope = ropes.forLength(batch.longest());
        for (int i = 0; i < layers.size(); i++) {
            scratch.stopIfInterrupted();
            Layer layer = layers.get(i);
            kernels.rotarySelfAttention(input, batch.seqStarts(), keyLengths, layer.qkv, rope[layer.sliding ? 1 : 0],
                    layer.sliding ? config.modernBert().window() : Integer.MAX_VALUE, scratch.qkv(), config.numHeads(), config.headDim(),
                    scratch.context());
            backend.linear(scratch.context(), tokens, layer.attentionOut, scratch.qkv(), Activation.NONE);
            kernels.addAndNormalize(x, scratch.qkv(), tokens, h, layer.mlpNorm.gamma(), layer.mlpNorm.beta(), eps, normed);
            kernels.gatedFeedForward(normed, tokens, layer.mlpIn, layer.mlpOut, scratch.ffn(), scratch.gated(), scratch.context());
            Norm next = i + 1 < layers.size() ? layers.get(i + 1).attentionNorm : finalNorm;
            kernels.addAndNormalize(x, scratch.context(), tokens, h, next.gamma(), next.beta(), eps, normed);
            input = normed;
        }
        backend.toHost(normed);
        return normed;
    }

    /** Every token's states, then the first ones moved to the front: local attention leaves no work to skip cheaply. */
    @Override
    public float[] firstTokenStates(RaggedBatch batch, Scratch scratch) {
        return batch.firstRowsToFront(forward(batch, null, scratch), config.hiddenSize());
    }

    /** x = LN(the token embeddings), x scratch's hidden array; token types, which ModernBERT has none of, are ignored. */
    private float[] embed(RaggedBatch batch, Scratch scratch) {
        int tokens = batch.tokens(), h = config.hiddenSize();
        float[] x = scratch.hidden();
        backend.toHost(x); // written here (after a failed call the device may still hold the truth)
        batch.tokenRows(tokenEmbeddings, config.vocabSize(), h, x);
        backend.addLayerNorm(x, null, tokens, h, embeddingNorm.gamma(), embeddingNorm.beta(), config.layerNormEps());
        return x;
    }
}
