package dev.rerank4j.tokenize;

import java.text.Normalizer.Form;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@link java.text.Normalizer#normalize}'s result in time linear in the text (n log n in a run of marks).
 *
 * <p>The JDK puts combining marks in canonical order by inserting each one behind the marks of a higher class
 * before it, so a run of marks in falling classes costs the square of its length: 80,000 marks of five classes in
 * turn took 4.3 s to normalize, a 3 MB document of them would take minutes. HF's Rust normalizer sorts such a run
 * instead. Here each run of more than {@link #LONG_RUN} code points that decompose to non-starters only is replaced
 * by its decomposition, stably sorted by combining class, before the JDK normalizes the text: Unicode's canonical
 * ordering is exactly that stable sort over the whole run of non-starters, and sorting a stretch of it first leaves
 * the same order and gives the JDK's insertion nothing to move.
 *
 * <p>Java offers no public combining class, so classes are compared by asking the JDK to order two marks.
 */
final class CanonicalOrder {
    /** Shorter runs go to the JDK as they are: its insertion costs at most this many steps per mark. */
    static final int LONG_RUN = 32;
    /** Marks of class 1 (U+0334) and 230 (U+0301): every non-starter moves across one of them. */
    private static final int LOW_CLASS_MARK = 0x0334;
    private static final int HIGH_CLASS_MARK = 0x0301;

    private CanonicalOrder() {}

    static String normalize(String text, Form form) {
        if (UnicodeProps.isAscii(text)) return text;
        return java.text.Normalizer.normalize(presorted(text, form), form);
    }

    /** {@code text} with its long runs of non-starters decomposed and in canonical order; {@code text} if it has none. */
    static String presorted(String text, Form form) {
        MarkDecompositions marks = form == Form.NFKC || form == Form.NFKD ? COMPATIBILITY : CANONICAL;
        List<int[]> runs = new ArrayList<>(); // {start, end} char indices of long runs
        int n = text.length();
        int start = 0, count = 0; // the stretch of code points that may decompose to non-starters, up to i
        for (int i = 0; i < n; ) {
            char c = text.charAt(i);
            int cp = c < 0x300 ? c : text.codePointAt(i);
            if (c >= 0x300 && mayDecomposeToNonStarters(cp)) {
                if (count++ == 0) start = i;
            } else {
                if (count > LONG_RUN) addRunsOfNonStarters(text, start, i, marks, runs);
                count = 0;
            }
            i += Character.charCount(cp);
        }
        if (count > LONG_RUN) addRunsOfNonStarters(text, start, n, marks, runs);
        if (runs.isEmpty()) return text;

        List<int[]> decomposed = new ArrayList<>(runs.size());
        for (int[] run : runs) {
            decomposed.add(text.substring(run[0], run[1]).codePoints()
                    .flatMap(cp -> Arrays.stream(marks.decomposition(cp)))
                    .toArray());
        }
        Map<Integer, Integer> ranks = CLASSES.ranks(decomposed);
        StringBuilder out = new StringBuilder(n + 16);
        int copied = 0;
        for (int r = 0; r < runs.size(); r++) {
            out.append(text, copied, runs.get(r)[0]);
            appendSorted(out, decomposed.get(r), ranks);
            copied = runs.get(r)[1];
        }
        return out.append(text, copied, n).toString();
    }

    /** The stretches of {@code text[start, end)} longer than {@link #LONG_RUN} that decompose to non-starters only. */
    private static void addRunsOfNonStarters(String text, int start, int end, MarkDecompositions marks, List<int[]> runs) {
        for (int i = start; i < end; ) {
            int runStart = i, count = 0;
            while (i < end) {
                int cp = text.codePointAt(i);
                if (!marks.decomposesToNonStarters(cp)) break;
                i += Character.charCount(cp);
                count++;
            }
            if (count > LONG_RUN) runs.add(new int[] {runStart, i});
            if (count == 0) i += Character.charCount(text.codePointAt(i));
        }
    }

    /**
     * False for a code point whose decomposition cannot begin with a non-starter: all but marks (gc M*) and the two
     * halfwidth sound marks U+FF9E/U+FF9F (which NFKD turns into U+3099/U+309A). Such a code point ends a run, and
     * only stretches of the others long enough to matter are decomposed.
     */
    static boolean mayDecomposeToNonStarters(int cp) {
        return UnicodeProps.isMark(cp) || cp == 0xFF9E || cp == 0xFF9F;
    }

    private static void appendSorted(StringBuilder out, int[] marks, Map<Integer, Integer> ranks) {
        long[] keyed = new long[marks.length];
        for (int k = 0; k < marks.length; k++) {
            keyed[k] = (long) ranks.get(marks[k]) << 32 | k; // the position breaks ties: a stable sort
        }
        Arrays.sort(keyed);
        for (long key : keyed) out.appendCodePoint(marks[(int) key]);
    }

    /**
     * The decompositions of the marks met so far, kept for the JVM's life: the JDK's never change, and there are only
     * a few thousand marks, so a text full of marks costs one lookup per mark after the first text.
     */
    private static final class MarkDecompositions {
        private static final int[] HAS_A_STARTER = {};
        private final Form decomposition;
        private final Map<Integer, int[]> known = new ConcurrentHashMap<>();

        MarkDecompositions(Form decomposition) {
            this.decomposition = decomposition;
        }

        /** True if {@code cp}'s decomposition is only non-starters. */
        boolean decomposesToNonStarters(int cp) {
            return known.computeIfAbsent(cp, c -> {
                int[] d = java.text.Normalizer.normalize(Character.toString(c), decomposition).codePoints().toArray();
                for (int part : d) {
                    if (!isNonStarter(part)) return HAS_A_STARTER;
                }
                return d;
            }) != HAS_A_STARTER;
        }

        /** The decomposition of {@code cp}, for which {@link #decomposesToNonStarters} said true. */
        int[] decomposition(int cp) {
            return known.get(cp);
        }
    }

    private static final MarkDecompositions CANONICAL = new MarkDecompositions(Form.NFD);
    private static final MarkDecompositions COMPATIBILITY = new MarkDecompositions(Form.NFKD);
    private static final CombiningClasses CLASSES = new CombiningClasses();

    /**
     * The order of the combining classes of the non-starters met so far, kept for the JVM's life: one mark stands for
     * each class (at most a few dozen), and each other mark is placed once, by a binary search among them.
     */
    private static final class CombiningClasses {
        private final List<Integer> standInsByClass = new ArrayList<>();
        private final Map<Integer, Integer> standInOf = new HashMap<>();

        /** Each mark of {@code runs} → the position of its class among the classes met (equal classes, equal ranks). */
        synchronized Map<Integer, Integer> ranks(List<int[]> runs) {
            Map<Integer, Integer> ranks = new HashMap<>();
            for (int[] run : runs) {
                for (int mark : run) {
                    if (!ranks.containsKey(mark)) ranks.put(mark, -1);
                    if (!standInOf.containsKey(mark)) place(mark);
                }
            }
            Map<Integer, Integer> positions = new HashMap<>();
            for (int k = 0; k < standInsByClass.size(); k++) positions.put(standInsByClass.get(k), k);
            ranks.replaceAll((mark, unset) -> positions.get(standInOf.get(mark)));
            return ranks;
        }

        private void place(int mark) {
            int lo = 0, hi = standInsByClass.size(); // the first stand-in whose class is not below mark's
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (movesBehind(mark, standInsByClass.get(mid))) lo = mid + 1; else hi = mid;
            }
            if (lo < standInsByClass.size() && !movesBehind(standInsByClass.get(lo), mark)) {
                standInOf.put(mark, standInsByClass.get(lo)); // the same class
            } else {
                standInsByClass.add(lo, mark);
                standInOf.put(mark, mark);
            }
        }
    }

    /** True if canonical ordering puts {@code first} after {@code second} when written first: its class is higher. */
    static boolean movesBehind(int first, int second) {
        String pair = new StringBuilder(4).appendCodePoint(first).appendCodePoint(second).toString();
        return java.text.Normalizer.normalize(pair, Form.NFD).codePointAt(0) == second && first != second;
    }

    /** True if {@code cp}, one code point already decomposed, has a combining class other than 0. */
    static boolean isNonStarter(int cp) {
        return movesBehind(cp, LOW_CLASS_MARK) || movesBehind(HIGH_CLASS_MARK, cp);
    }
}
