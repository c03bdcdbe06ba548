package dev.rerank4j.backend.cpu;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.rerank4j.backend.Activation;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * y = act(x·Wᵀ + b) on {@link PackedLinear} weights, blocked as BLIS does: a work item takes a chunk of
 * rows, copies each k-block of them into an A buffer (row by row, rows {@link #KC} apart), and runs an
 * {@code mr × NR} register tile over every panel of B against it, a few panels per row block at a time.
 *
 * <p>Why copy A: rows a compile-time constant apart make each of the tile's broadcasts one index plus a
 * constant offset. Reading x's rows in place, K apart, costs an address computation per row and per k, and on
 * a 4-wide core those scalar instructions, not the FMAs, set the pace (measured: 6×32 tile 76% of one core's
 * FMA peak in place, 12×32 on copied A 89%). Copying rows whole is a plain memory copy; interleaving the
 * tile's rows k by k (BLIS's packed A), as this did until 2026-12-04, took gathers that cost 0.5 ns per float
 * from cache and 0.8–1.5 from memory (AVX-512, one thread), 6% of a whole reranker call, and the tile ran no
 * faster on it (one thread, 12×32, K = 384: 112–115 GFLOP/s either way).
 *
 * <p>Every vector lives inside one method: C2 does not always inline a callee that takes or returns
 * vectors, and then boxes them, which cost 10× in throughput when the epilogue took vectors.
 */
final class GemmKernel {
    static final VectorSpecies<Float> S = VectorMath.S;
    static final int V = S.length();
    /** Panel width: two vectors, so a row of the tile is two independent FMA chains. */
    static final int NR = 2 * V;
    /**
     * Rows per register tile: 12 × 2 vectors = 24 accumulators with 512-bit vectors (AVX-512 has 32
     * registers), 5 × 2 = 10 otherwise (AVX2 has 16; see {@link #tile5}). With 12, 5-row tiles still end a run of
     * rows where they leave less padding ({@link #fiveRowTiles}).
     */
    static final int MR = V >= 16 ? 12 : 5;
    /** k-block, and the distance of A's rows: a 12-row block of A (12 × 384 floats, 18 KB) stays in L1 and a panel's k-block of B (48 KB) in L2. */
    static final int KC = 384;
    /** Rows of x per work item, at most: its copied k-block (≤ 120 × 384 floats, 180 KB) stays in L2 across panels. */
    private static final int MC = 120;
    /**
     * Panels per pass over a row block: the block's A (18 KB) stays in L1 while these panels' B k-blocks
     * (8 × 48 KB) stream from L2. One panel at a time over all row blocks instead kept re-reading A from L2, and
     * a panel's k-block does not fit L1 either (measured, M = 2048: 1.04–1.15× over one panel at a time).
     */
    private static final int PANELS_PER_PASS = 8;
    /**
     * Parts each of the last {@code threads} work items is handed out in: a whole item handed out last could
     * leave the other cores idle for all of its time, up to 1/items of the product. Each part of a row item copies
     * its rows again; that costs less than the idling it saves (measured, M = 2048, the
     * five K×N of the JMH benchmark, 40 calls each way alternating: mean GFLOP/s 1.01–1.05× over whole items;
     * 8 parts no better than 4).
     */
    private static final int TAIL_SPLIT = 4;
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();
    /** The tallest tile, {@link #tile12}. */
    private static final int MAX_MR = 12;

    /**
     * Where element (row, col) of an activation matrix lives: row-major, or blocked, in blocks of {@link #KC}
     * columns that hold their rows KC apart ([col / KC][row][col % KC], each block {@code blockRows} rows long).
     * Blocked is the layout {@link #copyA} makes, so a product reads such a matrix in place, copying nothing; and
     * a product can write it, since a panel's NR columns never straddle two blocks. A blocked matrix of
     * {@code rows} rows has room for MAX_MR − 1 more, so a tile reads its partial last row block in place too.
     */
    record Layout(int blockRows) {
        static final Layout ROW_MAJOR = new Layout(0);

        /**
         * Blocked, unless rounding cols up to whole blocks would take over 1/8 more memory (TinyBERT's 1200 → 1536,
         * toy models); MiniLM's 1536, bge-base's 3072 and bge-large's 4096 (→ 4224) are blocked.
         */
        static Layout of(int rows, int cols) {
            return roundedCols(cols) * 8L <= cols * 9L ? new Layout(rows + MAX_MR - 1) : ROW_MAJOR;
        }

        /** Floats a matrix of rows × cols takes in {@link #of}'s layout. */
        static int floats(int rows, int cols) {
            return of(rows, cols).isBlocked() ? Math.multiplyExact(roundedCols(cols), rows + MAX_MR - 1) : Math.multiplyExact(rows, cols);
        }

        private static int roundedCols(int cols) {
            return (cols + KC - 1) / KC * KC;
        }

        boolean isBlocked() {
            return blockRows > 0;
        }

        int at(int row, int col, int cols) {
            return isBlocked() ? col / KC * KC * blockRows + row * KC + col % KC : row * cols + col;
        }

        int rowStride(int cols) {
            return isBlocked() ? KC : cols;
        }
    }

    /**
     * Work items over {@code units} units of {@code subunits} each: the first units whole, the last {@code threads}
     * in up to {@link #TAIL_SPLIT} parts. Item i covers subunits [from(i), to(i)) of unit unit(i).
     */
    private record Tail(int units, int subunits, int whole, int split) {
        static Tail of(int units, int subunits, int threads) {
            return new Tail(units, subunits, Math.max(0, units - threads), Math.min(subunits, TAIL_SPLIT));
        }

        int items() {
            return whole + (units - whole) * split;
        }

        int unit(int item) {
            return item < whole ? item : whole + (item - whole) / split;
        }

        int from(int item) {
            return item < whole ? 0 : (item - whole) % split * subunits / split;
        }

        int to(int item) {
            return item < whole ? subunits : ((item - whole) % split + 1) * subunits / split;
        }
    }

    private GemmKernel() {}

    /**
     * A worker's buffers, kept across calls in {@link #BUFFERS}: A, one work item's k-block of rows (grown to
     * the largest asked for), and one tile for partial tiles at the edges.
     */
    private static final class Buffers {
        float[] a = new float[0];
        /** A chunk's hidden rows in the fused feed-forward. */
        float[] hidden = new float[0];
        final float[] tile = new float[12 * NR];
        /** Where {@link #touch}'s reads go, so that they are not dropped. */
        float sink;

        float[] a(int floats) {
            if (a.length < floats) a = new float[floats];
            return a;
        }

        float[] hidden(int floats) {
            if (hidden.length < floats) hidden = new float[floats];
            return hidden;
        }
    }

    private static final ScratchPool<Buffers> BUFFERS = new ScratchPool<>(Buffers::new, ScratchPool.PER_MACHINE);
    /** All rows of a few-rows call ({@code a} only), copied once and shared by its workers; one per call in flight. */
    private static final ScratchPool<Buffers> COPIED_ROWS = new ScratchPool<>(Buffers::new, ScratchPool.PER_MACHINE);

    static void linear(float[] x, int rows, PackedLinear w, float[] y, Activation act, ParallelFor pf) {
        linear(x, Layout.ROW_MAJOR, rows, w, 0, w.panels(), y, Layout.ROW_MAJOR, act, pf, MR);
    }

    /**
     * y = act(x·W_inᵀ + b_in)·W_outᵀ + b_out. With rows enough for every worker to take many chunks, and a hidden
     * width whose chunk fits the L2 ({@link #fusedChunkRows}), both products run a chunk of rows at a time on one
     * worker ({@link #fusedFeedForward}; JarAB, 30 pairs: bi-encoder (b) 1.020, cross-encoder (a) 1.018). Else two
     * parallel products with {@code hidden} (at least {@link Layout#floats}(rows, W_in's outputs) floats) blocked
     * between them where it pays: the second reads it in place, where a row-major one is copied first (for MiniLM's
     * K = 1536 that copy was 1.7% of a call's samples on (b)).
     */
    static void feedForward(float[] x, int rows, PackedLinear in, Activation act, PackedLinear out, float[] hidden, float[] y,
                            ParallelFor pf, int tileRows) {
        if (tileRows != 5 && tileRows != 12) throw new IllegalArgumentException("tile height must be 5 or 12, got " + tileRows);
        if (rows >= fusedFromRows(in.out(), pf.threads())) {
            fusedFeedForward(x, rows, in, act, out, y, pf, tileRows, fusedChunkRows(in.out(), MR));
            return;
        }
        Layout blocked = Layout.of(rows, in.out());
        linear(x, Layout.ROW_MAJOR, rows, in, 0, in.panels(), hidden, blocked, act, pf, tileRows);
        linear(hidden, blocked, rows, out, 0, out.panels(), y, Layout.ROW_MAJOR, Activation.NONE, pf, tileRows);
    }

    static void feedForward(float[] x, int rows, PackedLinear in, Activation act, PackedLinear out, float[] hidden, float[] y,
                            ParallelFor pf) {
        feedForward(x, rows, in, act, out, hidden, y, pf, MR);
    }

    /** What a worker's chunk of hidden rows may take: half of a 1 MB L2, the rest left to B's k-blocks and A. */
    private static final int FUSED_HIDDEN_BYTES = 512 * 1024;
    /** Rows below which a chunk does not pay for reading every weight of both products once more. */
    private static final int FUSED_MIN_ROWS = 48;

    /**
     * Rows from which {@link #feedForward} fuses on {@code threads} workers: enough chunks for dynamic balancing, as
     * in {@link #linear}; {@link Integer#MAX_VALUE} where it never does. Below it the two products need the hidden
     * work space, so a backend need not offer more than this many rows of it.
     */
    static int fusedFromRows(int width, int threads) {
        int chunk = fusedChunkRows(width, MR);
        return chunk == 0 ? Integer.MAX_VALUE : 8 * threads * chunk;
    }

    /**
     * Rows per chunk of the fused feed-forward for a hidden width, or 0 where it does not pay: as many whole tiles
     * as keep the chunk's blocked hidden rows within {@link #FUSED_HIDDEN_BYTES}, if that is at least
     * {@link #FUSED_MIN_ROWS}. MiniLM's 1536 → 72 rows; bge-base's 3072 → 0 (24 rows: probe, M = 4096, chunks of 48,
     * 96 and 120 rows ran 0.94–1.007× the two whole products, its 19 MB of weights read once per chunk).
     */
    static int fusedChunkRows(int width, int mr) {
        if (!Layout.of(1, width).isBlocked()) return 0;
        int rows = (FUSED_HIDDEN_BYTES / (Float.BYTES * Layout.roundedCols(width)) - (MAX_MR - 1)) / mr * mr;
        return rows >= FUSED_MIN_ROWS ? rows : 0;
    }

    /**
     * The feed-forward block a chunk of rows at a time, both products on one worker, so that the chunk's hidden rows
     * stay in its L2 between them instead of going out to memory and back (the first product's stores to a hidden
     * matrix of tokens × 1536 floats held the tile 4–5% below its speed into cache). Probe, M = 4096, MiniLM's
     * 384 → 1536 → 384, chunks of 24, 48, 96 rows: 1.011–1.040× the two whole products, outputs bit-identical.
     */
    private static void fusedFeedForward(float[] x, int rows, PackedLinear in, Activation act, PackedLinear out, float[] y,
                                         ParallelFor pf, int mr, int chunk) {
        int width = in.out(), chunks = (rows + chunk - 1) / chunk;
        Layout hl = Layout.of(chunk, width);
        int hiddenFloats = Layout.floats(chunk, width);
        pf.forEach(chunks, BUFFERS, (s, c) -> {
            int r0 = c * chunk, r1 = Math.min(rows, r0 + chunk);
            float[] h = s.hidden(hiddenFloats);
            rows(x, Layout.ROW_MAJOR, r0, r1, in, 0, in.panels(), h, hl, 0, act, s, mr);
            rows(h, hl, 0, r1 - r0, out, 0, out.panels(), y, Layout.ROW_MAJOR, r0, Activation.NONE, s, mr);
        });
    }

    /** Rows [r0, r1) of x·Wᵀ + b into y's rows from {@code yRow}, on this thread: as {@link #linear}, bit for bit. */
    static void rowsHere(float[] x, int r0, int r1, PackedLinear w, float[] y, int yRow) {
        Buffers s = BUFFERS.take();
        try {
            rows(x, Layout.ROW_MAJOR, r0, r1, w, 0, w.panels(), y, Layout.ROW_MAJOR, yRow, Activation.NONE, s, MR);
        } finally {
            BUFFERS.give(s);
        }
    }

    /**
     * Below this many rows a product runs as {@link #fewRows} even where its row blocks would make enough many-rows
     * items: items of one or two 12-row blocks each read all of B again. A probe of Qwen3-0.6B's four products over six
     * copies of the weights (two threads, Xeon, 2026-12-06, three rounds; GFLOP/s as items of few rows against as
     * many-rows items): M = 256 246–265 against 180–199; M = 512 232–254 against 223–247; M = 768 237–253 against
     * 265–290; M = 128 the same either way (few rows before too); M = 2048 many-rows, 288–308. A size, not a count of
     * items per thread: few-rows copies all of A, and on many cores a per-thread bound would copy megabytes.
     */
    private static final int FEW_ROWS_MAX_ROWS = 768;

    /**
     * Columns of panels [pFrom, pTo) of x (in layout xl) to y (in layout yl), with an explicit tile height
     * ({@code 5} or {@code 12}), so tests cover both on any machine.
     */
    static void linear(float[] x, Layout xl, int rows, PackedLinear w, int pFrom, int pTo, float[] y, Layout yl, Activation act,
                       ParallelFor pf, int tileRows) {
        if (tileRows != 5 && tileRows != 12) throw new IllegalArgumentException("tile height must be 5 or 12, got " + tileRows);
        int mr = rows <= 5 ? 5 : tileRows; // a 12-row tile would compute mostly padding
        int k = w.in(), panels = pTo - pFrom;
        int blocks = (rows + mr - 1) / mr;
        // Enough items for dynamic balancing on a noisy machine.
        int target = 8 * pf.threads();
        int blocksPerItem = Math.max(1, Math.min(MC / mr, blocks / target));
        int rowItems = (blocks + blocksPerItem - 1) / blocksPerItem;
        if ((rowItems < target || rows < FEW_ROWS_MAX_ROWS) && panels > 1) {
            fewRows(x, xl, rows, w, pFrom, pTo, y, yl, act, pf, mr);
            return;
        }
        int itemRows = blocksPerItem * mr;
        Tail tail = Tail.of(rowItems, panels, pf.threads()); // the last row items in parts of their panels
        pf.forEach(tail.items(), BUFFERS, (s, item) -> {
            int rowItem = tail.unit(item), p0 = pFrom + tail.from(item), p1 = pFrom + tail.to(item);
            int r0 = rowItem * itemRows, r1 = Math.min(rows, r0 + itemRows);
            rows(x, xl, r0, r1, w, p0, p1, y, yl, r0, act, s, mr);
        });
    }

    /**
     * Rows [r0, r1) of x × panels [p0, p1) on this thread, into y's rows from {@code yRow}: the body of a many-rows
     * work item. Row blocks of x read in place where its layout allows ({@link #inPlaceEnd}), the rest copied into
     * the worker's A buffer a k-block at a time.
     */
    private static void rows(float[] x, Layout xl, int r0, int r1, PackedLinear w, int p0, int p1, float[] y, Layout yl,
                             int yRow, Activation act, Buffers s, int mr) {
        int k = w.in(), dy = yRow - r0;
        int rInPlace = inPlaceEnd(xl, r0, r1, k, mr);
        float[] a = s.a((r1 - rInPlace + mr - 1) / mr * mr * KC);
        for (int k0 = 0; k0 < k; k0 += KC) {
            int kc = Math.min(KC, k - k0);
            if (rInPlace < r1) copyA(x, rInPlace, r1, k, k0, kc, a, 0, mr);
            for (int p = p0; p < p1; p += PANELS_PER_PASS) {
                int pEnd = Math.min(p1, p + PANELS_PER_PASS);
                if (r0 < rInPlace) panels(x, xl.at(r0, k0, k), r0 + dy, rInPlace + dy, k0, kc, w, p, pEnd, y, yl, act, s.tile, mr);
                if (rInPlace < r1) panels(a, 0, rInPlace + dy, r1 + dy, k0, kc, w, p, pEnd, y, yl, act, s.tile, mr);
            }
        }
    }

    /**
     * Where rows [r0, r1) stop being read from x in place: a blocked x is read in place whole; a row-major x whose
     * rows are KC apart already (K = 384: three of MiniLM's four products) has its whole row blocks read in place,
     * and a few-rows call then needs no parallel copy step (JarAB on MiniLM: (c) 1.021, 1.023; (a) 1.003, (b)
     * 0.998), but its last, partial block is copied, so that its padding rows are never read past x's end.
     */
    private static int inPlaceEnd(Layout xl, int r0, int r1, int k, int mr) {
        if (xl.isBlocked()) return r1;
        return k == KC ? r0 + (r1 - r0) / mr * mr : r0;
    }

    /**
     * Few rows (a single pair, a query): splitting rows would leave too few items, and splitting panels
     * between items that each copy their rows would re-read every weight once per row block (measured:
     * bge-base at 141 tokens ran at 60% of ONNX Runtime's speed). So all of x is copied once, in parallel,
     * then each item takes one panel over all rows, each k-block of it read ahead by {@link #touch}: each weight is
     * read once per call, and items this small let both threads end a kernel together (JFR, minilm-ce (c),
     * 2026-12-04: with groups of up to three panels the caller waited for its helper in 15% of its samples, mostly
     * here; one panel per item: bench/run-ab (c), four runs of 300 pairs on MiniLM-L6: 1.005–1.029×, median 1.015;
     * bge-base 1.012×).
     * The last {@code threads} panels go out in {@link #TAIL_SPLIT} parts of their rows. Every panel in parts measured
     * 1.013–1.041× over whole panels (bench/run-ab (c), 300 pairs, four runs on MiniLM-L6; bge-base 1.024×), and
     * the last panels alone in parts 1.011–1.018× over that (bge-base 1.019×); a build against itself reads
     * 1.009–1.025×, so each step is at the edge of the noise.
     */
    private static void fewRows(float[] x, Layout xl, int rows, PackedLinear w, int pFrom, int pTo, float[] y, Layout yl,
                                Activation act, ParallelFor pf, int mr) {
        if (inPlaceEnd(xl, 0, rows, w.in(), mr) == rows) { // nothing to copy
            fewRows(x, xl, rows, w, pFrom, pTo, y, yl, act, pf, mr, null);
            return;
        }
        int padded = (rows + mr - 1) / mr * mr;
        Buffers copiedRows = COPIED_ROWS.take();
        try {
            fewRows(x, xl, rows, w, pFrom, pTo, y, yl, act, pf, mr, copiedRows.a(padded * Layout.roundedCols(w.in())));
        } finally {
            COPIED_ROWS.give(copiedRows);
        }
    }

    private static void fewRows(float[] x, Layout xl, int rows, PackedLinear w, int pFrom, int pTo, float[] y, Layout yl,
                                Activation act, ParallelFor pf, int mr, float[] copied) {
        int k = w.in(), panels = pTo - pFrom;
        int blocks = (rows + mr - 1) / mr, padded = blocks * mr;
        // k-block k0 of all rows starts at k0·padded, its row blocks mr·KC apart; rows below rInPlace stay in x
        // (row-major in place, at most one block is left to copy, and a single item runs on the calling thread alone)
        int rInPlace = inPlaceEnd(xl, 0, rows, k, mr), bInPlace = (rInPlace + mr - 1) / mr;
        pf.forEach(blocks - bInPlace, (s, i) -> {
            int b = bInPlace + i, r0 = b * mr, r1 = Math.min(rows, r0 + mr);
            for (int k0 = 0; k0 < k; k0 += KC) {
                int kc = Math.min(KC, k - k0);
                copyA(x, r0, r1, k, k0, kc, copied, k0 * padded + b * mr * KC, mr);
            }
        });
        Tail tail = Tail.of(panels, blocks, pf.threads()); // the last panels in parts of their row blocks
        pf.forEach(tail.items(), BUFFERS, (s, item) -> {
            int p = pFrom + fromBothEnds(tail.unit(item), panels), b0 = tail.from(item), b1 = tail.to(item);
            int r0 = b0 * mr, r1 = Math.min(rows, b1 * mr), split = Math.clamp(rInPlace, r0, r1);
            for (int k0 = 0; k0 < k; k0 += KC) {
                int kc = Math.min(KC, k - k0);
                s.sink += touch(w.packed(), 4L * ((long) p * NR * k + (long) k0 * NR), 4L * kc * NR);
                if (r0 < split) panels(x, xl.at(r0, k0, k), r0, split, k0, kc, w, p, p + 1, y, yl, act, s.tile, mr);
                if (split < r1) panels(copied, k0 * padded + Math.max(b0, bInPlace) * mr * KC, split, r1, k0, kc, w, p, p + 1, y, yl, act, s.tile, mr);
            }
        });
    }

    /**
     * Reads one float of every 64 bytes of b[from, from + bytes), a k-block of a panel: Java has no prefetch, and
     * this is the nearest thing. A few-rows item reads each weight once per call, so a panel's k-block (48 KB) comes
     * from L3 or memory, and the first tile over it waited on those misses with only a few k steps in flight. A loop
     * of nothing but independent loads keeps many more misses in flight, and the tiles then find the block in L2.
     * Probe (M = 140, K = 768, N = 3072, two threads, 2026-12-05, Xeon): with 40 distinct weights (377 MB) the
     * product ran at 249 GFLOP/s against 315 with one weight reused; JarAB (c), bit-identical: bge-base 1.072, the
     * MiniLM cross-encoder 1.064, the bi-encoder 1.051 (a first form, four lines a step: 1.052–1.073, 1.086,
     * 1.023–1.090); (a) 1.009. Touching the k-blocks of a many-rows pass the same way measured 0.966 on (b) and 0.953
     * on (a): there each block serves ten row blocks, and the touch costs more than the one wait it saves.
     */
    private static float touch(MemorySegment b, long from, long bytes) {
        float s0 = 0, s1 = 0;
        for (long o = from, end = from + bytes; o < end; o += 4L * NR) { // a k step: two lines with 512-bit vectors
            s0 += b.get(JAVA_FLOAT, o);
            s1 += b.get(JAVA_FLOAT, o + 4L * V);
        }
        return s0 + s1;
    }

    /**
     * The panel the u-th unit of a few-rows call takes: 0, n − 1, 1, n − 2, …, so that the two items handed out
     * together work at opposite ends of y's rows. Adjacent panels share a cache line in every row (a heap array's
     * data starts 16 bytes past an 8-byte-aligned object, so a panel's 128 bytes of a row rarely begin a line), and
     * two cores storing into the same lines at once pass them back and forth: bge-base's four products at M = 143 on
     * two threads ran at 156–163 GFLOP/s with panels in order against 182–186 from both ends (a probe alternating
     * the two every 2 s in one JVM, 8 rounds each; one thread: 103).
     */
    static int fromBothEnds(int u, int n) {
        return u % 2 == 0 ? u / 2 : n - 1 - u / 2;
    }

    /**
     * Rows [r0, r1) × panels [p0, p1) for k-block [k0, k0 + kc): {@code a} holds those rows from {@code aAt}, as
     * {@link #copyA} lays them out. The first k-block writes bias + product into y, later ones add to it,
     * the last one applies the activation. y is in layout yl. {@code tile} takes the partial tiles at the edges.
     * With 12-row tiles, the rows go to 12-row tiles first and then to the 5-row tiles of {@link #fiveRowTiles}.
     */
    private static void panels(float[] a, int aAt, int r0, int r1, int k0, int kc, PackedLinear w, int p0, int p1,
                               float[] y, Layout yl, Activation act, float[] tile, int mr) {
        int k = w.in(), n = w.out(), stride = yl.rowStride(n);
        float[] bias = w.bias();
        boolean accumulate = k0 > 0, last = k0 + kc == k;
        int fives = mr == 12 ? fiveRowTiles(r1 - r0) : 0, tallEnd = r1 - 5 * fives;
        for (int r = r0, at = aAt, h; r < r1; r += h, at += h * KC) {
            h = r < tallEnd ? mr : 5;
            int tileRows = Math.min(h, r1 - r);
            for (int p = p0; p < p1; p++) {
                int col = p * NR, cols = Math.min(NR, n - col), yAt = yl.at(r, col, n);
                long bAt = 4L * ((long) p * NR * k + (long) k0 * NR);
                if (tileRows == h && cols == NR) {
                    tile(h, a, at, kc, w.packed(), bAt, y, yAt, stride, accumulate ? y : bias, accumulate ? yAt : col,
                            accumulate ? stride : 0);
                } else {
                    if (accumulate) copyRegion(y, yAt, stride, tile, 0, NR, tileRows, cols);
                    tile(h, a, at, kc, w.packed(), bAt, tile, 0, NR, accumulate ? tile : bias, accumulate ? 0 : col,
                            accumulate ? NR : 0);
                    copyRegion(tile, 0, NR, y, yAt, stride, tileRows, cols);
                }
            }
            if (last && act != Activation.NONE) activate(r, tileRows, w, p0, p1, y, yl, act);
        }
    }

    /**
     * How many 5-row tiles end a run of {@code rows} rows that 12-row tiles start: the count that computes the fewest
     * padding rows, a 5-row tile's row costing 4% more than a 12-row tile's (one thread, M = 480, K = N = 768: 12 rows
     * 103–109 GFLOP/s, 5 rows 100–108). A single pair of 140 tokens then takes 10 × 12 + 4 × 5 rows instead of 12 ×
     * 12, whose last tile computed 4 rows of padding and went through the edge buffer. The tiles never cover more rows
     * than whole 12-row tiles would, so they read no row of A that those did not.
     */
    static int fiveRowTiles(int rows) {
        int best = 0, bestCost = Integer.MAX_VALUE;
        for (int fives = 0; fives < 12; fives++) {
            int cost = 60 * Math.ceilDiv(Math.max(0, rows - 5 * fives), 12) + 26 * fives;
            if (cost < bestCost) {
                best = fives;
                bestCost = cost;
            }
            if (5 * fives >= rows) break;
        }
        return best;
    }

    /**
     * Columns [k0, k0 + kc) of rows [r0, r1) of x into {@code a}, rows {@link #KC} apart: row r at at + (r − r0)·KC;
     * the rows past r1 that fill the last block of mr are zeros.
     */
    private static void copyA(float[] x, int r0, int r1, int k, int k0, int kc, float[] a, int at, int mr) {
        int padded = (r1 - r0 + mr - 1) / mr * mr;
        for (int i = 0, to = at; i < padded; i++, to += KC) {
            if (r0 + i < r1) {
                System.arraycopy(x, (r0 + i) * k + k0, a, to, kc);
            } else {
                java.util.Arrays.fill(a, to, to + kc, 0f);
            }
        }
    }

    private static void copyRegion(float[] src, int srcAt, int srcStride, float[] dst, int dstAt, int dstStride,
                                   int rows, int cols) {
        for (int i = 0; i < rows; i++) System.arraycopy(src, srcAt + i * srcStride, dst, dstAt + i * dstStride, cols);
    }

    private static void tile(int mr, float[] a, int aAt, int kc, MemorySegment b, long bAt, float[] dst, int at,
                             int stride, float[] c0, int c0At, int c0Stride) {
        if (mr == 12) {
            tile12(a, aAt, kc, b, bAt, dst, at, stride, c0, c0At, c0Stride);
        } else {
            tile5(a, aAt, kc, b, bAt, dst, at, stride, c0, c0At, c0Stride);
        }
    }

    /**
     * dst rows [0, 12) (rows {@code stride} apart from {@code at}) = c0's rows ({@code c0Stride} apart from
     * {@code c0At}) + A-block · B k-block. c0 is dst itself for a later k-block, and the bias with stride 0 for the
     * first: the bias rides in with the accumulators, so a layer without an activation needs no pass after the tile,
     * and the tile has no branch of its own for C2 to prune on a profile that has not yet seen a later k-block (it
     * compiled the tile once more, 0.1–0.4 s, in the first call that had one). The indices are the loop counter times
     * a constant plus an invariant, so C2 drops every bounds check; the method holds only the FMA loop and plain loads
     * and stores, since a bigger one fails C1's tier-3 compile and then runs the Vector API's Java fallback, 100×
     * slower.
     */
    private static void tile12(float[] a, int aAt, int kc, MemorySegment b, long bAt, float[] dst, int at,
                               int stride, float[] c0, int c0At, int c0Stride) {
        FloatVector c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        FloatVector c60, c61, c70, c71, c80, c81, c90, c91, ca0, ca1, cb0, cb1;
        int o = c0At;
        c00 = FloatVector.fromArray(S, c0, o); c01 = FloatVector.fromArray(S, c0, o + V); o += c0Stride;
        c10 = FloatVector.fromArray(S, c0, o); c11 = FloatVector.fromArray(S, c0, o + V); o += c0Stride;
        c20 = FloatVector.fromArray(S, c0, o); c21 = FloatVector.fromArray(S, c0, o + V); o += c0Stride;
        c30 = FloatVector.fromArray(S, c0, o); c31 = FloatVector.fromArray(S, c0, o + V); o += c0Stride;
        c40 = FloatVector.fromArray(S, c0, o); c41 = FloatVector.fromArray(S, c0, o + V); o += c0Stride;
        c50 = FloatVector.fromArray(S, c0, o); c51 = FloatVector.fromArray(S, c0, o + V); o += c0Stride;
        c60 = FloatVector.fromArray(S, c0, o); c61 = FloatVector.fromArray(S, c0, o + V); o += c0Stride;
        c70 = FloatVector.fromArray(S, c0, o); c71 = FloatVector.fromArray(S, c0, o + V); o += c0Stride;
        c80 = FloatVector.fromArray(S, c0, o); c81 = FloatVector.fromArray(S, c0, o + V); o += c0Stride;
        c90 = FloatVector.fromArray(S, c0, o); c91 = FloatVector.fromArray(S, c0, o + V); o += c0Stride;
        ca0 = FloatVector.fromArray(S, c0, o); ca1 = FloatVector.fromArray(S, c0, o + V); o += c0Stride;
        cb0 = FloatVector.fromArray(S, c0, o); cb1 = FloatVector.fromArray(S, c0, o + V);
        for (int i = 0; i < kc; i++) {
            long bi = bAt + (long) i * (4L * NR);
            FloatVector b0 = FloatVector.fromMemorySegment(S, b, bi, NATIVE);
            FloatVector b1 = FloatVector.fromMemorySegment(S, b, bi + 4L * V, NATIVE);
            int ai = aAt + i;
            FloatVector e = FloatVector.broadcast(S, a[ai]);
            c00 = b0.fma(e, c00); c01 = b1.fma(e, c01);
            e = FloatVector.broadcast(S, a[ai + 1 * KC]);
            c10 = b0.fma(e, c10); c11 = b1.fma(e, c11);
            e = FloatVector.broadcast(S, a[ai + 2 * KC]);
            c20 = b0.fma(e, c20); c21 = b1.fma(e, c21);
            e = FloatVector.broadcast(S, a[ai + 3 * KC]);
            c30 = b0.fma(e, c30); c31 = b1.fma(e, c31);
            e = FloatVector.broadcast(S, a[ai + 4 * KC]);
            c40 = b0.fma(e, c40); c41 = b1.fma(e, c41);
            e = FloatVector.broadcast(S, a[ai + 5 * KC]);
            c50 = b0.fma(e, c50); c51 = b1.fma(e, c51);
            e = FloatVector.broadcast(S, a[ai + 6 * KC]);
            c60 = b0.fma(e, c60); c61 = b1.fma(e, c61);
            e = FloatVector.broadcast(S, a[ai + 7 * KC]);
            c70 = b0.fma(e, c70); c71 = b1.fma(e, c71);
            e = FloatVector.broadcast(S, a[ai + 8 * KC]);
            c80 = b0.fma(e, c80); c81 = b1.fma(e, c81);
            e = FloatVector.broadcast(S, a[ai + 9 * KC]);
            c90 = b0.fma(e, c90); c91 = b1.fma(e, c91);
            e = FloatVector.broadcast(S, a[ai + 10 * KC]);
            ca0 = b0.fma(e, ca0); ca1 = b1.fma(e, ca1);
            e = FloatVector.broadcast(S, a[ai + 11 * KC]);
            cb0 = b0.fma(e, cb0); cb1 = b1.fma(e, cb1);
        }
        c00.intoArray(dst, at); c01.intoArray(dst, at + V); at += stride;
        c10.intoArray(dst, at); c11.intoArray(dst, at + V); at += stride;
        c20.intoArray(dst, at); c21.intoArray(dst, at + V); at += stride;
        c30.intoArray(dst, at); c31.intoArray(dst, at + V); at += stride;
        c40.intoArray(dst, at); c41.intoArray(dst, at + V); at += stride;
        c50.intoArray(dst, at); c51.intoArray(dst, at + V); at += stride;
        c60.intoArray(dst, at); c61.intoArray(dst, at + V); at += stride;
        c70.intoArray(dst, at); c71.intoArray(dst, at + V); at += stride;
        c80.intoArray(dst, at); c81.intoArray(dst, at + V); at += stride;
        c90.intoArray(dst, at); c91.intoArray(dst, at + V); at += stride;
        ca0.intoArray(dst, at); ca1.intoArray(dst, at + V); at += stride;
        cb0.intoArray(dst, at); cb1.intoArray(dst, at + V);
    }

    /**
     * {@link #tile12} for 5 rows: 10 accumulators, for machines with 16 vector registers. Six rows (12
     * accumulators) leave C2 too few registers for the two B vectors and the broadcasts it hoists, so it keeps
     * two accumulators on the stack and every k step waits on a store and a reload (measured on Zen 3, AVX2,
     * one thread, M = 2048: 37 GFLOP/s with 6 rows, 84-87 with 5, 78-80 with 4).
     */
    private static void tile5(float[] a, int aAt, int kc, MemorySegment b, long bAt, float[] dst, int at,
                              int stride, float[] c0, int c0At, int c0Stride) {
        FloatVector c00, c01, c10, c11, c20, c21, c30, c31, c40, c41;
        int o = c0At;
        c00 = FloatVector.fromArray(S, c0, o); c01 = FloatVector.fromArray(S, c0, o + V); o += c0Stride;
        c10 = FloatVector.fromArray(S, c0, o); c11 = FloatVector.fromArray(S, c0, o + V); o += c0Stride;
        c20 = FloatVector.fromArray(S, c0, o); c21 = FloatVector.fromArray(S, c0, o + V); o += c0Stride;
        c30 = FloatVector.fromArray(S, c0, o); c31 = FloatVector.fromArray(S, c0, o + V); o += c0Stride;
        c40 = FloatVector.fromArray(S, c0, o); c41 = FloatVector.fromArray(S, c0, o + V);
        for (int i = 0; i < kc; i++) {
            long bi = bAt + (long) i * (4L * NR);
            FloatVector b0 = FloatVector.fromMemorySegment(S, b, bi, NATIVE);
            FloatVector b1 = FloatVector.fromMemorySegment(S, b, bi + 4L * V, NATIVE);
            int ai = aAt + i;
            FloatVector e = FloatVector.broadcast(S, a[ai]);
            c00 = b0.fma(e, c00); c01 = b1.fma(e, c01);
            e = FloatVector.broadcast(S, a[ai + 1 * KC]);
            c10 = b0.fma(e, c10); c11 = b1.fma(e, c11);
            e = FloatVector.broadcast(S, a[ai + 2 * KC]);
            c20 = b0.fma(e, c20); c21 = b1.fma(e, c21);
            e = FloatVector.broadcast(S, a[ai + 3 * KC]);
            c30 = b0.fma(e, c30); c31 = b1.fma(e, c31);
            e = FloatVector.broadcast(S, a[ai + 4 * KC]);
            c40 = b0.fma(e, c40); c41 = b1.fma(e, c41);
        }
        c00.intoArray(dst, at); c01.intoArray(dst, at + V); at += stride;
        c10.intoArray(dst, at); c11.intoArray(dst, at + V); at += stride;
        c20.intoArray(dst, at); c21.intoArray(dst, at + V); at += stride;
        c30.intoArray(dst, at); c31.intoArray(dst, at + V); at += stride;
        c40.intoArray(dst, at); c41.intoArray(dst, at + V);
    }

    /**
     * The activation over rows [r, r + rows) of panels [p0, p1) of y (in layout yl), in place (the bias came in
     * with the accumulators); a run of columns at a time that is contiguous in either layout.
     */
    private static void activate(int r, int rows, PackedLinear w, int p0, int p1, float[] y, Layout yl, Activation act) {
        int n = w.out(), end = Math.min(n, p1 * NR);
        for (int i = 0; i < rows; i++) {
            for (int col = p0 * NR, next; col < end; col = next) {
                next = Math.min(end, (col / KC + 1) * KC);
                int at = yl.at(r + i, col, n);
                VectorMath.apply(act, y, at, at + next - col);
            }
        }
    }
}
