package dev.rerank4j.model;

import dev.rerank4j.ModelFormatException;
import dev.rerank4j.backend.Activation;
import dev.rerank4j.backend.Backend;
import dev.rerank4j.backend.LinearWeights;
import dev.rerank4j.backend.RelativeAttentionKernels;
import dev.rerank4j.io.DebertaConfig;
import dev.rerank4j.io.ModelConfig;
import dev.rerank4j.io.Tensor;
import dev.rerank4j.model.Encoder.Scratch;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;

/**
 * A BERT-family encoder: embeddings, then N × (self-attention, FFN), post-LayerNorm.
 * BERT, RoBERTa, XLM-R, ELECTRA and DistilBERT share this one code path; what differs is data in {@link ModelConfig}
 * (position offset, number of token types, LayerNorm eps, ELECTRA's embedding width), the tensor names
 * ({@link TensorNames}) and the weight prefix the caller binds.
 */
final class BertLayers implements EncoderLayers {
    /**
     * Token embeddings: word [V,E], position [P,E], token type [T,E] (null where the model has none: DistilBERT), then
     * LayerNorm, then (ELECTRA, where E ≠ H) a linear layer [H,E] to the encoder's width; project is null where E = H.
     */
    private record Embeddings(Tensor word, Tensor position, Tensor tokenType, float[] normGamma, float[] normBeta,
                              LinearWeights project) {}

    /** One layer. qkv: W_q, W_k, W_v stacked [3H, H]; ffnIn [I, H]; ffnOut [H, I]. */
    private record Layer(LinearWeights qkv, LinearWeights attentionOut, float[] attentionNormGamma, float[] attentionNormBeta,
                         LinearWeights ffnIn, LinearWeights ffnOut, float[] outputNormGamma, float[] outputNormBeta) {}

    /**
     * DeBERTa's relative attention (null for the others): per layer, the relative embeddings through its Q, K, V
     * projection ([2·span, 3H], made once at load: they depend on the weights only), and the row of them each distance
     * i − j reads, {@code rows[i − j + longest − 1]}, for sequences up to the longest seen: the table grows with them, so
     * that a hostile max_position_embeddings costs nothing until inputs that long arrive.
     */
    private static final class Relative {
        final RelativeAttentionKernels kernels;
        final List<float[]> positions;
        final DebertaConfig config;
        final boolean contentToPosition, positionToContent;
        final float scale;
        private volatile int[] rows = new int[0];

        Relative(RelativeAttentionKernels kernels, List<float[]> positions, DebertaConfig config, float scale) {
            this.kernels = kernels;
            this.positions = positions;
            this.config = config;
            this.contentToPosition = config.contentToPosition();
            this.positionToContent = config.positionToContent();
            this.scale = scale;
        }

        /** The rows of every distance of sequences up to {@code longest} tokens, or more; immutable once made. */
        int[] rowsFor(int longest) {
            int[] current = rows;
            if (current.length >= 2 * longest - 1) return current;
            synchronized (this) {
                int have = (rows.length + 1) / 2;
                if (have < longest) {
                    int length = Math.max(longest, Math.min(2 * have, Integer.MAX_VALUE / 4));
                    int[] grown = new int[2 * length - 1];
                    for (int d = -(length - 1); d < length; d++) grown[d + length - 1] = config.row(d);
                    rows = grown;
                }
                return rows;
            }
        }
    }

    /**
     * Where a checkpoint keeps layer i's tensors, {@code layer} formatted with i: BERT's names (RoBERTa, XLM-R and ELECTRA
     * share them) or DistilBERT's.
     */
    private record TensorNames(String layer, String query, String key, String value, String attentionOut, String attentionNorm,
                               String ffnIn, String ffnOut, String outputNorm) {
        static final TensorNames BERT = new TensorNames("encoder.layer.%d.", "attention.self.query", "attention.self.key",
                "attention.self.value", "attention.output.dense", "attention.output.LayerNorm", "intermediate.dense", "output.dense",
                "output.LayerNorm");
        static final TensorNames DISTILBERT = new TensorNames("transformer.layer.%d.", "attention.q_lin", "attention.k_lin",
                "attention.v_lin", "attention.out_lin", "sa_layer_norm", "ffn.lin1", "ffn.lin2", "output_layer_norm");
        static final TensorNames DEBERTA = new TensorNames("encoder.layer.%d.", "attention.self.query_proj", "attention.self.key_proj",
                "attention.self.value_proj", "attention.output.dense", "attention.output.LayerNorm", "intermediate.dense", "output.dense",
                "output.LayerNorm");

        static TensorNames of(ModelConfig config) {
            return switch (config.modelType()) {
                case "distilbert" -> DISTILBERT;
                case "deberta-v2" -> DEBERTA;
                default -> BERT;
            };
        }
    }

    private final ModelConfig config;
    private final Backend backend;
    private final Embeddings embeddings;
    private final List<Layer> layers;
    private final Relative relative;

    private BertLayers(ModelConfig config, Backend backend, Embeddings embeddings, List<Layer> layers, Relative relative) {
        this.config = config;
        this.backend = backend;
        this.embeddings = embeddings;
        this.layers = layers;
        this.relative = relative;
    }

    /** Binds the encoder weights found under {@code weights}' prefix, checking every shape against {@code config}. */
    static BertLayers load(Weights weights, ModelConfig config, Backend backend) {
        long h = config.hiddenSize();
        long e = config.embeddingSize();
        long inner = config.intermediateSize();
        if (e > 3 * h) { // the embeddings are laid out in the scratch's Q/K/V rows before they are projected
            throw new ModelFormatException("config.json: embedding_size " + e + " is more than 3 × hidden_size " + h
                    + ", which rerank4j does not support");
        }
        Embeddings embeddings = new Embeddings(
                weights.get("embeddings.word_embeddings.weight", config.vocabSize(), e),
                config.deberta() != null && !config.deberta().absolutePositions() ? null
                        : weights.get("embeddings.position_embeddings.weight", config.maxPositionEmbeddings(), e),
                config.typeVocabSize() == 0 ? null : weights.get("embeddings.token_type_embeddings.weight", config.typeVocabSize(), e),
                weights.vector("embeddings.LayerNorm.weight", e),
                weights.vector("embeddings.LayerNorm.bias", e),
                config.projectsEmbeddings()
                        ? backend.prepareLinear(weights.get("embeddings_project.weight", h, e), weights.get("embeddings_project.bias", h))
                        : null);
        TensorNames n = TensorNames.of(config);
        List<Layer> layers = new ArrayList<>();
        for (int i = 0; i < config.numLayers(); i++) {
            String l = n.layer().formatted(i);
            LinearWeights qkv;
            try (Arena fused = Weights.scratchArena()) { // the backend packs its own copy
                qkv = backend.prepareLinear(
                        Weights.concatRows(fused, l + "qkv.weight", weights.get(l + n.query() + ".weight", h, h),
                                weights.get(l + n.key() + ".weight", h, h), weights.get(l + n.value() + ".weight", h, h)),
                        Weights.concatRows(fused, l + "qkv.bias", weights.get(l + n.query() + ".bias", h),
                                weights.get(l + n.key() + ".bias", h), weights.get(l + n.value() + ".bias", h)));
            }
            layers.add(new Layer(
                    qkv,
                    backend.prepareLinear(weights.get(l + n.attentionOut() + ".weight", h, h), weights.get(l + n.attentionOut() + ".bias", h)),
                    weights.vector(l + n.attentionNorm() + ".weight", h),
                    weights.vector(l + n.attentionNorm() + ".bias", h),
                    backend.prepareLinear(weights.get(l + n.ffnIn() + ".weight", inner, h), weights.get(l + n.ffnIn() + ".bias", inner)),
                    backend.prepareLinear(weights.get(l + n.ffnOut() + ".weight", h, inner), weights.get(l + n.ffnOut() + ".bias", h)),
                    weights.vector(l + n.outputNorm() + ".weight", h),
                    weights.vector(l + n.outputNorm() + ".bias", h)));
        }
        // LayerNorm parameters go to the device once, not with every call
        for (float[] p : new float[][] {embeddings.normGamma(), embeddings.normBeta()}) backend.keepOnDevice(p);
        for (Layer layer : layers) {
            for (float[] p : new float[][] {layer.attentionNormGamma(), layer.attentionNormBeta(), layer.outputNormGamma(),
                    layer.outputNormBeta()}) {
                backend.keepOnDevice(p);
            }
        }
        return new BertLayers(config, backend, embeddings, List.copyOf(layers),
                config.deberta() == null ? null : relative(weights, config, backend, layers));
    }

    /** DeBERTa's relative embeddings, layer-normed where the config says, through every layer's Q, K, V projection. */
    private static Relative relative(Weights weights, ModelConfig config, Backend backend, List<Layer> layers) {
        if (!(backend instanceof RelativeAttentionKernels kernels)) {
            throw new IllegalArgumentException("the " + backend.name() + " backend has no kernel for DeBERTa's disentangled attention "
                    + "(RelativeAttentionKernels)");
        }
        DebertaConfig d = config.deberta();
        int h = config.hiddenSize(), rows = 2 * d.span();
        float[] embeddings = weights.get("encoder.rel_embeddings.weight", rows, h).toFloatArray();
        if (d.normRelative()) {
            backend.addLayerNorm(embeddings, null, rows, h, weights.vector("encoder.LayerNorm.weight", h),
                    weights.vector("encoder.LayerNorm.bias", h), config.layerNormEps());
        }
        List<float[]> positions = new ArrayList<>();
        for (Layer layer : layers) {
            float[] p = new float[rows * 3 * h];
            backend.linear(embeddings, rows, layer.qkv(), p, Activation.NONE);
            backend.keepOnDevice(p); // uploaded once, not with every call
            positions.add(p);
        }
        return new Relative(kernels, List.copyOf(positions), d, (float) (1.0 / Math.sqrt((double) config.headDim() * d.scaleFactor())));
    }

    @Override
    public int feedForwardFloats(int tokens) {
        return backend.feedForwardHidden(tokens, config.intermediateSize());
    }

    @Override
    public float[] forward(RaggedBatch batch, int[] keyLengths, Scratch scratch) {
        float[] x = embed(batch, scratch);
        for (int i = 0; i < layers.size(); i++) layer(i, batch, keyLengths, x, scratch);
        backend.toHost(x);
        return x;
    }

    /**
     * The last hidden state of each sequence's first token only: row b of the returned array (H floats) is
     * sequence b's, equal to row {@code batch.start(b)} of {@link Encoder#forward(RaggedBatch, Encoder.Scratch)} up to rounding. The
     * last layer's attention needs only the first tokens' queries, which the backend may apply to every token's input
     * without forming its keys and values ({@link Backend#firstTokenSelfAttention}), and past its attention nothing
     * reaches the first token from the others, so the rest of that layer runs on one row per sequence. The array is
     * {@code scratch}'s, as with forward.
     */
    @Override
    public float[] firstTokenStates(RaggedBatch batch, Scratch scratch) {
        int h = config.hiddenSize();
        if (relative != null) { // the disentangled kernel has no first-token form: every row, then the first ones
            return batch.firstRowsToFront(forward(batch, null, scratch), h);
        }
        float[] x = embed(batch, scratch);
        for (int i = 0; i < layers.size() - 1; i++) layer(i, batch, null, x, scratch);
        scratch.stopIfInterrupted(); // the last layer, first tokens only, runs below
        Layer last = layers.getLast();
        backend.firstTokenSelfAttention(x, batch.seqStarts(), last.qkv, scratch.qkv(), config.numHeads(), config.headDim(),
                scratch.context());                                                                               // [B, H]
        // The residual's first-token rows, moved to the front.
        backend.toHost(x);
        batch.firstRowsToFront(x, h);
        attendedFeedForward(last, x, batch.sequences(), scratch);
        backend.toHost(x);
        return x;
    }


    /** One whole layer on every token of batch, x in place; first, the call stops here if its caller was interrupted. */
    private void layer(int index, RaggedBatch batch, int[] keyLengths, float[] x, Scratch scratch) {
        scratch.stopIfInterrupted();
        Layer layer = layers.get(index);
        if (relative == null) {
            backend.selfAttention(x, batch.seqStarts(), keyLengths, layer.qkv, scratch.qkv(), config.numHeads(), config.headDim(),
                    scratch.context());                                                                           // [T, H]
        } else {
            if (keyLengths != null) throw new IllegalArgumentException("DeBERTa's layers take no key lengths (a ColBERT query mask)");
            backend.linear(x, batch.tokens(), layer.qkv, scratch.qkv(), Activation.NONE);
            relative.kernels.disentangledAttention(scratch.qkv(), batch.seqStarts(), relative.positions.get(index),
                    relative.rowsFor(Math.max(1, batch.longest())),
                    relative.contentToPosition, relative.positionToContent, relative.scale, config.numHeads(), config.headDim(),
                    scratch.context());
        }
        attendedFeedForward(layer, x, batch.tokens(), scratch);
    }

    /**
     * x ← the embeddings of batch's tokens, after their LayerNorm and, where the model has one, the projection to the
     * encoder's width (written first to the Q/K/V rows, unused until the first layer); x is scratch's.
     */
    private float[] embed(RaggedBatch batch, Scratch scratch) {
        int tokens = batch.tokens();
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
     * x[t] = word[id] + position[offset + p] + tokenType[type] (where there is a token-type table), with p counting from 0 in each sequence and
     * offset = {@link ModelConfig#positionOffset()} (0 for BERT, pad_token_id + 1 for RoBERTa/XLM-R). Sequences are never
     * padded, but RoBERTa/XLM-R number their tokens as transformers' create_position_ids_from_input_ids does, by id: a
     * pad token (a {@code <pad>} typed in a text) takes position pad_token_id and is not counted, so p counts the others.
     * Rows are the embeddings' width.
     */
    private void embed(RaggedBatch batch, float[] x) {
        int width = config.embeddingSize();
        int offset0 = config.positionOffset();
        boolean byId = offset0 > 0;
        float[] row = new float[width];
        for (int b = 0; b < batch.sequences(); b++) {
            int start = batch.start(b);
            int length = batch.length(b);
            for (int p = 0, counted = 0; p < length; p++) {
                int t = start + p;
                int id = batch.ids()[t];
                int type = batch.typeIds()[t];
                if (id < 0 || id >= config.vocabSize()) {
                    throw new ModelFormatException("token id " + id + " is outside the embedding table of " + config.vocabSize() + " rows (tokenizer and model disagree)");
                }
                int offset = t * width;
                embeddings.word.read((long) id * width, width, x, offset);
                int position = !byId ? p : id == config.padTokenId() ? offset0 - 1 : offset0 + counted++;
                if (embeddings.position != null) addRow(embeddings.position, position, row, x, offset);
                if (embeddings.tokenType == null) continue; // DistilBERT: a tokenizer's pair template may still number the sides
                if (type < 0 || type >= config.typeVocabSize()) {
                    throw new ModelFormatException("token type " + type + " is outside the " + config.typeVocabSize() + " token types of the model");
                }
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
