package dev.rerank4j.bench;

import dev.rerank4j.Options;
import dev.rerank4j.tokenize.Encoding;
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
 *   <li>{@link #MINILM_CE}: a cross-encoder with cross-encoder/ms-marco-MiniLM-L-6-v2's shape, on
 *       all-MiniLM-L6-v2's encoder and pooler with a seeded one-label head
 *       (tools/make_minilm_cross_encoder.py): score = the raw logit of {@code [CLS] q [SEP] d [SEP]} with
 *       segment ids 0 then 1 (max length 512).</li>
 *   <li>{@link #BGE}: a cross-encoder with bge-reranker-base's exact shapes and random weights
 *       (tools/make_full_size.py): score = the raw logit of {@code <s> q </s></s> d </s>} (max length 512,
 *       query capped first as FlagEmbedding does).</li>
 * </ul>
 */
enum BenchModel {
    MINILM("minilm", "all-MiniLM-L6-v2", false, 256, 100, 0, null, null),
    MINILM_CE("minilm-ce", "ms-marco-MiniLM-L-6-v2-shaped, all-MiniLM-L6-v2 encoder", true, 512, 100, 0,
            "minilm-l6-cross-encoder", "make it with: HF_HUB_OFFLINE=1 tools/.venv/bin/python tools/make_minilm_cross_encoder.py"
            + " (about 10 s; writes model.safetensors and model.onnx, ~91 MB each)"),
    BGE("bge", "bge-reranker-base-shaped, random weights", true, 512, 50, 1,
            "bge-reranker-base-random", "make it with: HF_HUB_OFFLINE=1 tools/.venv/bin/python tools/make_full_size.py"
            + " (about 35 s; writes model.safetensors and model.onnx, ~1.1 GB each)");

    final String id;
    final String label;
    final boolean cross;
    final int maxLength;
    /** How many of {@link Workload#WORDS} must be single tokens for the model's tokenizer. */
    final int minWords;
    final long padId;
    /** The directory its tools/ script writes by default, under weights/ (null: materialised by the harness). */
    final String dirName;
    /** What to run when that directory is missing. */
    final String howTo;

    BenchModel(String id, String label, boolean cross, int maxLength, int minWords, long padId, String dirName, String howTo) {
        this.id = id;
        this.label = label;
        this.cross = cross;
        this.maxLength = maxLength;
        this.minWords = minWords;
        this.padId = padId;
        this.dirName = dirName;
        this.howTo = howTo;
    }

    static BenchModel of(String id) {
        for (BenchModel m : values()) if (m.id.equalsIgnoreCase(id)) return m;
        throw new IllegalArgumentException("unknown model '" + id + "' (minilm, minilm-ce or bge)");
    }

    /** rerank4j's model directory (config.json, model.safetensors, tokenizer.json) and ORT's ONNX file (null: not needed). */
    record ModelFiles(Path dir, Path onnx) {}

    /**
     * Where this model's files are; {@code bgeDir} overrides weights/bge-reranker-base-random. Without
     * {@code onnx} (no ONNX Runtime in the run) model.onnx need not be there.
     *
     * @throws MissingModelException with a sentence saying how to make them, if they are not there
     */
    ModelFiles locate(Path weights, Path bgeDir, boolean onnx) throws MissingModelException {
        if (this == MINILM) return new ModelFiles(Models.rerank4jModel(weights), onnx ? Models.onnxFile(weights) : null);
        Path dir = this == BGE && bgeDir != null ? bgeDir : weights.resolve(dirName);
        List<String> needed = new ArrayList<>(List.of("config.json", "model.safetensors", "tokenizer.json"));
        if (onnx) needed.add("model.onnx");
        for (String f : needed) {
            if (!Files.isRegularFile(dir.resolve(f))) {
                String what = Files.isDirectory(dir) ? "no " + f : "model directory missing";
                String make = dir.equals(weights.resolve(dirName)) ? howTo
                        : howTo + " (that writes " + weights.resolve(dirName) + "; pass it as --bge, or copy its files into " + dir + ")";
                throw new MissingModelException(what, dir + (Files.isDirectory(dir) ? " has no " + f : " is missing") + "; " + make);
            }
        }
        return new ModelFiles(dir, onnx ? dir.resolve("model.onnx") : null);
    }

    static final class MissingModelException extends Exception {
        /** What is missing, for the results table: "no model.onnx", "model directory missing". */
        final String what;

        MissingModelException(String what, String message) {
            super(message);
            this.what = what;
        }
    }

    /** How rerank4j runs it: ragged batches of 32, raw logits for the cross-encoder. */
    Options options(int threads) {
        Options o = Options.defaults().withThreads(threads).withBatchSize(SideBySide.BATCH).withMaxLength(maxLength);
        return cross ? o.withScoreFunction(Options.ScoreFunction.RAW) : o;
    }

    /**
     * The token ids the other engines run: bi-encoder: the query and each document; cross-encoder: no
     * query, one pair per document ({@code [CLS] q [SEP] d [SEP]} or {@code <s> q </s></s> d </s>}) with its
     * segment ids, cut as rerank4j cuts them inside {@code Reranker.score}: a BERT cross-encoder longest first
     * (sentence-transformers'), an XLM-R one without sentence-transformers' files query first (FlagEmbedding's).
     * The workloads' pairs are shorter than 512 tokens, and the score check would show a cut that differed.
     */
    Ids tokenize(Tokenizer tokenizer, String query, List<String> docs) {
        List<int[]> seqs = new ArrayList<>(docs.size());
        if (cross) {
            List<int[]> types = new ArrayList<>(docs.size());
            for (String d : docs) {
                Encoding pair = tokenizer.encodePair(query, d, maxLength, this == BGE ? PairTruncation.FIRST_CAPPED_THEN_SECOND
                        : PairTruncation.LONGEST_FIRST);
                seqs.add(pair.ids());
                types.add(pair.typeIds());
            }
            return new Ids(null, seqs, types);
        }
        for (String d : docs) seqs.add(tokenizer.encode(d, maxLength).ids());
        return new Ids(tokenizer.encode(query, maxLength).ids(), seqs, null);
    }

    /**
     * Token ids of one scoring call.
     *
     * @param query the query's ids (bi-encoder), null for a cross-encoder
     * @param seqs  one sequence per document: the document (bi-encoder) or the pair (cross-encoder)
     * @param types each pair's segment ids (0 for the query's part, 1 after it in BERT, all 0 in XLM-R); null: all 0
     */
    record Ids(int[] query, List<int[]> seqs, List<int[]> types) {
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
