package dev.rerank4j.convert;

import dev.rerank4j.ModelFormatException;
import dev.rerank4j.io.DType;
import dev.rerank4j.io.Json;
import dev.rerank4j.io.SafeTensorsWriter;
import dev.rerank4j.io.TemporaryFiles;
import dev.rerank4j.tokenize.TokenizerJson;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Converts a BERT encoder exported to ONNX (as Xenova/optimum export sentence-transformers models)
 * into a Hugging Face style model directory that rerank4j (and transformers) can load:
 * {@code model.safetensors} with {@code BertModel} tensor names, {@code config.json},
 * {@code tokenizer.json}, and the sentence-transformers files ({@code modules.json},
 * {@code 1_Pooling/config.json}, {@code sentence_bert_config.json}) of a mean-pooled, normalised
 * embedding model such as all-MiniLM-L6-v2.
 *
 * <p>Linear weights exported as {@code onnx::MatMul_*} ([in, out]) are named after the bias their
 * MatMul output is added to and transposed to HF's [out, in]; a Gemm's weight is transposed unless its transB says
 * it is stored as [out, in] already. The number of attention heads and the
 * LayerNorm epsilon are read from the graph's constants; if they cannot be found, or any expected
 * BERT tensor is missing or mis-shaped, conversion fails with a {@link ModelFormatException} rather
 * than guessing.
 *
 * <p>The output is written to a temporary sibling directory and moved into place in one rename, so
 * an interrupted conversion never leaves a half-written model at {@code outDir}. Heap use is about
 * one transposed weight matrix; the ONNX file is memory-mapped.
 */
public final class OnnxConverter {
    public static final String WEIGHTS_FILE = "model.safetensors";
    public static final String CONFIG_FILE = "config.json";
    public static final String TOKENIZER_FILE = "tokenizer.json";
    /** Every file a converted directory holds, relative to it. */
    public static final List<String> OUTPUT_FILES = List.of(WEIGHTS_FILE, CONFIG_FILE, TOKENIZER_FILE,
            "modules.json", "1_Pooling/config.json", "sentence_bert_config.json");
    /** sentence-transformers' max_seq_length for all-MiniLM-L6-v2 (its sentence_bert_config.json). */
    public static final int MAX_SEQ_LENGTH = 256;

    private static final Pattern LAYER = Pattern.compile("^encoder\\.layer\\.(\\d+)\\.");
    private static final Pattern QKV_BIAS = Pattern.compile("\\.attention\\.self\\.(query|key|value)\\.bias$");
    private static final String POSITION_IDS = "embeddings.position_ids";
    /** Lookups of constants and Concats allowed in finding one Reshape's target shape (a real export needs five). */
    private static final int CONCAT_LOOKUPS = 64;

    private OnnxConverter() {}

    /** A tensor to write: its source initializer, and whether it is a MatMul weight to transpose. */
    private record Source(OnnxModel.OnnxTensor tensor, boolean transpose) {
        long[] shape() {
            long[] d = tensor.dims();
            return transpose ? new long[] {d[1], d[0]} : d;
        }
    }

    /**
     * Converts {@code onnx} and copies {@code tokenizerJson} into {@code outDir}, which must not exist
     * or be an empty directory.
     *
     * @throws ModelFormatException if the ONNX file is malformed or not a BERT encoder this converter
     *     understands (the message names the file and what was missing)
     * @throws IllegalArgumentException if {@code outDir} exists and is not empty, or an input file is missing
     */
    public static void convert(Path onnx, Path tokenizerJson, Path outDir) throws IOException {
        if (!Files.isRegularFile(onnx)) throw new IllegalArgumentException("no ONNX file at " + onnx);
        if (!Files.isRegularFile(tokenizerJson)) throw new IllegalArgumentException("no tokenizer.json at " + tokenizerJson);
        Path out = outDir.toAbsolutePath().normalize();
        if (Files.exists(out) && !isEmptyDirectory(out)) {
            throw new IllegalArgumentException(out + " already exists and is not an empty directory");
        }
        Path parent = out.getParent();
        try {
            Files.createDirectories(parent);
        } catch (java.nio.file.FileAlreadyExistsException e) { // its message is the path alone
            throw new IllegalArgumentException(e.getFile() + " is a file, so the folder " + out + " cannot be made there", e);
        }
        Path tmp = TemporaryFiles.track(Files.createTempDirectory(parent, "." + out.getFileName() + ".tmp-"));
        boolean moved = false;
        try {
            try (OnnxModel model = OnnxModel.open(onnx)) {
                Map<String, Source> tensors = hfTensors(model);
                Map<String, Object> config = bertConfig(model, tensors);
                requireTokenizerFits(tokenizerJson, ((Number) config.get("vocab_size")).longValue());
                SafeTensorsWriter writer = new SafeTensorsWriter()
                        .metadata("format", "pt")
                        .metadata("converted_from", "onnx:" + onnx.getFileName());
                for (Map.Entry<String, Source> e : tensors.entrySet()) {
                    Source s = e.getValue();
                    DType dtype = dtype(model, s.tensor());
                    if (s.transpose()) {
                        writer.add(e.getKey(), dtype, s.shape(), () -> transpose(s.tensor()));
                    } else {
                        writer.add(e.getKey(), dtype, s.shape(), s.tensor().bytes());
                    }
                }
                writer.write(tmp.resolve(WEIGHTS_FILE));
                writeJson(tmp.resolve(CONFIG_FILE), config);
                writeSentenceTransformersFiles(tmp, ((Number) config.get("hidden_size")).longValue());
            }
            Files.copy(tokenizerJson, tmp.resolve(TOKENIZER_FILE));
            if (Files.getFileStore(tmp).supportsFileAttributeView(PosixFileAttributeView.class)) {
                // createTempDirectory makes it owner-only (rwx------); a model directory is ordinary shared data.
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
            if (Files.exists(out)) {
                Files.delete(out); // checked empty above
            }
            Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
            moved = true;
        } finally {
            if (!moved) TemporaryFiles.deleteRecursively(tmp);
            TemporaryFiles.release(tmp);
        }
    }

    /** Refuses, before anything is written, a tokenizer with ids past the embedding table, which loading would refuse. */
    private static void requireTokenizerFits(Path tokenizerJson, long vocab) throws IOException {
        int ids = TokenizerJson.load(tokenizerJson).vocabSize();
        if (ids > vocab) {
            throw new ModelFormatException(tokenizerJson + ": the tokenizer has " + ids + " ids but the ONNX model's word embeddings have "
                    + vocab + " rows (tokenizer and model do not belong together)");
        }
    }

    /** True if {@code dir} holds every file {@link #convert} writes. */
    public static boolean isComplete(Path dir) {
        for (String f : OUTPUT_FILES) {
            Path p = dir.resolve(f);
            try {
                if (!Files.isRegularFile(p) || Files.size(p) == 0) return false;
            } catch (IOException e) {
                return false;
            }
        }
        return true;
    }

    // ---- naming ----

    /** The HF-named tensors in HF's order, validated against the BERT layout. */
    static Map<String, Source> hfTensors(OnnxModel model) {
        Path file = model.file();
        Map<String, List<OnnxModel.Node>> consumers = consumers(model);
        Map<String, Source> named = new HashMap<>();
        Map<String, String> weightNames = new HashMap<>();
        for (OnnxModel.Node node : model.nodes()) {
            if (!node.opType().equals("MatMul")) continue;
            OnnxModel.OnnxTensor w = model.initializer(node.input(1)).orElse(null);
            if (w == null || w.dims().length != 2) continue; // activation × activation (attention scores)
            String bias = null;
            for (OnnxModel.Node add : consumers.getOrDefault(output(file, node), List.of())) {
                if (!add.opType().equals("Add")) continue;
                for (String in : add.inputs()) {
                    if (in.endsWith(".bias") && model.initializer(in).isPresent()) bias = in;
                }
            }
            if (bias == null) {
                throw new ModelFormatException(file + ": cannot name MatMul weight " + w.name() + ": its output "
                        + output(file, node) + " is not added to a named *.bias initializer");
            }
            long[] biasDims = model.initializer(bias).orElseThrow().dims();
            if (biasDims.length != 1 || biasDims[0] != w.dims()[1]) {
                throw new ModelFormatException(file + ": MatMul weight " + w.name() + " " + Arrays.toString(w.dims())
                        + " feeds bias " + bias + " of shape " + Arrays.toString(biasDims) + ", expected [" + w.dims()[1] + "]");
            }
            String hfName = bias.substring(0, bias.length() - ".bias".length()) + ".weight";
            String previous = weightNames.put(w.name(), hfName);
            if (previous != null && !previous.equals(hfName)) {
                throw new ModelFormatException(file + ": MatMul weight " + w.name() + " is shared by " + previous + " and " + hfName);
            }
            if (named.put(hfName, new Source(w, true)) != null && previous == null) {
                throw new ModelFormatException(file + ": two MatMul weights are named " + hfName);
            }
        }
        for (OnnxModel.Node node : model.nodes()) {
            if (!node.opType().equals("Gemm")) continue;
            OnnxModel.OnnxTensor w = node.inputs().size() > 1 ? model.initializer(node.input(1)).orElse(null) : null;
            if (w == null) continue; // activation × activation
            String hfName = gemmWeightName(file, model, node, w);
            String previous = weightNames.put(w.name(), hfName);
            if (previous != null && !previous.equals(hfName)) {
                throw new ModelFormatException(file + ": weight " + w.name() + " is shared by " + previous + " and " + hfName);
            }
            // Gemm computes A·B, or A·Bᵀ with transB = 1: only then is B stored as Hugging Face's [out, in]
            if (named.put(hfName, new Source(w, gemmInt(node, "transB") == 0)) != null && previous == null) {
                throw new ModelFormatException(file + ": two weights are named " + hfName);
            }
        }
        for (OnnxModel.OnnxTensor t : model.initializers()) {
            if (weightNames.containsKey(t.name())) continue;
            if (!t.isFloatingPoint()) continue; // position_ids buffer and folded shape constants
            if (t.name().startsWith("onnx::") || !t.name().contains(".")) {
                throw new ModelFormatException(file + ": cannot give initializer " + t + " a Hugging Face name"
                        + " (it is not the weight of a MatMul followed by a bias Add)");
            }
            if (named.put(t.name(), new Source(t, false)) != null) {
                throw new ModelFormatException(file + ": tensor " + t.name() + " is both an initializer and a MatMul weight name");
            }
        }
        return validated(file, named);
    }

    /**
     * The Hugging Face name of a Gemm's weight: after its bias, as for MatMul weights, else its own if it has the form
     * of one. A Gemm must be a plain linear layer (no transA, alpha = beta = 1); anything else would be written as a
     * weight the model does not have.
     */
    private static String gemmWeightName(Path file, OnnxModel model, OnnxModel.Node node, OnnxModel.OnnxTensor w) {
        float alpha = node.attribute("alpha").map(OnnxModel.Attribute::f).orElse(1f);
        float beta = node.attribute("beta").map(OnnxModel.Attribute::f).orElse(1f);
        if (gemmInt(node, "transA") != 0 || alpha != 1f || beta != 1f || w.dims().length != 2) {
            throw new ModelFormatException(file + ": Gemm node " + node.name() + " on weight " + w.name() + " is not a plain linear layer"
                    + " (transA " + gemmInt(node, "transA") + ", alpha " + alpha + ", beta " + beta + ", weight " + Arrays.toString(w.dims())
                    + "); this converter reads x·Wᵀ + b only");
        }
        String bias = node.inputs().size() > 2 ? node.input(2) : "";
        if (bias.endsWith(".bias") && model.initializer(bias).isPresent()) {
            return bias.substring(0, bias.length() - ".bias".length()) + ".weight";
        }
        if (!w.name().startsWith("onnx::") && w.name().endsWith(".weight")) return w.name();
        throw new ModelFormatException(file + ": cannot name Gemm weight " + w.name() + ": it has no named *.bias initializer");
    }

    private static long gemmInt(OnnxModel.Node node, String attribute) {
        return node.attribute(attribute).map(OnnxModel.Attribute::i).orElse(0L);
    }

    private static Map<String, Source> validated(Path file, Map<String, Source> named) {
        long[] words = shapeOf(file, named, "embeddings.word_embeddings.weight", 2);
        long vocab = words[0], hidden = words[1];
        long positions = shapeOf(file, named, "embeddings.position_embeddings.weight", 2)[0];
        long typeVocab = shapeOf(file, named, "embeddings.token_type_embeddings.weight", 2)[0];
        long intermediate = shapeOf(file, named, "encoder.layer.0.intermediate.dense.bias", 1)[0];
        int layers = layerCount(file, named);

        Map<String, long[]> expected = new LinkedHashMap<>();
        expected.put("embeddings.word_embeddings.weight", new long[] {vocab, hidden});
        expected.put("embeddings.position_embeddings.weight", new long[] {positions, hidden});
        expected.put("embeddings.token_type_embeddings.weight", new long[] {typeVocab, hidden});
        expected.put("embeddings.LayerNorm.weight", new long[] {hidden});
        expected.put("embeddings.LayerNorm.bias", new long[] {hidden});
        for (int i = 0; i < layers; i++) {
            String p = "encoder.layer." + i + ".";
            for (String qkv : List.of("query", "key", "value")) {
                expected.put(p + "attention.self." + qkv + ".weight", new long[] {hidden, hidden});
                expected.put(p + "attention.self." + qkv + ".bias", new long[] {hidden});
            }
            expected.put(p + "attention.output.dense.weight", new long[] {hidden, hidden});
            expected.put(p + "attention.output.dense.bias", new long[] {hidden});
            expected.put(p + "attention.output.LayerNorm.weight", new long[] {hidden});
            expected.put(p + "attention.output.LayerNorm.bias", new long[] {hidden});
            expected.put(p + "intermediate.dense.weight", new long[] {intermediate, hidden});
            expected.put(p + "intermediate.dense.bias", new long[] {intermediate});
            expected.put(p + "output.dense.weight", new long[] {hidden, intermediate});
            expected.put(p + "output.dense.bias", new long[] {hidden});
            expected.put(p + "output.LayerNorm.weight", new long[] {hidden});
            expected.put(p + "output.LayerNorm.bias", new long[] {hidden});
        }
        if (named.containsKey("pooler.dense.weight") || named.containsKey("pooler.dense.bias")) {
            expected.put("pooler.dense.weight", new long[] {hidden, hidden});
            expected.put("pooler.dense.bias", new long[] {hidden});
        }

        List<String> problems = new ArrayList<>();
        Map<String, Source> ordered = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            Source s = named.get(e.getKey());
            if (s == null) {
                problems.add("missing " + e.getKey() + " " + Arrays.toString(e.getValue()));
            } else if (!Arrays.equals(s.shape(), e.getValue())) {
                problems.add(e.getKey() + " has shape " + Arrays.toString(s.shape()) + ", expected " + Arrays.toString(e.getValue()));
            } else {
                ordered.put(e.getKey(), s);
            }
        }
        for (String name : new TreeSet<>(named.keySet())) {
            if (!expected.containsKey(name)) problems.add("unexpected tensor " + name);
        }
        if (!problems.isEmpty()) {
            throw new ModelFormatException(file + ": not a BERT encoder with " + layers + " layers, hidden size " + hidden
                    + ": " + String.join("; ", problems.subList(0, Math.min(problems.size(), 20)))
                    + (problems.size() > 20 ? "; and " + (problems.size() - 20) + " more" : ""));
        }
        return ordered;
    }

    private static long[] shapeOf(Path file, Map<String, Source> named, String name, int rank) {
        Source s = named.get(name);
        if (s == null) {
            throw new ModelFormatException(file + ": not a BERT encoder: no initializer " + name);
        }
        if (s.shape().length != rank) {
            throw new ModelFormatException(file + ": " + name + " has shape " + Arrays.toString(s.shape())
                    + ", expected rank " + rank);
        }
        return s.shape();
    }

    /**
     * One more than the highest layer index a tensor name holds. Each layer has 16 tensors, so an index at or past the
     * number of tensors cannot be a layer (encoder.layer.99999999999 failed to parse, encoder.layer.2000000000 had
     * 32 billion tensors expected of it).
     */
    private static int layerCount(Path file, Map<String, Source> named) {
        int max = -1;
        for (String name : named.keySet()) {
            Matcher m = LAYER.matcher(name);
            if (!m.find()) continue;
            String index = m.group(1);
            if (index.length() > 9 || Integer.parseInt(index) >= named.size()) {
                throw new ModelFormatException(file + ": tensor " + name + " names layer " + index + ", but the graph has only "
                        + named.size() + " named tensors");
            }
            max = Math.max(max, Integer.parseInt(index));
        }
        return max + 1;
    }

    // ---- config from the graph ----

    static Map<String, Object> bertConfig(OnnxModel model, Map<String, Source> tensors) {
        long[] words = tensors.get("embeddings.word_embeddings.weight").shape();
        long hidden = words[1];
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("architectures", List.of("BertModel"));
        config.put("model_type", "bert");
        config.put("hidden_size", hidden);
        config.put("num_hidden_layers", (long) layerCount(model.file(), tensors));
        long heads = attentionHeads(model, hidden);
        config.put("num_attention_heads", heads);
        requireAttentionScale(model, hidden / heads);
        config.put("intermediate_size", tensors.get("encoder.layer.0.intermediate.dense.bias").shape()[0]);
        config.put("vocab_size", words[0]);
        config.put("max_position_embeddings", tensors.get("embeddings.position_embeddings.weight").shape()[0]);
        config.put("type_vocab_size", tensors.get("embeddings.token_type_embeddings.weight").shape()[0]);
        config.put("layer_norm_eps", layerNormEpsilon(model));
        config.put("hidden_act", activation(model));
        config.put("pad_token_id", 0L);
        config.put("position_embedding_type", "absolute");
        config.put("torch_dtype", switch (dtype(model, tensors.get("embeddings.word_embeddings.weight").tensor())) {
            case F32 -> "float32";
            case F16 -> "float16";
            case BF16 -> "bfloat16";
        });
        return config;
    }

    /**
     * The head count from the Reshape that splits a query/key/value projection into
     * [batch, seq, heads, head_size]: its target shape is a constant or a Concat whose last two
     * parts are constants.
     */
    static long attentionHeads(OnnxModel model, long hidden) {
        Map<String, OnnxModel.Node> producers = producers(model);
        Map<String, OnnxModel.OnnxTensor> constants = constants(model);
        TreeSet<Long> found = new TreeSet<>();
        for (OnnxModel.Node reshape : model.nodes()) {
            if (!reshape.opType().equals("Reshape")) continue;
            OnnxModel.Node projection = producers.get(reshape.input(0));
            if (projection == null || !projection.opType().equals("Add")
                    || projection.inputs().stream().noneMatch(in -> QKV_BIAS.matcher(in).find())) {
                continue;
            }
            List<Long> target = constantInts(reshape.input(1), producers, constants, new int[] {CONCAT_LOOKUPS});
            if (target == null || target.size() != 4) continue;
            Long heads = target.get(2), headSize = target.get(3);
            // each at most hidden, so the product cannot wrap round to hidden
            if (heads != null && headSize != null && heads > 0 && headSize > 0 && heads <= hidden && headSize <= hidden
                    && heads * headSize == hidden) {
                found.add(heads);
            }
        }
        if (found.isEmpty()) {
            throw new ModelFormatException(model.file() + ": cannot find the number of attention heads: no Reshape of a"
                    + " query/key/value projection to [batch, seq, heads, head_size] with heads × head_size = " + hidden);
        }
        if (found.size() > 1) {
            throw new ModelFormatException(model.file() + ": attention heads differ between layers: " + found);
        }
        return found.first();
    }

    /** The values of a 1-D int shape: a constant, or a Concat of parts (null for a part known only at run time). */
    private static List<Long> constantInts(String name, Map<String, OnnxModel.Node> producers,
                                           Map<String, OnnxModel.OnnxTensor> constants, int[] lookupsLeft) {
        // A shape has four parts: a budget of lookups ends a Concat that reads itself (which overflowed the stack) or
        // fans out into a tree of Concats (exponential time), as "not a constant shape".
        if (--lookupsLeft[0] < 0) return null;
        OnnxModel.OnnxTensor c = constants.get(name);
        if (c != null) {
            if (!c.isInteger()) return null;
            List<Long> values = new ArrayList<>();
            for (long i = 0; i < c.elementCount(); i++) values.add(c.longAt(i));
            return values;
        }
        OnnxModel.Node concat = producers.get(name);
        if (concat == null || !concat.opType().equals("Concat")) return null;
        List<Long> values = new ArrayList<>();
        for (String part : concat.inputs()) {
            List<Long> known = constantInts(part, producers, constants, lookupsLeft);
            if (lookupsLeft[0] < 0) return null;
            if (known == null) {
                values.add(null); // a run-time dimension (Unsqueeze of a Gather of a Shape): one element
            } else {
                values.addAll(known);
            }
        }
        return values;
    }

    /**
     * The LayerNorm epsilon: the {@code epsilon} attribute of LayerNormalization nodes, or in a
     * decomposed LayerNorm the scalar constant added to the variance (a ReduceMean) before Sqrt.
     */
    static double layerNormEpsilon(OnnxModel model) {
        Map<String, OnnxModel.Node> producers = producers(model);
        Map<String, OnnxModel.OnnxTensor> constants = constants(model);
        TreeSet<Float> found = new TreeSet<>();
        for (OnnxModel.Node node : model.nodes()) {
            if (node.opType().endsWith("LayerNormalization")) {
                // ONNX's LayerNormalization defines epsilon's default as 1e-5 when the attribute is absent.
                found.add(node.attribute("epsilon").map(OnnxModel.Attribute::f).orElse(1e-5f));
            } else if (node.opType().equals("Sqrt")) {
                OnnxModel.Node add = producers.get(node.input(0));
                if (add == null || !add.opType().equals("Add") || add.inputs().size() != 2) continue;
                for (int i = 0; i < 2; i++) {
                    OnnxModel.OnnxTensor eps = constants.get(add.input(i));
                    OnnxModel.Node variance = producers.get(add.input(1 - i));
                    if (eps != null && eps.isFloatingPoint() && eps.elementCount() == 1
                            && variance != null && variance.opType().equals("ReduceMean")) {
                        found.add(eps.floatAt(0));
                    }
                }
            }
        }
        if (found.isEmpty()) {
            throw new ModelFormatException(model.file() + ": cannot find the LayerNorm epsilon: no LayerNormalization node"
                    + " and no constant added to a ReduceMean before Sqrt");
        }
        if (found.size() > 1) {
            throw new ModelFormatException(model.file() + ": LayerNorm epsilons differ: " + found);
        }
        // The graph holds a float32; report the shortest decimal that rounds to it (9.99999996e-13f -> 1e-12).
        return Double.parseDouble(Float.toString(found.first()));
    }

    /**
     * "gelu" (erf form, as HF BERT) if the graph computes GELU with an exact Gelu node, or with Erf nodes that each
     * read x/√2 (a Div by √2 or a Mul by 1/√2) and feed 1 + erf: the constants are checked, since a graph
     * with other ones converts to the same tensors and config and would score differently.
     */
    static String activation(OnnxModel model) {
        Map<String, OnnxModel.Node> producers = producers(model);
        Map<String, List<OnnxModel.Node>> consumers = consumers(model);
        Map<String, OnnxModel.OnnxTensor> constants = constants(model);
        boolean erf = false;
        for (OnnxModel.Node node : model.nodes()) {
            if (!node.opType().equals("Erf")) continue;
            double scale = scaleBy(producers.get(node.input(0)), constants);
            List<OnnxModel.Node> next = consumers.getOrDefault(output(model.file(), node), List.of());
            boolean plusOne = next.size() == 1 && next.getFirst().opType().equals("Add")
                    && constantInput(next.getFirst(), constants) == 1.0;
            if (Math.abs(scale * Math.sqrt(2) - 1) > 1e-5 || !plusOne) {
                throw new ModelFormatException(model.file() + ": Erf node " + node.name() + " is not GELU's 1 + erf(x/√2)"
                        + " (it reads x times " + scale + "), so the activation cannot be converted");
            }
            erf = true;
        }
        if (erf) return "gelu";
        for (OnnxModel.Node node : model.nodes()) {
            if (node.opType().equals("Gelu")
                    && node.attribute("approximate").map(a -> a.s() == null || a.s().equals("none")).orElse(true)) {
                return "gelu";
            }
        }
        throw new ModelFormatException(model.file() + ": cannot tell the activation: no Erf or exact Gelu node"
                + " (only the erf form of GELU is supported)");
    }

    /**
     * The attention scores must be scaled by 1/√head_size, as BERT's are: by a Div or Mul after Q·Kᵀ, or by Muls
     * on Q and K before it (an export of scaled_dot_product_attention). Scores MatMuls are those of two
     * activations whose first input is not a Softmax's output (that one is probabilities · V).
     */
    static void requireAttentionScale(OnnxModel model, long headSize) {
        Map<String, OnnxModel.Node> producers = producers(model);
        Map<String, List<OnnxModel.Node>> consumers = consumers(model);
        Map<String, OnnxModel.OnnxTensor> constants = constants(model);
        for (OnnxModel.Node node : model.nodes()) {
            if (!node.opType().equals("MatMul") || constants.containsKey(node.input(1))) continue;
            if (upstream(model, producers.get(node.input(0)), producers).map(n -> n.opType().equals("Softmax")).orElse(false)) continue;
            double scale = 1;
            List<OnnxModel.Node> next = consumers.getOrDefault(output(model.file(), node), List.of());
            if (next.size() == 1) scale *= scaleBy(next.getFirst(), constants);
            for (String input : node.inputs()) {
                scale *= scaleBy(upstream(model, producers.get(input), producers).orElse(null), constants);
            }
            if (Math.abs(scale * Math.sqrt(headSize) - 1) > 1e-4) {
                throw new ModelFormatException(model.file() + ": attention scores of " + node.name() + " are scaled by " + scale
                        + ", not 1/√" + headSize + " (BERT's): the graph is not a BERT encoder this converter can read");
            }
        }
    }

    /** The node behind {@code node} through Transposes, Reshapes and Casts, which do not change values. */
    private static Optional<OnnxModel.Node> upstream(OnnxModel model, OnnxModel.Node node, Map<String, OnnxModel.Node> producers) {
        OnnxModel.Node start = node;
        // a longer walk than there are nodes goes round a cycle (a node reading its own output), which looped forever
        for (int steps = 0; node != null && List.of("Transpose", "Reshape", "Cast").contains(node.opType()); steps++) {
            if (steps > model.nodes().size()) {
                throw new ModelFormatException(model.file() + ": the graph has a cycle: node " + start.name() + " (" + start.opType()
                        + ") reads, through Transposes, Reshapes and Casts, an output of its own");
            }
            node = producers.get(node.input(0));
        }
        return Optional.ofNullable(node);
    }

    /** {@code node}'s first output; a node without one is refused (it cannot feed anything). */
    private static String output(Path file, OnnxModel.Node node) {
        if (node.outputs().isEmpty()) {
            throw new ModelFormatException(file + ": " + node.opType() + " node " + node.name() + " has no output");
        }
        return node.outputs().get(0);
    }

    /** What {@code node} multiplies its activation by: c for a Mul by a scalar constant c, 1/c for a Div by one, else 1. */
    private static double scaleBy(OnnxModel.Node node, Map<String, OnnxModel.OnnxTensor> constants) {
        if (node == null || !(node.opType().equals("Mul") || node.opType().equals("Div"))) return 1;
        double c = constantInput(node, constants);
        if (Double.isNaN(c)) return 1;
        return node.opType().equals("Mul") ? c : 1 / c;
    }

    /** The scalar floating-point constant among {@code node}'s inputs (for a Div, only its divisor), else NaN. */
    private static double constantInput(OnnxModel.Node node, Map<String, OnnxModel.OnnxTensor> constants) {
        List<String> candidates = node.opType().equals("Div") ? List.of(node.input(1)) : node.inputs();
        for (String input : candidates) {
            OnnxModel.OnnxTensor t = constants.get(input);
            if (t != null && t.isFloatingPoint() && t.elementCount() == 1) return t.floatAt(0);
        }
        return Double.NaN;
    }

    private static Map<String, OnnxModel.Node> producers(OnnxModel model) {
        Map<String, OnnxModel.Node> producers = new HashMap<>();
        for (OnnxModel.Node n : model.nodes()) {
            for (String out : n.outputs()) producers.put(out, n);
        }
        return producers;
    }

    private static Map<String, List<OnnxModel.Node>> consumers(OnnxModel model) {
        Map<String, List<OnnxModel.Node>> consumers = new HashMap<>();
        for (OnnxModel.Node n : model.nodes()) {
            for (String in : n.inputs()) consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
        }
        return consumers;
    }

    /** Initializers and Constant-node outputs by name. */
    private static Map<String, OnnxModel.OnnxTensor> constants(OnnxModel model) {
        Map<String, OnnxModel.OnnxTensor> constants = new HashMap<>();
        for (OnnxModel.OnnxTensor t : model.initializers()) constants.put(t.name(), t);
        for (OnnxModel.Node n : model.nodes()) {
            if (n.opType().equals("Constant") && !n.outputs().isEmpty()) {
                n.attribute("value").map(OnnxModel.Attribute::t).ifPresent(t -> constants.put(n.outputs().get(0), t));
            }
        }
        return constants;
    }

    // ---- bytes ----

    private static DType dtype(OnnxModel model, OnnxModel.OnnxTensor t) {
        return switch (t.dataType()) {
            case OnnxModel.FLOAT -> DType.F32;
            case OnnxModel.FLOAT16 -> DType.F16;
            case OnnxModel.BFLOAT16 -> DType.BF16;
            default -> throw new ModelFormatException(model.file() + ": tensor " + t.name() + " has unsupported data_type "
                    + OnnxModel.dataTypeName(t.dataType()) + " (F32, F16 or BF16 expected)");
        };
    }

    /** [in, out] → [out, in], element size 2 or 4, little-endian in and out. */
    private static MemorySegment transpose(OnnxModel.OnnxTensor t) {
        long rows = t.dims()[0], cols = t.dims()[1];
        MemorySegment src = t.bytes();
        int size = OnnxModel.elementSize(t.dataType());
        MemorySegment dst = MemorySegment.ofArray(new byte[Math.toIntExact(rows * cols * size)]);
        if (size == 4) {
            ValueLayout.OfInt e = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
            for (long r = 0; r < rows; r++) {
                for (long c = 0; c < cols; c++) dst.setAtIndex(e, c * rows + r, src.getAtIndex(e, r * cols + c));
            }
        } else {
            ValueLayout.OfShort e = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
            for (long r = 0; r < rows; r++) {
                for (long c = 0; c < cols; c++) dst.setAtIndex(e, c * rows + r, src.getAtIndex(e, r * cols + c));
            }
        }
        return dst;
    }

    // ---- the other files ----

    private static void writeSentenceTransformersFiles(Path dir, long hidden) throws IOException {
        List<Object> modules = List.of(
                module(0, "", "sentence_transformers.models.Transformer"),
                module(1, "1_Pooling", "sentence_transformers.models.Pooling"),
                module(2, "2_Normalize", "sentence_transformers.models.Normalize"));
        writeJson(dir.resolve("modules.json"), modules);
        Map<String, Object> pooling = new LinkedHashMap<>();
        pooling.put("word_embedding_dimension", hidden);
        pooling.put("pooling_mode_cls_token", false);
        pooling.put("pooling_mode_mean_tokens", true);
        pooling.put("pooling_mode_max_tokens", false);
        pooling.put("pooling_mode_mean_sqrt_len_tokens", false);
        Files.createDirectories(dir.resolve("1_Pooling"));
        writeJson(dir.resolve("1_Pooling/config.json"), pooling);
        Files.createDirectories(dir.resolve("2_Normalize")); // Normalize has no config; its folder exists in HF layouts
        Map<String, Object> sbert = new LinkedHashMap<>();
        sbert.put("max_seq_length", (long) MAX_SEQ_LENGTH);
        sbert.put("do_lower_case", false);
        writeJson(dir.resolve("sentence_bert_config.json"), sbert);
    }

    private static Map<String, Object> module(int idx, String path, String type) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("idx", (long) idx);
        m.put("name", Integer.toString(idx));
        m.put("path", path);
        m.put("type", type);
        return m;
    }

    private static void writeJson(Path file, Object value) throws IOException {
        Files.writeString(file, Json.write(value) + "\n", StandardCharsets.UTF_8);
    }

    private static boolean isEmptyDirectory(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) return false;
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        }
    }

}
