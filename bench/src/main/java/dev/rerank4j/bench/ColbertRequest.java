package dev.rerank4j.bench;

import dev.rerank4j.DocumentEmbeddings;
import dev.rerank4j.Options;
import dev.rerank4j.Reranker;
import dev.rerank4j.io.Json;
import dev.rerank4j.io.SafeTensors;
import dev.rerank4j.io.SafeTensorsWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * One ColBERT rerank request at colbertv2.0's shape, timed in its two parts: encoding the query (BERT-base,
 * 12 layers × 768, 32 query tokens, projection 768 → 128) and MaxSim of it against precomputed document
 * embeddings (1,000 documents × 180 tokens × 128 dims, as the ColBERT issue states).
 *
 * <p>colbertv2.0's weights cannot be downloaded here, so the model is random with the exact shape, written
 * once into {@code weights/colbert-base-random} in PyLate's layout with all-MiniLM-L6-v2's tokenizer (the
 * same bert-base-uncased vocabulary). Timing does not depend on the weights' values. The document
 * embeddings are random unit vectors written in {@link DocumentEmbeddings}' version 1 file format, then loaded and saved
 * again in the current version (as an old file would be), with the model's
 * fingerprint, since encoding 180,000 document tokens would take minutes and is not what a request does.
 *
 * <p>Prints best and median of the repeats for: the query alone (scored against one 1-token document, so
 * MaxSim is negligible), and the whole request over 1,000 documents; MaxSim = the difference.
 */
public final class ColbertRequest {
    static final int LAYERS = 12, HIDDEN = 768, HEADS = 12, FFN = 3072, VOCAB = 30522, POSITIONS = 512, DIM = 128;
    static final int QUERY_LENGTH = 32, DOC_LENGTH = 180, DOCS = 1000;

    public static void main(String[] args) throws Exception {
        int threads = 2, repeats = 15;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--repeats" -> repeats = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i] + " (--threads T, --repeats N)");
            }
        }
        Path weights = Models.weightsDir();
        Path model = weights.resolve("colbert-base-random");
        if (!Files.isRegularFile(model.resolve("model.safetensors"))) {
            System.out.println("writing a random colbertv2.0-shaped model to " + model + " (once, ~0.5 GB)");
            writeModel(model, Models.rerank4jModel(weights).resolve("tokenizer.json"));
        }
        String query = "how do late interaction retrieval models score passages against a query";
        try (Reranker reranker = Reranker.load(model, Options.defaults().withThreads(threads))) {
            DocumentEmbeddings one = reranker.encodeDocuments(List.of("passage"));
            Path tmp = Files.createTempFile("colbert-docs", ".safetensors");
            try {
                one.save(tmp);
                String fingerprint;
                try (SafeTensors st = SafeTensors.open(tmp)) {
                    fingerprint = st.metadata().get("fingerprint");
                }
                writeRandomDocuments(tmp, fingerprint);
                // written as version 1 (row-major); saved again it is the current version, scored where it lies
                DocumentEmbeddings.load(tmp).save(tmp);
                String version;
                try (SafeTensors st = SafeTensors.open(tmp)) {
                    version = st.metadata().get("version") + (st.metadata().containsKey("layout") ? ", layout " + st.metadata().get("layout") : "");
                }
                DocumentEmbeddings docs = DocumentEmbeddings.load(tmp);
                int[] all = new int[docs.size()];
                for (int k = 0; k < all.length; k++) all[k] = k;
                int[] first = {0};
                System.out.printf("ColBERT request, colbertv2.0 shape (BERT-base, %d query tokens, dim %d), %d threads, %d repeats%n",
                        QUERY_LENGTH, DIM, threads, repeats);
                System.out.printf("documents: %d x %d tokens x %d dims (%.0f MB of F32), file version %s%n", docs.size(), DOC_LENGTH, DIM,
                        4.0 * docs.totalTokens() * DIM / 1e6, version);
                for (int i = 0; i < 5; i++) {
                    reranker.score(query, docs, first);
                    reranker.score(query, docs, all);
                }
                double[] queryOnly = new double[repeats], request = new double[repeats];
                for (int i = 0; i < repeats; i++) { // alternating, so load from elsewhere hits both
                    long t0 = System.nanoTime();
                    reranker.score(query, docs, first);
                    long t1 = System.nanoTime();
                    reranker.score(query, docs, all);
                    long t2 = System.nanoTime();
                    queryOnly[i] = (t1 - t0) / 1e6;
                    request[i] = (t2 - t1) / 1e6;
                }
                Arrays.sort(queryOnly);
                Arrays.sort(request);
                double flops = 2.0 * QUERY_LENGTH * DOC_LENGTH * DIM * DOCS;
                double bytes = 4.0 * docs.totalTokens() * DIM;
                double qBest = queryOnly[0], qMed = queryOnly[repeats / 2];
                double rBest = request[0], rMed = request[repeats / 2];
                System.out.printf("query encode:          best %7.2f ms  median %7.2f ms%n", qBest, qMed);
                System.out.printf("request (1000 docs):   best %7.2f ms  median %7.2f ms%n", rBest, rMed);
                double mBest = rBest - qBest, mMed = rMed - qMed;
                System.out.printf("MaxSim (difference):   best %7.2f ms  median %7.2f ms  (%.0f GFLOP/s, %.1f GB/s at the median)%n",
                        mBest, mMed, flops / (mMed / 1e3) / 1e9, bytes / (mMed / 1e3) / 1e9);
                System.out.printf("load average: %.2f%n", java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
            } finally {
                Files.deleteIfExists(tmp);
            }
        }
    }

    /** colbertv2.0's shape, PyLate layout, seeded N(0, 0.02)-like uniform weights, LayerNorm γ = 1, β = 0. */
    static void writeModel(Path dir, Path tokenizer) throws IOException {
        Files.createDirectories(dir.resolve("1_Dense"));
        SplittableRandom rnd = new SplittableRandom(42);
        SafeTensorsWriter w = new SafeTensorsWriter();
        w.add("embeddings.word_embeddings.weight", new long[] {VOCAB, HIDDEN}, random(rnd, VOCAB * HIDDEN));
        w.add("embeddings.position_embeddings.weight", new long[] {POSITIONS, HIDDEN}, random(rnd, POSITIONS * HIDDEN));
        w.add("embeddings.token_type_embeddings.weight", new long[] {2, HIDDEN}, random(rnd, 2 * HIDDEN));
        layerNorm(w, "embeddings.LayerNorm");
        for (int l = 0; l < LAYERS; l++) {
            String p = "encoder.layer." + l + ".";
            for (String m : new String[] {"attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"}) {
                linear(w, rnd, p + m, HIDDEN, HIDDEN);
            }
            layerNorm(w, p + "attention.output.LayerNorm");
            linear(w, rnd, p + "intermediate.dense", FFN, HIDDEN);
            linear(w, rnd, p + "output.dense", HIDDEN, FFN);
            layerNorm(w, p + "output.LayerNorm");
        }
        w.write(dir.resolve("model.safetensors"));
        new SafeTensorsWriter().add("linear.weight", new long[] {DIM, HIDDEN}, random(rnd, DIM * HIDDEN))
                .write(dir.resolve("1_Dense/model.safetensors"));
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("architectures", List.of("BertModel"));
        config.put("model_type", "bert");
        config.put("hidden_act", "gelu");
        config.put("hidden_size", HIDDEN);
        config.put("intermediate_size", FFN);
        config.put("num_attention_heads", HEADS);
        config.put("num_hidden_layers", LAYERS);
        config.put("max_position_embeddings", POSITIONS);
        config.put("type_vocab_size", 2);
        config.put("vocab_size", VOCAB);
        config.put("layer_norm_eps", 1e-12);
        config.put("pad_token_id", 0);
        write(dir.resolve("config.json"), config);
        write(dir.resolve("1_Dense/config.json"), Map.of("in_features", HIDDEN, "out_features", DIM, "bias", false,
                "activation_function", "torch.nn.modules.linear.Identity"));
        write(dir.resolve("modules.json"), List.of(
                Map.of("idx", 0, "name", "0", "path", "", "type", "sentence_transformers.models.Transformer"),
                Map.of("idx", 1, "name", "1", "path", "1_Dense", "type", "pylate.models.Dense.Dense")));
        Map<String, Object> st = new LinkedHashMap<>();
        st.put("model_type", "ColBERT");
        st.put("similarity_fn_name", "MaxSim");
        st.put("query_prefix", "[unused0]");
        st.put("document_prefix", "[unused1]");
        st.put("query_length", QUERY_LENGTH);
        st.put("document_length", DOC_LENGTH);
        st.put("attend_to_expansion_tokens", false);
        st.put("do_query_expansion", true);
        List<String> skip = new ArrayList<>();
        for (char c : "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".toCharArray()) skip.add(String.valueOf(c));
        st.put("skiplist_words", skip);
        write(dir.resolve("config_sentence_transformers.json"), st);
        write(dir.resolve("sentence_bert_config.json"), Map.of("max_seq_length", POSITIONS, "do_lower_case", false));
        write(dir.resolve("tokenizer_config.json"), Map.of("cls_token", "[CLS]", "mask_token", "[MASK]", "pad_token", "[MASK]",
                "sep_token", "[SEP]", "unk_token", "[UNK]", "model_max_length", POSITIONS));
        Files.copy(tokenizer, dir.resolve("tokenizer.json"));
    }

    private static void linear(SafeTensorsWriter w, SplittableRandom rnd, String name, int out, int in) {
        w.add(name + ".weight", new long[] {out, in}, random(rnd, out * in));
        w.add(name + ".bias", new long[] {out}, new float[out]);
    }

    private static void layerNorm(SafeTensorsWriter w, String name) {
        float[] ones = new float[HIDDEN];
        Arrays.fill(ones, 1f);
        w.add(name + ".weight", new long[] {HIDDEN}, ones);
        w.add(name + ".bias", new long[] {HIDDEN}, new float[HIDDEN]);
    }

    private static float[] random(SplittableRandom rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) ((rnd.nextDouble() - 0.5) * 0.07); // std 0.02
        return a;
    }

    private static void write(Path file, Object json) throws IOException {
        Files.writeString(file, Json.write(json));
    }

    /** DOCS × DOC_LENGTH random unit vectors in DocumentEmbeddings' file format (see its javadoc). */
    static void writeRandomDocuments(Path file, String fingerprint) throws IOException {
        long tokens = (long) DOCS * DOC_LENGTH, vecBytes = tokens * DIM * 4, offBytes = 8L * (DOCS + 1);
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("__metadata__", Map.of("format", "rerank4j.colbert.documents", "version", "1", "fingerprint", fingerprint,
                "dim", Integer.toString(DIM), "documents", Integer.toString(DOCS)));
        header.put("embeddings", Map.of("dtype", "F32", "shape", List.of(tokens, (long) DIM), "data_offsets", List.of(0L, vecBytes)));
        header.put("offsets", Map.of("dtype", "I64", "shape", List.of((long) DOCS + 1), "data_offsets", List.of(vecBytes, vecBytes + offBytes)));
        byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
        int pad = (8 - json.length % 8) % 8;
        SplittableRandom rnd = new SplittableRandom(7);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buf = ByteBuffer.allocate(8 + json.length + pad).order(ByteOrder.LITTLE_ENDIAN);
            buf.putLong(json.length + pad).put(json);
            for (int i = 0; i < pad; i++) buf.put((byte) ' ');
            write(ch, buf);
            ByteBuffer row = ByteBuffer.allocate(4 * DIM).order(ByteOrder.LITTLE_ENDIAN);
            float[] v = new float[DIM];
            for (long t = 0; t < tokens; t++) {
                double norm = 0;
                for (int d = 0; d < DIM; d++) {
                    v[d] = (float) (rnd.nextDouble() - 0.5);
                    norm += v[d] * v[d];
                }
                float inv = (float) (1 / Math.sqrt(norm));
                row.clear();
                for (int d = 0; d < DIM; d++) row.putFloat(v[d] * inv);
                write(ch, row);
            }
            ByteBuffer off = ByteBuffer.allocate((int) offBytes).order(ByteOrder.LITTLE_ENDIAN);
            for (int k = 0; k <= DOCS; k++) off.putLong((long) k * DOC_LENGTH);
            write(ch, off);
        }
    }

    private static void write(FileChannel ch, ByteBuffer buf) throws IOException {
        buf.flip();
        while (buf.hasRemaining()) ch.write(buf);
    }
}
