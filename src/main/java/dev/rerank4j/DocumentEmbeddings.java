package dev.rerank4j;

import dev.rerank4j.backend.Backend;
import dev.rerank4j.backend.DocumentLayout;
import dev.rerank4j.io.AtomicFiles;
import dev.rerank4j.io.Json;
import dev.rerank4j.io.SafeTensors;
import dev.rerank4j.io.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * ColBERT token vectors of many documents, made once by {@link Reranker#encodeDocuments} and scored
 * many times by {@link Reranker#score(String, DocumentEmbeddings, int[])} without running the encoder.
 *
 * <p>Document {@code k} owns rows {@code offsets[k]} to {@code offsets[k+1]} of a {@code [tokens, dim]} matrix of
 * unit-length vectors (punctuation tokens already dropped). The {@link #fingerprint()} names the model that made them
 * (its dimension and a hash of its projection and document settings); scoring them with another model is refused.
 * Immutable and thread-safe.
 *
 * <p>Memory. The vectors live off the Java heap, in a {@link MemorySegment}: made by {@link Reranker#encodeDocuments},
 * {@code 4 · tokens · dim} bytes of native memory, freed when this object becomes unreachable; read by {@link #load},
 * the file itself, memory-mapped read-only (F32 or F16 as stored: an F16 file stays half the size), so the operating
 * system's page cache holds the vectors and the heap holds only the offsets, 8 bytes per document. There is no limit
 * on tokens in all beyond the address space; at most 2³¹ − 9 documents, each at most 2³¹ − 9 floats. Vectors are kept
 * in {@link DocumentLayout} (below), the order MaxSim reads, so a call reads its candidates' rows where they lie and
 * copies nothing (F16 rows are widened to F32 a few hundred rows at a time, in the CPU's cache); a version 1 file
 * (row-major) is scored by copying its candidates' rows, laid out, into scratch chunk by chunk, which costs about as
 * much again as MaxSim: save it again to get version 2. {@link #vectors(int)} returns row-major rows whatever the file.
 * A loaded document's vectors are checked once, the first time it is scored or read.
 *
 * <p>A loaded file must not be changed while this object uses it (truncating a mapped file makes reads fail with an
 * {@link InternalError}; {@link #save} writes a new file and renames it over the old one, which is safe). The mapping
 * is released by the garbage collector, not at a known time; on Windows a mapped file cannot be deleted or replaced
 * until then.
 *
 * <p>{@link #save(Path)} writes a safetensors file: tensor {@code embeddings} [tokens, dim] (F32, or F16
 * with {@link #save(Path, boolean)}), tensor {@code offsets} [documents + 1] I64, and metadata
 * {@code format = rerank4j.colbert.documents}, {@code version = 2}, {@code layout = blocks8}, {@code fingerprint},
 * {@code dim}, {@code documents}. Any safetensors reader opens it. Version 2's {@code embeddings} are not row-major:
 * inside each document, each full block of 8 rows (its rows {@code 8b} to {@code 8b + 7}) is stored dim-major, element
 * {@code d} of the block's row {@code j} at row-major position {@code (offsets[k] + 8b) · dim + 8·d + j}; the
 * {@code tokens % 8} rows after a document's last full block are row-major, where they would be anyway. With numpy,
 * for one document {@code e = embeddings[offsets[k]:offsets[k+1]]}, {@code n = len(e) // 8 * 8}, its rows are
 * {@code concatenate([e[:n].reshape(-1, dim, 8).transpose(0, 2, 1).reshape(n, dim), e[n:]])}. Version 1 (written before
 * 2026-12-06, no {@code layout}) is row-major throughout; it still loads.
 */
public final class DocumentEmbeddings {
    static final String FORMAT = "rerank4j.colbert.documents";
    /** What {@link #save} writes: {@link #LAYOUT}. Version 1 files (row-major, 6292bde and before) still load. */
    static final String VERSION = "2";
    static final String VERSION_ROW_MAJOR = "1";
    /** Metadata {@code layout} of a version 2 file: each document's full blocks of 8 rows dim-major ({@link DocumentLayout}). */
    static final String LAYOUT = "blocks8";
    /** How far a loaded vector's squared length may be from 1: F16 rounding moves it by about 1e-3. */
    private static final double UNIT_LENGTH_TOLERANCE = 0.01;
    /**
     * Floats a lane of the CPU backend gathers before it runs MaxSim on them (1 MB): gathered rows are then read back
     * from the core's L2 (1.25 MB on the 2-core development machine), not from memory, so the gather costs a read
     * of the stored rows and little more.
     */
    static final int LANE_FLOATS = 1 << 18;
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** {@link DocumentLayout#F32} or ({@code half}) {@link DocumentLayout#F16}; in {@link DocumentLayout} when {@code laidOut}, else row-major. */
    private final MemorySegment vectors;
    private final boolean half;
    /** Whether {@code vectors} are in {@link DocumentLayout} (version 2, or made by a model): scored where they lie. */
    private final boolean laidOut;
    private final long[] offsets;
    private final int dim;
    private final String fingerprint;
    /** The file read, named in errors; null for vectors a model made, which are not checked. */
    private final Path file;
    /** Bit k: document k's vectors were found unit length. Null when {@code file} is. */
    private final AtomicLongArray checked;

    private DocumentEmbeddings(MemorySegment vectors, boolean half, boolean laidOut, long[] offsets, int dim, String fingerprint,
                               Path file) {
        this.vectors = vectors;
        this.half = half;
        this.laidOut = laidOut;
        this.offsets = offsets;
        this.dim = dim;
        this.fingerprint = fingerprint;
        this.file = file;
        this.checked = file == null ? null : new AtomicLongArray((offsets.length - 1 + 63) / 64);
    }

    /** Vectors a model made: F32 {@code vectors} in {@link DocumentLayout} (kept, not copied), trusted. */
    static DocumentEmbeddings of(MemorySegment vectors, long[] offsets, int dim, String fingerprint) {
        return new DocumentEmbeddings(vectors, false, true, offsets, dim, fingerprint, null);
    }

    /** Row-major {@code rows} laid out off the heap (for tests). */
    static DocumentEmbeddings of(float[] rows, long[] offsets, int dim, String fingerprint) {
        float[] laid = rows.clone();
        int[] starts = new int[offsets.length];
        for (int k = 0; k < offsets.length; k++) starts[k] = Math.toIntExact(offsets[k]);
        DocumentLayout.interleave(laid, starts, dim);
        MemorySegment segment = Arena.ofAuto().allocate(4L * laid.length, 64);
        MemorySegment.copy(laid, 0, segment, DocumentLayout.F32, 0, laid.length);
        return of(segment, offsets, dim, fingerprint);
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
        return (int) (offsets[doc + 1] - offsets[doc]);
    }

    /**
     * A copy of document {@code doc}'s vectors, {@code tokenCount(doc) × dim} floats, row-major (F16 widened to F32).
     *
     * @throws ModelFormatException     if the document was loaded from a file and one of its vectors is not unit length
     * @throws IllegalArgumentException if the document holds more floats than an array can
     */
    public float[] vectors(int doc) {
        checkIndex(doc);
        float[] rows = new float[floatsOf(doc)];
        if (laidOut) {
            int block = Math.min(rows.length, DocumentLayout.ROWS * dim);
            DocumentLayout.scan(vectors, half, offsets[doc] * dim, rows.length / dim, dim, new float[block], new float[block],
                    half ? new short[block] : null, (r, at, count, token) -> System.arraycopy(r, at, rows, token * dim, count * dim));
        } else {
            DocumentLayout.read(vectors, half, offsets[doc] * dim, rows.length, rows, 0, half ? new short[rows.length] : null);
        }
        if (unchecked(doc)) {
            requireUnitRows(doc, rows, 0, rows.length / dim, 0);
            markChecked(doc);
        }
        return rows;
    }

    /** Total token vectors over all documents. */
    public long totalTokens() {
        return offsets[offsets.length - 1];
    }

    /** Whether the vectors are stored as F16 (a file saved with {@code half}). */
    boolean half() {
        return half;
    }

    private void checkIndex(int doc) {
        if (doc < 0 || doc >= size()) throw new IndexOutOfBoundsException("document " + doc + " of " + size());
    }

    /** Floats of document {@code doc}; it must fit one array. */
    private int floatsOf(int doc) {
        long floats = (offsets[doc + 1] - offsets[doc]) * dim;
        if (floats > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("document " + doc + " holds " + floats + " floats, more than one array can ("
                    + (Integer.MAX_VALUE - 8) + ")");
        }
        return (int) floats;
    }

    /**
     * {@code scores[i]} = MaxSim of {@code query} ({@code queryTokens} rows of {@link #dim} floats) against document
     * {@code candidates[i]}, through {@link Backend#maxSim}. Vectors in {@link DocumentLayout} are read where they lie
     * (after each loaded candidate's first-use check). A version 1 file's candidates are taken in chunks, each chunk's
     * rows gathered into scratch in {@link DocumentLayout} and scored there: on a backend with several lanes (the CPU
     * one), chunks of about {@code budget} ({@link #LANE_FLOATS}) run side by side; otherwise (CUDA) one at a time, up to
     * {@link Backend#MAX_SIM_CHUNK_FLOATS}. Either way MaxSim sees the same floats in the same layout, so scores are identical.
     * Candidates must be valid document indexes.
     */
    void maxSim(Backend backend, float[] query, int queryTokens, int[] candidates, float[] scores) {
        boolean cpu = backend.lanes() > 1 || backend instanceof dev.rerank4j.backend.cpu.CpuBackend;
        maxSim(backend, query, queryTokens, candidates, scores, cpu ? LANE_FLOATS : Backend.MAX_SIM_CHUNK_FLOATS);
    }

    /** As above, gathering chunks of about {@code budget} floats (a document larger than that is a chunk of its own). */
    void maxSim(Backend backend, float[] query, int queryTokens, int[] candidates, float[] scores, long budget) {
        int n = candidates.length;
        if (n == 0) return;
        if (laidOut) {
            requireUnitCandidates(backend, candidates);
            backend.maxSim(query, queryTokens, vectors, half, offsets, candidates, dim, scores);
            return;
        }
        // version 1 (row-major): gathered into DocumentLayout chunk by chunk
        // chunk c is candidates[starts[c], starts[c + 1]): as many as fit the budget, at least one
        int[] starts = new int[n + 1];
        int chunks = 0, widest = 0;
        long floats = 0;
        for (int i = 0; i < n; i++) {
            long f = floatsOf(candidates[i]);
            if (i > 0 && floats + f > budget) {
                starts[++chunks] = i;
                floats = 0;
            }
            floats += f;
            widest = (int) Math.max(widest, floats);
        }
        starts[++chunks] = n;
        int scratchFloats = widest;
        int chunkMost = 0;
        for (int c = 0; c < chunks; c++) chunkMost = Math.max(chunkMost, starts[c + 1] - starts[c]);
        int most = chunkMost;
        backend.sideBySide(chunks, () -> new Lane(scratchFloats, most, dim, half), (lane, c) -> {
            int from = starts[c], count = starts[c + 1] - from;
            int row = 0;
            lane.offsets[0] = 0;
            for (int i = 0; i < count; i++) {
                int doc = candidates[from + i];
                int tokens = (int) (offsets[doc + 1] - offsets[doc]);
                boolean check = unchecked(doc);
                DocumentLayout.gather(vectors, half, offsets[doc] * dim, tokens, dim, lane.scratch, row * dim, lane.block, lane.halves,
                        check ? (rows, at, seen, token) -> requireUnitRows(doc, rows, at, seen, token) : null);
                if (check) markChecked(doc);
                row += tokens;
                lane.offsets[i + 1] = row;
            }
            int[] ids = count == lane.ids.length ? lane.ids : java.util.Arrays.copyOf(lane.ids, count);
            float[] out = count == lane.scores.length ? lane.scores : new float[count];
            backend.maxSim(query, queryTokens, lane.scratch, count == lane.offsets.length - 1 ? lane.offsets
                    : java.util.Arrays.copyOf(lane.offsets, count + 1), ids, dim, out);
            System.arraycopy(out, 0, scores, from, count);
        });
    }

    /** One lane's work space for {@link #maxSim}: reused from chunk to chunk. */
    private static final class Lane {
        final float[] scratch;
        final short[] halves;
        final float[] block;
        final int[] offsets;
        final int[] ids;
        final float[] scores;

        Lane(int floats, int documents, int dim, boolean half) {
            scratch = new float[floats];
            halves = half ? new short[Math.min(floats, DocumentLayout.ROWS * dim)] : null;
            block = new float[Math.min(floats, DocumentLayout.ROWS * dim)];
            offsets = new int[documents + 1];
            ids = java.util.stream.IntStream.range(0, documents).toArray();
            scores = new float[documents];
        }
    }

    /**
     * Checks the loaded candidates not checked yet ({@link #requireUnitRows}), side by side on the backend's lanes, each
     * read once from the mapping; a document is checked once for the life of this object, so later calls read only what
     * MaxSim reads.
     */
    private void requireUnitCandidates(Backend backend, int[] candidates) {
        if (checked == null) return;
        int[] todo = java.util.Arrays.stream(candidates).filter(this::unchecked).distinct().toArray();
        if (todo.length == 0) return;
        int floats = DocumentLayout.ROWS * dim;
        backend.sideBySide(todo.length, () -> new float[][] {new float[floats], new float[floats]}, (lane, i) -> {
            int doc = todo[i];
            short[] halves = half ? new short[floats] : null;
            DocumentLayout.scan(vectors, half, offsets[doc] * dim, floatsOf(doc) / dim, dim, lane[0], lane[1], halves,
                    (rows, at, count, token) -> requireUnitRows(doc, rows, at, count, token));
            markChecked(doc);
        });
    }

    /** Writes F32 vectors: {@link #load} gives back exactly these floats. */
    public void save(Path file) throws IOException {
        save(file, false);
    }

    /**
     * Writes F32 vectors, or F16 ones when {@code half} (half the size; vectors rounded to F16 here and widened back to
     * F32 when scored). Vectors loaded from a file are written as read, without the check scoring makes.
     */
    public void save(Path file, boolean half) throws IOException {
        long tokens = totalTokens();
        long vecBytes = tokens * dim * (half ? 2 : 4);
        long offBytes = 8L * offsets.length;
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("__metadata__", Map.of("format", FORMAT, "version", VERSION, "layout", LAYOUT, "fingerprint", fingerprint,
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

    private void write(Path file, byte[] head, boolean toHalf) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            buf.putLong(head.length);
            for (byte b : head) {
                if (!buf.hasRemaining()) drain(ch, buf);
                buf.put(b);
            }
            long values = totalTokens() * dim;
            if (laidOut && toHalf == half) { // as stored: the bytes themselves
                long bytes = values * (half ? 2 : 4);
                for (long at = 0; at < bytes; ) {
                    if (!buf.hasRemaining()) drain(ch, buf);
                    int n = (int) Math.min(buf.remaining(), bytes - at);
                    buf.put(vectors.asSlice(at, n).asByteBuffer());
                    at += n;
                }
            } else if (laidOut) { // the layout kept, each value converted
                for (long i = 0; i < values; i++) {
                    if (buf.remaining() < 4) drain(ch, buf);
                    put(buf, half ? Float.float16ToFloat(vectors.getAtIndex(DocumentLayout.F16, i)) : vectors.getAtIndex(DocumentLayout.F32, i), toHalf);
                }
            } else { // a version 1 file: each document laid out as it is written
                int block = DocumentLayout.ROWS * dim;
                float[] laid = new float[0], rows = new float[block];
                short[] halves = half ? new short[block] : null;
                for (int k = 0; k < size(); k++) {
                    int n = floatsOf(k);
                    if (laid.length < n) laid = new float[n];
                    DocumentLayout.gather(vectors, half, offsets[k] * dim, n / dim, dim, laid, 0, rows, halves, null);
                    for (int i = 0; i < n; i++) {
                        if (buf.remaining() < 4) drain(ch, buf);
                        put(buf, laid[i], toHalf);
                    }
                }
            }
            for (long o : offsets) {
                if (buf.remaining() < 8) drain(ch, buf);
                buf.putLong(o);
            }
            drain(ch, buf);
            ch.force(true);
        }
    }

    private static void put(ByteBuffer buf, float v, boolean toHalf) {
        if (toHalf) buf.putShort(Float.floatToFloat16(v));
        else buf.putFloat(v);
    }

    private static void drain(FileChannel ch, ByteBuffer buf) throws IOException {
        buf.flip();
        while (buf.hasRemaining()) ch.write(buf);
        buf.clear();
    }

    /**
     * Maps a file written by {@link #save}, read-only. Costs the header, the offsets (8 bytes a document, read and
     * checked) and no vector: each document's vectors are read, and checked to be unit length, the first time it is
     * scored or read, not here.
     *
     * @throws ModelFormatException if the file is not such a file, is truncated, or is inconsistent
     *                              (offsets that do not cover the vectors, a dim that disagrees, vectors neither F32
     *                              nor F16). A vector whose squared length is more than 1% from 1 (a damaged value) is
     *                              refused when its document is first scored or read, with a ModelFormatException
     *                              naming the file, the document and the token
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
        String fingerprint;
        int dim;
        boolean half, laidOut;
        long[] offsets;
        long tokens;
        try (SafeTensors st = SafeTensors.open(file)) {
            Map<String, String> meta = st.metadata();
            if (!FORMAT.equals(meta.get("format"))) {
                throw new ModelFormatException(file + ": __metadata__.format is " + meta.get("format")
                        + ", expected " + FORMAT + " (not a file written by DocumentEmbeddings.save)");
            }
            String version = meta.get("version");
            laidOut = VERSION.equals(version);
            if (!laidOut && !VERSION_ROW_MAJOR.equals(version)) {
                throw new ModelFormatException(file + ": __metadata__.version " + version + " is not supported (expected "
                        + VERSION + " or " + VERSION_ROW_MAJOR + ")");
            }
            // version 1 had no layout: its vectors are row-major
            String layout = meta.get("layout");
            if (laidOut ? !LAYOUT.equals(layout) : layout != null) {
                throw new ModelFormatException(file + ": __metadata__.layout is " + layout + ", expected "
                        + (laidOut ? LAYOUT : "none") + " in a version " + version + " file");
            }
            fingerprint = meta.get("fingerprint");
            if (fingerprint == null || fingerprint.isEmpty()) throw new ModelFormatException(file + ": no __metadata__.fingerprint");
            dim = metaInt(meta, "dim", file);
            int documents = metaInt(meta, "documents", file);
            if (dim < 1) throw new ModelFormatException(file + ": __metadata__.dim must be ≥ 1, found " + dim);
            if (documents > Integer.MAX_VALUE - 9) {
                throw new ModelFormatException(file + ": __metadata__.documents " + documents + " do not fit one array of offsets");
            }
            Tensor emb = st.tensor("embeddings");
            if (emb.rank() != 2 || emb.dim(1) != dim) {
                throw new ModelFormatException(file + ": tensor 'embeddings' has shape " + emb.shapeString() + ", expected [tokens, " + dim + "]");
            }
            half = switch (emb.dtype()) {
                case F32 -> false;
                case F16 -> true;
                default -> throw new ModelFormatException(file + ": tensor 'embeddings' has dtype " + emb.dtype()
                        + ", expected F32 or F16 (what DocumentEmbeddings.save writes)");
            };
            SafeTensors.Raw off = st.raw("offsets").orElseThrow(() -> new ModelFormatException(file + ": missing tensor 'offsets'"));
            if (!"I64".equals(off.dtype()) || off.shape().length != 1 || off.shape()[0] != documents + 1L) {
                throw new ModelFormatException(file + ": tensor 'offsets' is " + off.dtype() + " " + java.util.Arrays.toString(off.shape())
                        + ", expected I64 [" + (documents + 1) + "]");
            }
            offsets = new long[documents + 1];
            tokens = emb.dim(0);
            for (int k = 0; k <= documents; k++) {
                long o = off.bytes().getAtIndex(I64, k);
                long previous = k == 0 ? 0 : offsets[k - 1];
                if ((k == 0 && o != 0) || o < previous || o > tokens || (k == documents && o != tokens)) {
                    throw new ModelFormatException(file + ": offsets[" + k + "] = " + o + " is out of order or outside [0, "
                            + tokens + "] (offsets must rise from 0 to the token count)");
                }
                offsets[k] = o;
            }
        }
        // SafeTensors checked that the tensor lies inside the file; its own mapping ends with the try above
        MemorySegment vectors = mapVectors(file, tokens * dim * (half ? 2 : 4));
        return new DocumentEmbeddings(vectors, half, laidOut, offsets, dim, fingerprint, file);
    }

    /**
     * Tensor {@code embeddings} of {@code file}, {@code bytes} long, mapped read-only into an automatic arena (unmapped
     * when the segment becomes unreachable). A file in another file system than the default one (a zip file system),
     * which cannot be mapped, is read into native memory instead.
     */
    private static MemorySegment mapVectors(Path file, long bytes) {
        try (SeekableByteChannel ch = Files.newByteChannel(file, StandardOpenOption.READ)) {
            ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lengthBytes, 0, file);
            long headerLength = lengthBytes.getLong(0);
            ByteBuffer headerBytes = ByteBuffer.allocate(Math.toIntExact(headerLength));
            readFully(ch, headerBytes, 8, file);
            Object entry = Json.parseObject(new String(headerBytes.array(), StandardCharsets.UTF_8)).get("embeddings");
            long begin = entry instanceof Map<?, ?> m && m.get("data_offsets") instanceof List<?> l && !l.isEmpty() && l.getFirst() instanceof Long b
                    ? b : -1;
            long position = 8 + headerLength + begin;
            if (begin < 0 || position + bytes > ch.size()) {
                throw new ModelFormatException(file + ": the file changed while it was read");
            }
            if (bytes == 0) return MemorySegment.NULL;
            if (ch instanceof FileChannel fc && file.getFileSystem() == FileSystems.getDefault()) {
                return fc.map(FileChannel.MapMode.READ_ONLY, position, bytes, Arena.ofAuto());
            }
            MemorySegment copy = Arena.ofAuto().allocate(bytes, 8);
            for (long at = 0; at < bytes; ) {
                int n = (int) Math.min(1 << 20, bytes - at);
                ByteBuffer slice = copy.asSlice(at, n).asByteBuffer();
                readFully(ch, slice, position + at, file);
                at += n;
            }
            return copy;
        } catch (IOException | Json.JsonException e) {
            throw new ModelFormatException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static void readFully(SeekableByteChannel ch, ByteBuffer buffer, long position, Path file) throws IOException {
        ch.position(position);
        while (buffer.hasRemaining()) {
            if (ch.read(buffer) < 0) throw new ModelFormatException(file + ": unexpected end of file (the file changed while it was read)");
        }
    }

    /**
     * Every vector ColBERT makes has length 1 (or 0: torch's normalize leaves a zero row zero); F16 rounding moves the
     * squared length by about 1e-3. A damaged value (a changed byte, F16 data read as BF16) moved scores silently
     * (30.8 became 2e32, NaN, or 0.0017 for every document); it is refused unless it moves the length by under 1%.
     * Checked for {@code count} rows of a loaded file's document {@code doc}, the first being its row {@code token},
     * at {@code rows[at …]} row-major, the first time the document is read.
     */
    private void requireUnitRows(int doc, float[] rows, int at, int count, int token) {
        for (int t = 0; t < count; t++) {
            double squared = 0;
            for (int i = at + t * dim, end = i + dim; i < end; i++) squared += (double) rows[i] * rows[i];
            if (squared != 0 && !(Math.abs(squared - 1) <= UNIT_LENGTH_TOLERANCE)) { // NaN fails too
                throw new ModelFormatException(file + ": token vector " + (token + t) + " of document " + doc + " has length "
                        + (float) Math.sqrt(squared) + ", expected 1 (the embeddings are damaged)");
            }
        }
    }

    /** Whether document {@code doc} came from a file and has not been found whole yet. */
    private boolean unchecked(int doc) {
        return checked != null && (checked.get(doc >>> 6) & (1L << doc)) == 0;
    }

    private void markChecked(int doc) {
        long bit = 1L << doc;
        checked.accumulateAndGet(doc >>> 6, bit, (a, b) -> a | b);
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
