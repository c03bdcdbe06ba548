package dev.rerank4j;

import dev.rerank4j.backend.DocumentLayout;
import dev.rerank4j.io.AtomicFiles;
import dev.rerank4j.io.Json;
import dev.rerank4j.io.SafeTensors;
import dev.rerank4j.io.Tensor;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * ColBERT token vectors of many documents, made once by {@link Reranker#encodeDocuments} and scored
 * many times by {@link Reranker#score(String, DocumentEmbeddings, int[])} without running the encoder.
 *
 * <p>Document {@code k} owns rows {@code offsets[k]} to {@code offsets[k+1]} of a {@code [tokens, dim]}
 * F32 matrix of unit-length vectors (punctuation tokens already dropped). The {@link #fingerprint()}
 * names the model that made them (its dimension and a hash of its projection and document settings);
 * scoring them with another model is refused. Memory: {@code 4 · tokens · dim} bytes on the heap
 * (at most 2³¹ − 1 floats in all), held in {@link DocumentLayout}, the order MaxSim reads fastest; files and
 * {@link #vectors(int)} are row-major. Immutable and thread-safe.
 *
 * <p>{@link #save(Path)} writes a safetensors file: tensor {@code embeddings} [tokens, dim] (F32, or F16
 * with {@link #save(Path, boolean)}), tensor {@code offsets} [documents + 1] I64, and metadata
 * {@code format = rerank4j.colbert.documents}, {@code version = 1}, {@code fingerprint}, {@code dim},
 * {@code documents}. Any safetensors reader opens it.
 */
public final class DocumentEmbeddings {
    static final String FORMAT = "rerank4j.colbert.documents";
    static final String VERSION = "1";
    /** How far a loaded vector's squared length may be from 1: F16 rounding moves it by about 1e-3. */
    private static final double UNIT_LENGTH_TOLERANCE = 0.01;

    /** In {@link DocumentLayout}. */
    private final float[] vectors;
    private final int[] offsets;
    private final int dim;
    private final String fingerprint;

    /** {@code vectors} in {@link DocumentLayout}; kept, not copied. */
    DocumentEmbeddings(float[] vectors, int[] offsets, int dim, String fingerprint) {
        this.vectors = vectors;
        this.offsets = offsets;
        this.dim = dim;
        this.fingerprint = fingerprint;
    }

    /** Number of documents. */
    public int size() {
        return offsets.length - 1;
    }

    /** Floats per token vector. */
    public int dim() {
        return dim;
    }

    /** The model that made these vectors, e.g. {@code colbert-d128-3f2a…}. */
    public String fingerprint() {
        return fingerprint;
    }

    /** Token vectors kept for document {@code doc}. */
    public int tokenCount(int doc) {
        checkIndex(doc);
        return offsets[doc + 1] - offsets[doc];
    }

    /** A copy of document {@code doc}'s vectors, {@code tokenCount(doc) × dim} floats, row-major. */
    public float[] vectors(int doc) {
        checkIndex(doc);
        return DocumentLayout.rows(vectors, offsets[doc], offsets[doc + 1] - offsets[doc], dim);
    }

    /** Total token vectors over all documents. */
    public int totalTokens() {
        return offsets[offsets.length - 1];
    }

    float[] rawVectors() {
        return vectors;
    }

    int[] rawOffsets() {
        return offsets;
    }

    private void checkIndex(int doc) {
        if (doc < 0 || doc >= size()) throw new IndexOutOfBoundsException("document " + doc + " of " + size());
    }

    /** Writes F32 vectors: {@link #load} gives back exactly these floats. */
    public void save(Path file) throws IOException {
        save(file, false);
    }

    /** Writes F32 vectors, or F16 ones when {@code half} (half the size; vectors rounded to F16 here and widened back to F32 by {@link #load}). */
    public void save(Path file, boolean half) throws IOException {
        long tokens = totalTokens();
        long vecBytes = tokens * dim * (half ? 2 : 4);
        long offBytes = 8L * offsets.length;
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("__metadata__", Map.of("format", FORMAT, "version", VERSION, "fingerprint", fingerprint,
                "dim", Integer.toString(dim), "documents", Integer.toString(size())));
        header.put("embeddings", Map.of("dtype", half ? "F16" : "F32", "shape", List.of(tokens, (long) dim),
                "data_offsets", List.of(0L, vecBytes)));
        header.put("offsets", Map.of("dtype", "I64", "shape", List.of((long) offsets.length),
                "data_offsets", List.of(vecBytes, vecBytes + offBytes)));
        String json = Json.write(header);
        int length = json.getBytes(StandardCharsets.UTF_8).length;
        byte[] head = (json + " ".repeat((8 - length % 8) % 8)).getBytes(StandardCharsets.UTF_8);
        // a save that fails (a full disk, an interrupt) keeps the old file whole
        AtomicFiles.replace(file, tmp -> write(tmp, head, half));
    }

    private void write(Path file, byte[] head, boolean half) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            buf.putLong(head.length);
            for (byte b : head) {
                if (!buf.hasRemaining()) drain(ch, buf);
                buf.put(b);
            }
            for (int doc = 0; doc < size(); doc++) {
                for (float v : vectors(doc)) {
                    if (buf.remaining() < 4) drain(ch, buf);
                    if (half) buf.putShort(Float.floatToFloat16(v));
                    else buf.putFloat(v);
                }
            }
            for (int o : offsets) {
                if (buf.remaining() < 8) drain(ch, buf);
                buf.putLong(o);
            }
            drain(ch, buf);
            ch.force(true);
        }
    }

    private static void drain(FileChannel ch, ByteBuffer buf) throws IOException {
        buf.flip();
        while (buf.hasRemaining()) ch.write(buf);
        buf.clear();
    }

    /**
     * Reads a file written by {@link #save}.
     *
     * @throws ModelFormatException if the file is not such a file, is truncated, or is inconsistent
     *                              (offsets that do not cover the vectors, a dim that disagrees), or holds a vector
     *                              whose squared length is more than 1% from 1 (a damaged value)
     * @throws java.util.concurrent.CancellationException if the thread was interrupted while reading (its status left set)
     */
    public static DocumentEmbeddings load(Path file) {
        try {
            return read(file);
        } catch (RuntimeException e) {
            throw Reranker.cancelledIfInterrupted(e, file);
        }
    }

    private static DocumentEmbeddings read(Path file) {
        try (SafeTensors st = SafeTensors.open(file)) {
            Map<String, String> meta = st.metadata();
            if (!FORMAT.equals(meta.get("format"))) {
                throw new ModelFormatException(file + ": __metadata__.format is " + meta.get("format")
                        + ", expected " + FORMAT + " (not a file written by DocumentEmbeddings.save)");
            }
            if (!VERSION.equals(meta.get("version"))) {
                throw new ModelFormatException(file + ": __metadata__.version " + meta.get("version") + " is not supported (expected " + VERSION + ")");
            }
            String fingerprint = meta.get("fingerprint");
            if (fingerprint == null || fingerprint.isEmpty()) throw new ModelFormatException(file + ": no __metadata__.fingerprint");
            int dim = metaInt(meta, "dim", file);
            int documents = metaInt(meta, "documents", file);
            if (dim < 1) throw new ModelFormatException(file + ": __metadata__.dim must be ≥ 1, found " + dim);
            if (documents > Integer.MAX_VALUE - 9) {
                throw new ModelFormatException(file + ": __metadata__.documents " + documents + " do not fit one array of offsets");
            }
            Tensor emb = st.tensor("embeddings");
            if (emb.rank() != 2 || emb.dim(1) != dim) {
                throw new ModelFormatException(file + ": tensor 'embeddings' has shape " + emb.shapeString() + ", expected [tokens, " + dim + "]");
            }
            if (emb.elementCount() > Integer.MAX_VALUE - 8) {
                throw new ModelFormatException(file + ": " + emb.elementCount() + " floats do not fit one array");
            }
            SafeTensors.Raw off = st.raw("offsets").orElseThrow(() -> new ModelFormatException(file + ": missing tensor 'offsets'"));
            if (!"I64".equals(off.dtype()) || off.shape().length != 1 || off.shape()[0] != documents + 1L) {
                throw new ModelFormatException(file + ": tensor 'offsets' is " + off.dtype() + " " + java.util.Arrays.toString(off.shape())
                        + ", expected I64 [" + (documents + 1) + "]");
            }
            int[] offsets = new int[documents + 1];
            long tokens = emb.dim(0);
            for (int k = 0; k <= documents; k++) {
                long o = off.bytes().getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), k);
                long previous = k == 0 ? 0 : offsets[k - 1];
                if ((k == 0 && o != 0) || o < previous || o > tokens || (k == documents && o != tokens)) {
                    throw new ModelFormatException(file + ": offsets[" + k + "] = " + o + " is out of order or outside [0, "
                            + tokens + "] (offsets must rise from 0 to the token count)");
                }
                offsets[k] = (int) o;
            }
            float[] vectors = emb.toFloatArray();
            requireUnitRows(file, vectors, offsets, dim);
            DocumentLayout.interleave(vectors, offsets, dim);
            return new DocumentEmbeddings(vectors, offsets, dim, fingerprint);
        }
    }

    /**
     * Every vector ColBERT makes has length 1 (or 0: torch's normalize leaves a zero row zero); F16 rounding moves the
     * squared length by about 1e-3. A damaged value (a changed byte, F16 data read as BF16) moved scores silently
     * (30.8 became 2e32, NaN, or 0.0017 for every document); it is refused here unless it moves the length by under 1%.
     */
    private static void requireUnitRows(Path file, float[] rows, int[] offsets, int dim) {
        int doc = 0;
        for (int row = 0; row < offsets[offsets.length - 1]; row++) {
            double squared = 0;
            for (int i = row * dim, end = i + dim; i < end; i++) squared += (double) rows[i] * rows[i];
            if (squared != 0 && !(Math.abs(squared - 1) <= UNIT_LENGTH_TOLERANCE)) { // NaN fails too
                while (offsets[doc + 1] <= row) doc++;
                throw new ModelFormatException(file + ": token vector " + (row - offsets[doc]) + " of document " + doc + " has length "
                        + (float) Math.sqrt(squared) + ", expected 1 (the embeddings are damaged)");
            }
        }
    }

    private static int metaInt(Map<String, String> meta, String key, Path file) {
        try {
            int v = Integer.parseInt(meta.getOrDefault(key, ""));
            if (v < 0) throw new NumberFormatException();
            return v;
        } catch (NumberFormatException e) {
            throw new ModelFormatException(file + ": __metadata__." + key + " must be a non-negative integer, found " + meta.get(key));
        }
    }
}
