package dev.rerank4j.tokenize;

import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentHashMap;

/**
 * HF {@code BPE} (tokenizers/src/models/bpe/word.rs): a word starts as one symbol per character (a character missing from
 * the vocabulary becomes the unknown token where there is one, consecutive ones fused with {@code fuse_unk}, and is
 * dropped where there is none), then the adjacent pair of lowest merge rank is merged, the leftmost first on a tie,
 * until no pair has a merge. With {@code ignore_merges} a word in the vocabulary is its own token. Words already seen are
 * looked up, as tokenizers caches them (up to 10,000 words shorter than 256 chars, then no more are added): text repeats its words, and merging
 * made byte-level BPE about 2.3× slower than WordPiece on 1.5 KB documents without it.
 */
final class BpeModel extends VocabularyModel {
    /** A merge of two ids: its rank (its line in the merges list) and the id of the merged token. */
    record Merge(int rank, int id) {}

    /** By pair (left id &lt;&lt; 32 | right id). */
    private final Map<Long, Merge> merges;
    private final int unkId;
    private final boolean fuseUnk;
    private final boolean ignoreMerges;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();
    private static final int CACHE_WORDS = 10_000;
    /** As tokenizers, words this long or longer are not cached: a text of one endless word would fill the heap. */
    private static final int CACHE_WORD_LENGTH = 256;

    BpeModel(Map<String, Integer> vocab, Map<Long, Merge> merges, int unkId, boolean fuseUnk, boolean ignoreMerges) {
        super(vocab);
        this.merges = merges;
        this.unkId = unkId;
        this.fuseUnk = fuseUnk;
        this.ignoreMerges = ignoreMerges;
    }

    static long pair(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    @Override
    public void tokenize(String word, IntList out) {
        int[] cached = cache.get(word);
        if (cached == null) {
            IntList ids = new IntList(Math.max(4, word.length()));
            tokenizeUncached(word, ids);
            cached = ids.toArray();
            if (word.length() < CACHE_WORD_LENGTH && cache.size() < CACHE_WORDS) cache.put(word, cached);
        }
        for (int id : cached) out.add(id);
    }

    private void tokenizeUncached(String word, IntList out) {
        if (ignoreMerges) {
            Integer whole = vocab.get(word);
            if (whole != null) {
                out.add(whole);
                return;
            }
        }
        int n = word.codePointCount(0, word.length());
        int[] ids = new int[n];
        int count = 0;
        boolean afterUnknown = false; // fuse_unk joins unknown chars in a row, not an unknown char to a real token
        for (int i = 0; i < word.length(); ) {
            int cp = word.codePointAt(i);
            Integer id = vocab.get(word.substring(i, i + Character.charCount(cp)));
            i += Character.charCount(cp);
            if (id != null) {
                ids[count++] = id;
                afterUnknown = false;
            } else if (unkId >= 0 && !(fuseUnk && afterUnknown)) {
                ids[count++] = unkId;
                afterUnknown = true;
            }
        }
        merge(ids, count, out);
    }

    /** Merges the symbols ids[0..count) as tokenizers' Word::merge_all does, and appends what is left. */
    private void merge(int[] ids, int count, IntList out) {
        int[] prev = new int[count];
        int[] next = new int[count];
        boolean[] gone = new boolean[count];
        // queue entries: rank << 32 | position, so the lowest rank, then the leftmost position, comes first
        PriorityQueue<Long> queue = new PriorityQueue<>();
        for (int i = 0; i < count; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < count ? i + 1 : -1;
            if (i + 1 < count) offer(queue, ids, i, i + 1);
        }
        while (!queue.isEmpty()) {
            long top = queue.poll();
            int pos = (int) top;
            int rank = (int) (top >>> 32);
            int right = next[pos];
            if (gone[pos] || right < 0) continue;
            Merge m = merges.get(pair(ids[pos], ids[right]));
            if (m == null || m.rank() != rank) continue; // an entry made stale by an earlier merge
            ids[pos] = m.id();
            gone[right] = true;
            next[pos] = next[right];
            if (next[pos] >= 0) prev[next[pos]] = pos;
            if (prev[pos] >= 0) offer(queue, ids, prev[pos], pos);
            if (next[pos] >= 0) offer(queue, ids, pos, next[pos]);
        }
        for (int i = 0; i < count; i++) {
            if (!gone[i]) out.add(ids[i]);
        }
    }

    private void offer(PriorityQueue<Long> queue, int[] ids, int left, int right) {
        Merge m = merges.get(pair(ids[left], ids[right]));
        if (m != null) queue.add(((long) m.rank() << 32) | left);
    }
}
