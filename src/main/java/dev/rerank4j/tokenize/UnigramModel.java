package dev.rerank4j.tokenize;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * HF {@code Unigram} (SentencePiece unigram language model): the segmentation of a word that maximises the
 * sum of piece scores, found by Viterbi exactly as HF's {@code encode_optimized}
 * (tokenizers/src/models/unigram/model.rs):
 * <ul>
 *   <li>candidates from each start are visited shortest first and a later one wins only with a strictly
 *       higher total, so ties keep the shorter piece;</li>
 *   <li>a code point that starts no one-character piece may be an unknown of score
 *       {@code min(all scores) - 10};</li>
 *   <li>consecutive unknowns are fused into one token, whose id is its text's id if the vocabulary has it,
 *       else {@code unk_id}.</li>
 * </ul>
 * Pieces live in a char trie (an open-addressing hash of (node, char) edges), so one lookup walk per start
 * position finds all candidates; cost is O(length × longest match).
 */
final class UnigramModel implements TokenModel {
    /** HF's {@code K_UNK_PENALTY}. */
    private static final double UNK_PENALTY = 10.0;

    private final Map<String, Integer> ids;
    private final double[] scores;
    private final int unkId;
    private final double unkScore;
    private final CharTrie trie;

    /** {@code pieces[i]} has id i and score {@code scores[i]}; a repeated piece keeps its last id, as HF. */
    UnigramModel(List<String> pieces, double[] scores, int unkId) {
        if (pieces.isEmpty() || pieces.size() != scores.length) {
            throw new IllegalArgumentException("need one score per piece and at least one piece");
        }
        if (unkId < 0 || unkId >= pieces.size()) {
            throw new IllegalArgumentException("unk_id " + unkId + " is outside the vocabulary of " + pieces.size());
        }
        this.scores = scores.clone();
        this.unkId = unkId;
        this.ids = new HashMap<>(pieces.size() * 2);
        double min = Double.POSITIVE_INFINITY;
        for (int i = 0; i < pieces.size(); i++) {
            ids.put(pieces.get(i), i);
            min = Math.min(min, scores[i]);
        }
        this.unkScore = min - UNK_PENALTY;
        this.trie = new CharTrie(ids);
    }

    @Override
    public void tokenize(String word, IntList out) {
        int n = word.length();
        if (n == 0) {
            return;
        }
        // best[e]: best total score of a segmentation of word[0, e); from[e]: start of its last piece (-1: none yet)
        double[] best = new double[n + 1];
        int[] from = new int[n + 1];
        int[] piece = new int[n + 1];
        Arrays.fill(from, 1, n + 1, -1);
        for (int start = 0; start < n; ) {
            int cpLen = Character.charCount(word.codePointAt(start));
            double here = best[start];
            boolean singleFound = false;
            int node = CharTrie.ROOT;
            for (int end = start; end < n; end++) {
                node = trie.child(node, word.charAt(end));
                if (node < 0) {
                    break;
                }
                int id = trie.pieceId(node);
                if (id < 0) {
                    continue;
                }
                int at = end + 1;
                double candidate = scores[id] + here;
                if (from[at] < 0 || candidate > best[at]) {
                    best[at] = candidate;
                    from[at] = start;
                    piece[at] = id;
                }
                if (at - start == cpLen) {
                    singleFound = true;
                }
            }
            if (!singleFound) {
                int at = start + cpLen;
                double candidate = unkScore + here;
                if (from[at] < 0 || candidate > best[at]) {
                    best[at] = candidate;
                    from[at] = start;
                    piece[at] = unkId;
                }
            }
            start += cpLen;
        }
        // Backtrack, fusing runs of unknowns, then emit in order.
        int[] reversed = new int[n];
        int count = 0;
        int end = n;
        int unkEnd = -1;
        while (end > 0) {
            int start = from[end];
            if (piece[end] == unkId) {
                if (unkEnd < 0) {
                    unkEnd = end;
                }
            } else {
                if (unkEnd >= 0) {
                    reversed[count++] = idOfUnknown(word, end, unkEnd);
                    unkEnd = -1;
                }
                reversed[count++] = piece[end];
            }
            end = start;
        }
        if (unkEnd >= 0) {
            reversed[count++] = idOfUnknown(word, 0, unkEnd);
        }
        for (int k = count - 1; k >= 0; k--) {
            out.add(reversed[k]);
        }
    }

    /** HF maps each token's text back to an id: a fused run of unknowns may spell a piece. */
    private int idOfUnknown(String word, int start, int end) {
        Integer id = ids.get(word.substring(start, end));
        return id != null ? id : unkId;
    }

    @Override
    public int tokenId(String token) {
        Integer id = ids.get(token);
        return id != null ? id : -1;
    }

    @Override
    public int vocabSize() {
        return scores.length;
    }

    /** A trie over UTF-16 chars: edges in one open-addressing table keyed by (node, char). */
    static final class CharTrie {
        static final int ROOT = 0;
        private long[] keys;
        private int[] targets;
        private int size;
        private int[] pieceIds = new int[16];
        private int nodes = 1;

        CharTrie(Map<String, Integer> pieces) {
            int capacity = Integer.highestOneBit(Math.max(16, pieces.size() * 2)) * 2;
            keys = new long[capacity];
            Arrays.fill(keys, -1L);
            targets = new int[capacity];
            Arrays.fill(pieceIds, -1);
            for (Map.Entry<String, Integer> e : pieces.entrySet()) {
                String s = e.getKey();
                if (s.isEmpty()) {
                    continue;
                }
                int node = ROOT;
                for (int i = 0; i < s.length(); i++) {
                    int next = child(node, s.charAt(i));
                    if (next < 0) {
                        next = addNode();
                        put(node, s.charAt(i), next);
                    }
                    node = next;
                }
                pieceIds[node] = e.getValue();
            }
        }

        private int addNode() {
            if (nodes == pieceIds.length) {
                int old = pieceIds.length;
                pieceIds = Arrays.copyOf(pieceIds, old * 2);
                Arrays.fill(pieceIds, old, pieceIds.length, -1);
            }
            return nodes++;
        }

        private static long key(int node, char c) {
            return ((long) node << 16) | c;
        }

        private static int slot(long key, int mask) {
            long h = key * 0x9E3779B97F4A7C15L;
            return (int) (h >>> 32) & mask;
        }

        private void put(int node, char c, int target) {
            if ((size + 1) * 4L > keys.length * 3L) { // load factor 3/4
                grow();
            }
            long k = key(node, c);
            int mask = keys.length - 1;
            int i = slot(k, mask);
            while (keys[i] != -1L) {
                i = (i + 1) & mask;
            }
            keys[i] = k;
            targets[i] = target;
            size++;
        }

        private void grow() {
            long[] oldKeys = keys;
            int[] oldTargets = targets;
            keys = new long[oldKeys.length * 2];
            Arrays.fill(keys, -1L);
            targets = new int[keys.length];
            int mask = keys.length - 1;
            for (int j = 0; j < oldKeys.length; j++) {
                if (oldKeys[j] != -1L) {
                    int i = slot(oldKeys[j], mask);
                    while (keys[i] != -1L) {
                        i = (i + 1) & mask;
                    }
                    keys[i] = oldKeys[j];
                    targets[i] = oldTargets[j];
                }
            }
        }

        /** The child of {@code node} along {@code c}, or -1. */
        int child(int node, char c) {
            long k = key(node, c);
            int mask = keys.length - 1;
            for (int i = slot(k, mask); ; i = (i + 1) & mask) {
                long found = keys[i];
                if (found == k) {
                    return targets[i];
                }
                if (found == -1L) {
                    return -1;
                }
            }
        }

        /** The id of the piece ending at {@code node}, or -1. */
        int pieceId(int node) {
            return pieceIds[node];
        }
    }
}
