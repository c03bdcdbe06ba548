package dev.rerank4j.convert;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Random;

/**
 * A one-layer BERT (hidden 4, 2 heads, intermediate 8, BERT's 30,522-token vocabulary so that all-MiniLM-L6-v2's
 * tokenizer fits it) as an optimum-style ONNX export, built field by field: 0.5 MB, which {@link OnnxConverter}
 * converts into a model rerank4j loads. The word embeddings are the graph's last field.
 */
final class TinyOnnxBert {
    static final int VOCAB = 30522, HIDDEN = 4, INTERMEDIATE = 8, POSITIONS = 16, TYPES = 2;

    private TinyOnnxBert() {}

    /** The model with weights drawn from {@code seed}; {@code reshapeTarget} is the Reshapes' shape input ("shape4", a [0, 0, 2, 2] constant). */
    static byte[] model(long seed) {
        return model(seed, "shape4", new byte[0]);
    }

    /** As {@link #model(long)}, the Reshapes reading {@code reshapeTarget}, with {@code moreGraphFields} (GraphProto fields: nodes, initializers) added to the graph. */
    static byte[] model(long seed, String reshapeTarget, byte[] moreGraphFields) {
        Random random = new Random(seed);
        ByteArrayOutputStream graph = new ByteArrayOutputStream();
        String p = "encoder.layer.0.";
        // nodes
        node(graph, "Constant", List.of(), List.of("c_sqrt_head"), tensorAttribute("value", scalar(1.4142135f)));
        node(graph, "Constant", List.of(), List.of("c_sqrt2"), tensorAttribute("value", scalar(1.4142135f)));
        node(graph, "Constant", List.of(), List.of("c_one"), tensorAttribute("value", scalar(1f)));
        node(graph, "Constant", List.of(), List.of("c_half"), tensorAttribute("value", scalar(0.5f)));
        node(graph, "LayerNormalization", List.of("emb", "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias"), List.of("x0"),
                Proto.floatAttribute("epsilon", 1e-12f));
        String[] w = {"onnx::MatMul_1", "onnx::MatMul_2", "onnx::MatMul_3"};
        String[] qkv = {"query", "key", "value"};
        for (int i = 0; i < 3; i++) {
            node(graph, "MatMul", List.of("x0", w[i]), List.of("m" + i));
            node(graph, "Add", List.of(p + "attention.self." + qkv[i] + ".bias", "m" + i), List.of("a" + i));
            node(graph, "Reshape", List.of("a" + i, reshapeTarget), List.of("r" + i));
            node(graph, "Transpose", List.of("r" + i), List.of("t" + i));
        }
        node(graph, "MatMul", List.of("t0", "t1"), List.of("scores"));
        node(graph, "Div", List.of("scores", "c_sqrt_head"), List.of("scaled"));
        node(graph, "Softmax", List.of("scaled"), List.of("probs"));
        node(graph, "MatMul", List.of("probs", "t2"), List.of("ctx"));
        node(graph, "MatMul", List.of("ctx", "onnx::MatMul_4"), List.of("mo"));
        node(graph, "Add", List.of(p + "attention.output.dense.bias", "mo"), List.of("ao"));
        node(graph, "Add", List.of("ao", "x0"), List.of("res1"));
        node(graph, "LayerNormalization", List.of("res1", p + "attention.output.LayerNorm.weight", p + "attention.output.LayerNorm.bias"),
                List.of("x1"), Proto.floatAttribute("epsilon", 1e-12f));
        node(graph, "MatMul", List.of("x1", "onnx::MatMul_5"), List.of("mi"));
        node(graph, "Add", List.of(p + "intermediate.dense.bias", "mi"), List.of("h"));
        node(graph, "Div", List.of("h", "c_sqrt2"), List.of("hd"));
        node(graph, "Erf", List.of("hd"), List.of("e"));
        node(graph, "Add", List.of("e", "c_one"), List.of("e1"));
        node(graph, "Mul", List.of("h", "e1"), List.of("g0"));
        node(graph, "Mul", List.of("g0", "c_half"), List.of("g"));
        node(graph, "MatMul", List.of("g", "onnx::MatMul_6"), List.of("mout"));
        node(graph, "Add", List.of(p + "output.dense.bias", "mout"), List.of("o"));
        node(graph, "Add", List.of("o", "x1"), List.of("res2"));
        node(graph, "LayerNormalization", List.of("res2", p + "output.LayerNorm.weight", p + "output.LayerNorm.bias"),
                List.of("last_hidden_state"), Proto.floatAttribute("epsilon", 1e-12f));
        graph.writeBytes(moreGraphFields);
        // initializers, the big word embeddings last
        init(graph, Proto.field(5, int64Tensor("shape4", new long[] {0, 0, 2, 2})));
        init(graph, floats("embeddings.position_embeddings.weight", random, POSITIONS, HIDDEN));
        init(graph, floats("embeddings.token_type_embeddings.weight", random, TYPES, HIDDEN));
        for (String ln : List.of("embeddings.LayerNorm", p + "attention.output.LayerNorm", p + "output.LayerNorm")) {
            init(graph, floats(ln + ".weight", random, HIDDEN));
            init(graph, floats(ln + ".bias", random, HIDDEN));
        }
        for (int i = 0; i < 3; i++) {
            init(graph, floats(w[i], random, HIDDEN, HIDDEN));
            init(graph, floats(p + "attention.self." + qkv[i] + ".bias", random, HIDDEN));
        }
        init(graph, floats("onnx::MatMul_4", random, HIDDEN, HIDDEN));
        init(graph, floats(p + "attention.output.dense.bias", random, HIDDEN));
        init(graph, floats("onnx::MatMul_5", random, HIDDEN, INTERMEDIATE));
        init(graph, floats(p + "intermediate.dense.bias", random, INTERMEDIATE));
        init(graph, floats("onnx::MatMul_6", random, INTERMEDIATE, HIDDEN));
        init(graph, floats(p + "output.dense.bias", random, HIDDEN));
        graph.writeBytes(Proto.field(11, valueInfo("input_ids")));
        graph.writeBytes(Proto.field(12, valueInfo("last_hidden_state")));
        init(graph, floats("embeddings.word_embeddings.weight", random, VOCAB, HIDDEN));
        ByteArrayOutputStream model = new ByteArrayOutputStream();
        model.writeBytes(Proto.varintField(1, 8));
        model.writeBytes(Proto.field(2, "pytorch"));
        model.writeBytes(Proto.field(7, graph.toByteArray()));
        return model.toByteArray();
    }

    private static void init(ByteArrayOutputStream graph, byte[] field) {
        graph.writeBytes(field);
    }

    private static byte[] floats(String name, Random random, int... dims) {
        int n = 1;
        for (int d : dims) n *= d;
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) random.nextGaussian() * 0.5f;
        long[] shape = new long[dims.length];
        for (int i = 0; i < dims.length; i++) shape[i] = dims[i];
        return Proto.field(5, Proto.floatTensor(name, shape, v));
    }

    static void node(ByteArrayOutputStream graph, String op, List<String> in, List<String> out, byte[]... attributes) {
        graph.writeBytes(Proto.field(1, Proto.node(op + "_" + out.get(0), op, in, out, attributes)));
    }

    private static byte[] scalar(float v) {
        return Proto.floatTensor("", new long[0], new float[] {v});
    }

    private static byte[] tensorAttribute(String name, byte[] tensor) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(Proto.field(1, name));
        out.writeBytes(Proto.field(5, tensor));
        out.writeBytes(Proto.varintField(20, 4));
        return out.toByteArray();
    }

    private static byte[] int64Tensor(String name, long[] values) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(Proto.varintField(1, values.length));
        out.writeBytes(Proto.varintField(2, 7));
        out.writeBytes(Proto.field(8, name));
        ByteBuffer raw = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) raw.putLong(v);
        out.writeBytes(Proto.field(9, raw.array()));
        return out.toByteArray();
    }

    private static byte[] valueInfo(String name) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(Proto.field(1, name));
        // type { tensor_type { elem_type INT64, shape { dim { dim_param "batch" } dim { dim_value 7 } } } }
        byte[] shape = concat(Proto.field(1, Proto.field(2, "batch")), Proto.field(1, Proto.varintField(1, 7)));
        byte[] tensorType = concat(Proto.varintField(1, 7), Proto.field(2, shape));
        out.writeBytes(Proto.field(2, Proto.field(1, tensorType)));
        return out.toByteArray();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
