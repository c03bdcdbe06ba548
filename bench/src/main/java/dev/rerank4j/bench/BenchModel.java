package dev.rerank4j.bench;

import dev.rerank4j.Options;
import dev.rerank4j.tokenize.PairTruncation;
import dev.rerank4j.tokenize.Tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The models the side-by-side harness compares the engines on, and how each engine is fed each of them.
 *
 * <ul>
 *   <li>{@link #MINILM}: all-MiniLM-L6-v2, a bi-encoder: score = cosine of mean-pooled, normalised
 *       embeddings of the query and each document, each encoded alone (max length 256).</li>
 *   <li>{@link #BGE}: a cross-encoder with bge-reranker-base's exact shapes and random weights
 *       (tools/make_full_size.py): score = the raw logit of {@code <s> q </s></s> d </s>} (max length 512,
 *       query capped first as FlagEmbedding does).</li>
 * </ul>
 */
enum BenchModel {
    MINILM("minilm", "all-MiniLM-L6-v2", false, 256, 100, 0),
    BGE("bge", "bge-reranker-base-shaped, random weights", true, 512, 50, 1);

    /** The directory tools/make_full_size.py writes by default, under weights/. */
    static final String BGE_DIR = "bge-reranker-base-random";
    static final String BGE_HOW_TO = "make it with: HF_HUB_OFFLINE=1 tools/.venv/bin/python tools/make_full_size.py"
            + " (a few minutes of CPU; writes model.safetensors and model.onnx, ~1.1 GB each)";

    final String id;
    final String label;
    final boolean cross;
    final int maxLength;
    /** How many of {@link Workload#WORDS} must be single tokens for the model's tokenizer. */
    final int minWords;
    final long padId;

    BenchModel(String id, String label, boolean cross, int maxLength, int minWords, long padId) {
        this.id = id;
        this.label = label;
        this.cross = cross;
        this.maxLength = maxLength;
        this.minWords = minWords;
        this.padId = padId;
    }

    static BenchModel of(String id) {
        for (BenchModel m : values()) if (m.id.equalsIgnoreCase(id)) return m;
        throw new IllegalArgumentException("unknown model '" + id + "' (minilm or bge)");
    }

    /** rerank4j's model directory (config.json, model.safetensors, tokenizer.json) and ORT's ONNX file. */
    record ModelFiles(Path dir, Path onnx) {}

    /**
     * Where this model's files are; {@code bgeDir} overrides weights/bge-reranker-base-random.
     *
     * @throws MissingModelException with a sentence saying how to make them, if they are not there
     */
    ModelFiles locate(Path weights, Path bgeDir) throws MissingModelException {
        if (this == MINILM) return new ModelFiles(Models.rerank4jModel(weights), Models.onnxFile(weights));
        Path dir = bgeDir != null ? bgeDir : weights.resolve(BGE_DIR);
        for (String f : new String[]{"config.json", "model.safetensors", "tokenizer.json", "model.onnx"}) {
            if (!Files.isRegularFile(dir.resolve(f))) {
                throw new MissingModelException(dir + (Files.isDirectory(dir) ? " has no " + f : " is missing") + "; " + BGE_HOW_TO);
            }
        }
        return new ModelFiles(dir, dir.resolve("model.onnx"));
    }

    static final class MissingModelException extends Exception {
        MissingModelException(String message) {
            super(message);
        }
    }

    /** How rerank4j runs it: ragged batches of 32, raw logits for the cross-encoder. */
    Options options(int threads) {
        Options o = Options.defaults().withThreads(threads).withBatchSize(SideBySide.BATCH).withMaxLength(maxLength);
        return cross ? o.withScoreFunction(Options.ScoreFunction.RAW) : o;
    }

    /**
     * The token ids the other engines run: bi-encoder: the query and each document; cross-encoder: no
     * query, one {@code <s> q </s></s> d </s>} pair per document. rerank4j tokenizes the same way inside
     * {@code Reranker.score}.
     */
    Ids tokenize(Tokenizer tokenizer, String query, List<String> docs) {
        List<int[]> seqs = new ArrayList<>(docs.size());
        if (cross) {
            for (String d : docs) seqs.add(tokenizer.encodePair(query, d, maxLength, PairTruncation.FIRST_CAPPED_THEN_SECOND).ids());
            return new Ids(null, seqs);
        }
        for (String d : docs) seqs.add(tokenizer.encode(d, maxLength).ids());
        return new Ids(tokenizer.encode(query, maxLength).ids(), seqs);
    }

    /**
     * Token ids of one scoring call.
     *
     * @param query the query's ids (bi-encoder), null for a cross-encoder
     * @param seqs  one sequence per document: the document (bi-encoder) or the pair (cross-encoder)
     */
    record Ids(int[] query, List<int[]> seqs) {
        int tokens() {
            int n = query == null ? 0 : query.length;
            for (int[] s : seqs) n += s.length;
            return n;
        }

        int longest() {
            int l = 0;
            for (int[] s : seqs) l = Math.max(l, s.length);
            return l;
        }
    }
}
