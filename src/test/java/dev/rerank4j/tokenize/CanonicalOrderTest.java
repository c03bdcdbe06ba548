package dev.rerank4j.tokenize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.text.Normalizer;
import java.text.Normalizer.Form;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link CanonicalOrder} gives java.text.Normalizer's text, whatever runs of marks it holds. The JDK is the reference:
 * runs here are short enough (a few hundred marks) for its quadratic ordering to be quick.
 */
class CanonicalOrderTest {
    /** Marks of classes 1, 6, 7, 8, 9, 10, 84, 202, 216, 220, 224, 226, 230, 232, 233, 234, 240, some supplementary. */
    private static final int[] MARKS = {0x0334, 0x16FF0, 0x093C, 0x3099, 0x094D, 0x05B0, 0x0C55, 0x0327, 0x1D165,
            0x0316, 0x302E, 0x1D16D, 0x0301, 0x0308, 0x0315, 0x035C, 0x035D, 0x0345, 0x1D167};
    /** Marks that decompose (U+0344 → two of class 230, U+0F73 is class 0 but decomposes to 129 + 130, U+0F75, U+0F81),
     * a class-0 spacing mark (U+093E), and the halfwidth sound marks NFKD turns into class-8 marks. */
    private static final int[] ODD = {0x0344, 0x0F73, 0x0F75, 0x0F81, 0x093E, 0xFF9E, 0xFF9F, 0x0340, 0x0341, 0x0343};
    /** Starters, some of which compose with the marks above (e, u, Hangul jamo, か, ウ, ぱ's base). */
    private static final int[] STARTERS = {'e', 'u', 'a', ' ', 0x00E9, 0x1100, 0x1161, 0x11A8, 0xAC00, 0x304B, 0xFF73,
            0x30A6, 0x0915, 0x0F40, 0x1E09};

    @Test
    void givesTheJdksTextOnRandomLongRunsOfMarks() {
        Random random = new Random(7);
        int presorted = 0;
        for (int trial = 0; trial < 400; trial++) {
            String text = randomText(random);
            for (Form form : Form.values()) {
                assertEquals(Normalizer.normalize(text, form), CanonicalOrder.normalize(text, form),
                        () -> form + " of " + codePoints(text));
                if (!CanonicalOrder.presorted(text, form).equals(text)) presorted++;
            }
        }
        assertTrue(presorted > 600, "long runs were sorted before the JDK saw them in " + presorted + " of 1600 cases");
    }

    /** Each mark the JDK knows, in a long run with marks of every class around it, lands where the JDK puts it. */
    @Test
    void placesEveryMarkWhereTheJdkDoes() {
        List<Integer> checked = new ArrayList<>();
        for (int cp = 0x300; cp <= Character.MAX_CODE_POINT; cp++) {
            if (!CanonicalOrder.mayDecomposeToNonStarters(cp)) continue;
            StringBuilder text = new StringBuilder("e");
            for (int k = 0; k < 3 * MARKS.length; k++) {
                text.appendCodePoint(MARKS[MARKS.length - 1 - k % MARKS.length]);
                if (k % 7 == 3) text.appendCodePoint(cp);
            }
            text.append('a');
            for (Form form : Form.values()) {
                assertEquals(Normalizer.normalize(text, form), CanonicalOrder.normalize(text.toString(), form),
                        "U+" + Integer.toHexString(cp) + ", " + form);
            }
            checked.add(cp);
        }
        assertTrue(checked.size() > 2000, checked.size() + " marks");
    }

    /**
     * What keeps the time linear: a run of non-starters is seen whole only if every code point that decomposes to a
     * non-starter first passes {@link CanonicalOrder#mayDecomposeToNonStarters}.
     */
    @Test
    void noOtherCodePointDecomposesToANonStarterFirst() {
        for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
            if (CanonicalOrder.mayDecomposeToNonStarters(cp) || cp <= 0xFFFF && Character.isSurrogate((char) cp)) continue;
            String d = Normalizer.normalize(Character.toString(cp), Form.NFKD);
            if (d.isEmpty() || d.codePointAt(0) == cp && Character.getType(cp) == Character.UNASSIGNED) continue;
            int first = d.codePointAt(0);
            assertTrue(!CanonicalOrder.isNonStarter(first), "U+" + Integer.toHexString(cp) + " decomposes to a non-starter first");
        }
        assertTrue(CanonicalOrder.isNonStarter(0x0301) && CanonicalOrder.isNonStarter(0x0334)
                && CanonicalOrder.isNonStarter(0x1D165) && !CanonicalOrder.isNonStarter('a')
                && !CanonicalOrder.isNonStarter(0x093E), "the probe itself");
    }

    /** A run the JDK alone orders in quadratic time (80,000 such marks took it 4.3 s) comes back as the JDK orders it. */
    @Test
    void sortsALongRunOfFallingClassesAsTheJdkWould() {
        StringBuilder text = new StringBuilder("x");
        for (int k = 0; k < 3000; k++) text.appendCodePoint(MARKS[MARKS.length - 1 - k % MARKS.length]);
        String presorted = CanonicalOrder.presorted(text.toString(), Form.NFD);
        assertNotEquals(text.toString(), presorted);
        assertEquals(Normalizer.normalize(text, Form.NFD), presorted, "already in canonical order");
    }

    private static String randomText(Random random) {
        StringBuilder text = new StringBuilder();
        int pieces = 1 + random.nextInt(4);
        for (int p = 0; p < pieces; p++) {
            text.appendCodePoint(STARTERS[random.nextInt(STARTERS.length)]);
            int run = random.nextInt(4) == 0 ? random.nextInt(CanonicalOrder.LONG_RUN + 2) : random.nextInt(200);
            for (int k = 0; k < run; k++) {
                int roll = random.nextInt(20);
                int[] pool = roll == 0 ? STARTERS : roll < 3 ? ODD : MARKS;
                text.appendCodePoint(pool[random.nextInt(pool.length)]);
            }
        }
        return text.toString();
    }

    private static String codePoints(String text) {
        StringBuilder out = new StringBuilder();
        text.codePoints().forEach(cp -> out.append(Integer.toHexString(cp)).append(' '));
        return out.toString();
    }
}
