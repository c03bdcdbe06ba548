package dev.rerank4j.tokenize;

import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Translates the regexes of tokenizer.json, which HF compiles with Oniguruma (Ruby syntax, UTF-8), to java.util.regex
 * patterns that match the same text. Only a subset is translated, the one Split patterns use (Qwen2's, Llama-3's,
 * GPT-4o's, DeepSeek's): literals and escapes, {@code .}, classes with ranges, {@code \s \S \d \D \w \W},
 * general categories {@code \p{L}} (also {@code \p{^L}}, {@code \P{L}}), groups, lookaround, atomic groups, the
 * quantifiers {@code * + ? {n,m}} (lazy, possessive), and {@code (?i)} over ASCII literals. Anything else is refused
 * with an IllegalArgumentException naming the construct and its position, rather than guessed: the two engines
 * disagree in many places, and a guess would give other ids without a word.
 *
 * <p>Where they disagree, and what is written instead (each checked against HF tokenizers 0.23.3, tokenize/split-cases.json):
 * <ul>
 *   <li>{@code \s} is Unicode White_Space in Oniguruma, ASCII in Java: {@code \p{IsWhite_Space}}.</li>
 *   <li>{@code \w} is Oniguruma's word class: Alphabetic, marks, decimal digits, connector punctuation and ² ³ ¹ ¼ ½ ¾
 *       (its Latin-1 table), but not the joiners U+200C/U+200D that Java's Unicode {@code \w} has.</li>
 *   <li>{@code .} excludes only {@code \n}; Java's also excludes \r, U+0085, U+2028, U+2029.</li>
 *   <li>{@code \v} is U+000B (Java: a class), {@code \h} a hex digit (Java: horizontal space; refused here).</li>
 *   <li>{@code (?i)} folds case by Unicode's case folding: {@code s} also matches ſ and {@code k} the Kelvin sign, but
 *       {@code i} matches neither İ nor ı, as Java's UNICODE_CASE would; and it folds strings, so {@code (?i:ss)} matches
 *       ß and {@code (?i:st)} ﬆ. So each ASCII letter becomes the class of what folds to it, and literal runs that a
 *       ligature or ß folds to (ss, st, ff, fi, fl) are refused, as are classes, groups and quantifiers under it.</li>
 *   <li>An inline {@code (?i)} reaches to the end of its group, alternatives included: {@code a(?i)b|c} is
 *       {@code a(?i:b|c)} in Oniguruma, {@code (?:ab)|c} with c case-blind in Java.</li>
 *   <li>{@code {,n}} is {@code {0,n}}; a {@code {} that is no interval is a literal; {@code {n,m}+} repeats rather than
 *       being possessive (refused).</li>
 *   <li>{@code ^ $} are line anchors in Ruby syntax (refused, as are {@code \b \A \z} and the like).</li>
 * </ul>
 * Every literal is written as {@code \x{...}} but ASCII letters and digits, so no character means something else to Java.
 */
final class OnigurumaRegex {
    /** Oniguruma's largest repeat count (ONIG_MAX_REPEAT_NUM); it refuses larger ones. */
    private static final int MAX_REPEAT = 100_000;
    /**
     * Oniguruma's {@code \w} (Word): Java's Unicode word class without the joiners, with the Latin-1 digits and
     * fractions that are not decimal digits (² ³ ¹ ¼ ½ ¾), as a class body.
     */
    private static final String WORD = "\\p{IsAlphabetic}\\p{M}\\p{Nd}\\p{Pc}\\x{B2}\\x{B3}\\x{B9}\\x{BC}-\\x{BE}";
    /**
     * Oniguruma's {@code \w} inside a bracket class, which leaves those six out ({@code [\w\-]} splits "a²b" as a | ² | b
     * in HF tokenizers 0.23.3; found by a review's sweep of every code point).
     */
    private static final String WORD_IN_CLASS = "\\p{IsAlphabetic}\\p{M}\\p{Nd}\\p{Pc}";
    private static final Set<String> CATEGORIES = Set.of("L", "Lu", "Ll", "Lt", "Lm", "Lo", "M", "Mn", "Mc", "Me", "N", "Nd",
            "Nl", "No", "P", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "S", "Sm", "Sc", "Sk", "So", "Z", "Zs", "Zl", "Zp",
            "C", "Cc", "Cf", "Cs", "Co", "Cn");
    /** Two ASCII letters that a single char folds to (ß ẞ → ss, ﬅ ﬆ → st, ﬀ ﬃ ﬄ → ff, ﬁ → fi, ﬂ → fl), lower case. */
    private static final Set<String> FOLDED_PAIRS = Set.of("ss", "st", "ff", "fi", "fl");

    private final String source;
    private final int[] cps;
    private int pos;
    private final StringBuilder out = new StringBuilder();

    private OnigurumaRegex(String source) {
        this.source = source;
        this.cps = source.codePoints().toArray();
    }

    /** The java.util.regex pattern that matches what Oniguruma matches with {@code onig}. */
    static Pattern compile(String onig) {
        String java = toJava(onig);
        try {
            return Pattern.compile(java);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("cannot translate /" + onig + "/ to java.util.regex: " + e.getDescription());
        }
    }

    /** The java.util.regex syntax for {@code onig}. */
    static String toJava(String onig) {
        OnigurumaRegex r = new OnigurumaRegex(onig);
        r.alternation(false);
        if (r.pos < r.cps.length) throw r.refuse("an unmatched ')'");
        return r.out.toString();
    }

    private IllegalArgumentException refuse(String what) {
        return new IllegalArgumentException("the regex /" + source + "/ has " + what + " at character " + pos
                + ", which is not translated to java.util.regex (supported: literals, classes, \\s \\d \\w and their"
                + " negations, \\p{general category}, groups, lookaround, quantifiers, (?i) over ASCII literals)");
    }

    private boolean more() {
        return pos < cps.length;
    }

    private int peek() {
        return more() ? cps[pos] : -1;
    }

    private boolean lookingAt(String text) {
        int[] t = text.codePoints().toArray();
        if (pos + t.length > cps.length) return false;
        for (int i = 0; i < t.length; i++) if (cps[pos + i] != t[i]) return false;
        return true;
    }

    // ---- structure

    private void alternation(boolean caseless) {
        sequence(caseless);
        while (peek() == '|') {
            pos++;
            out.append('|');
            sequence(caseless);
        }
    }

    /** Atoms, each maybe quantified, up to '|', ')' or the end. */
    private void sequence(boolean caseless) {
        int previousLetter = -1; // under (?i): the last literal letter, lower case, for the folded-pair check
        while (more() && peek() != '|' && peek() != ')') {
            if (lookingAt("(?i)") || lookingAt("(?-i)")) {
                if (caseless) throw refuse("an inline flag under (?i)");
                // Oniguruma: the flag holds to the end of the group, the alternatives after it included
                boolean on = lookingAt("(?i)");
                pos += on ? 4 : 5;
                out.append("(?:");
                alternation(on);
                out.append(')');
                return;
            }
            int start = pos;
            int c = peek();
            if (caseless) {
                if (isQuantifier()) throw refuse("a quantifier under (?i)");
                int literal = literalUnderCaseFolding();
                int lower = literal >= 'A' && literal <= 'Z' ? literal + 32 : literal;
                if (previousLetter >= 0 && lower >= 'a' && lower <= 'z'
                        && FOLDED_PAIRS.contains("" + (char) previousLetter + (char) lower)) {
                    pos = start;
                    throw refuse("'" + (char) previousLetter + (char) lower + "' under (?i), which ß or a ligature folds to");
                }
                previousLetter = lower >= 'a' && lower <= 'z' ? lower : -1;
                continue;
            }
            quantifier(atom(c));
        }
    }

    /** One atom at pos, written out; whether a quantifier may follow it. */
    private boolean atom(int c) {
        switch (c) {
            case '(' -> {
                return group();
            }
            case '[' -> {
                characterClass();
                return true;
            }
            case '.' -> {
                pos++;
                out.append("[^\\x{A}]");
                return true;
            }
            case '\\' -> {
                escape(false);
                return true;
            }
            case '^', '$' -> throw refuse("the line anchor '" + (char) c + "'");
            case '*', '+', '?' -> throw refuse("a quantifier with nothing to repeat");
            case '{' -> {
                if (interval(pos) != null) throw refuse("a quantifier with nothing to repeat");
                pos++;
                literal('{');
                return true;
            }
            default -> {
                pos++;
                literal(c);
                return true;
            }
        }
    }

    /** Under (?i): a literal character (written as the class of what folds to it), or a refusal. */
    private int literalUnderCaseFolding() {
        int c = peek();
        int at = pos;
        int literal;
        if (c == '\\') {
            pos++;
            literal = escapedChar();
            if (literal < 0) {
                pos = at;
                throw refuse("an escape that is not one character, under (?i)");
            }
        } else if (c == '(' || c == '[' || c == '.' || c == '^' || c == '$' || c == '*' || c == '+' || c == '?') {
            throw refuse("'" + (char) c + "' under (?i) (only literals and '|' are translated there)");
        } else {
            pos++;
            literal = c;
        }
        if (literal >= 0x80) {
            pos = at;
            throw refuse("the non-ASCII character U+" + Integer.toHexString(literal).toUpperCase(Locale.ROOT)
                    + " under (?i), whose case folding is not translated");
        }
        if (Character.isLetter(literal)) {
            int upper = Character.toUpperCase(literal), lower = Character.toLowerCase(literal);
            out.append('[').append((char) lower).append((char) upper);
            if (lower == 's') out.append("\\x{17F}"); // ſ folds to s
            if (lower == 'k') out.append("\\x{212A}"); // the Kelvin sign folds to k
            out.append(']');
        } else {
            literal(literal);
        }
        return literal;
    }

    private boolean isQuantifier() {
        int c = peek();
        return c == '*' || c == '+' || c == '?' || (c == '{' && interval(pos) != null);
    }

    /** A quantifier after the atom just written, if there is one; {@code repeatable}: whether the atom may have one. */
    private void quantifier(boolean repeatable) {
        if (!isQuantifier()) return;
        if (!repeatable) throw refuse("a quantifier on a lookaround");
        int c = peek();
        if (c == '{') {
            int[] range = interval(pos);
            while (peek() != '}') pos++;
            pos++;
            if (range[1] >= 0 && range[0] > range[1]) throw refuse("an interval {n,m} with n > m");
            out.append('{').append(range[0]);
            if (range[1] != range[0]) out.append(',');
            if (range[1] > range[0]) out.append(range[1]);
            out.append('}');
            if (peek() == '?') {
                if (range[0] == range[1]) throw refuse("'{n}?', which Ruby syntax reads as ({n})?");
                pos++;
                out.append('?');
            }
            if (peek() == '+') throw refuse("'{n,m}+', which Ruby syntax reads as ({n,m})+, not as possessive");
        } else {
            pos++;
            out.append((char) c);
            if (peek() == '?' || peek() == '+') out.append((char) cps[pos++]); // lazy or possessive, as in Java
        }
        if (isQuantifier()) throw refuse("a quantifier on a quantifier");
    }

    /**
     * The interval {@code {n}, {n,}, {,m}, {n,m}} at {@code at} as {min, max (-1: none)}, or null where Oniguruma reads
     * the brace as a literal.
     */
    private int[] interval(int at) {
        if (at >= cps.length || cps[at] != '{') return null;
        int i = at + 1;
        long min = -1, max = -1;
        int digits = 0;
        long value = 0;
        while (i < cps.length && cps[i] >= '0' && cps[i] <= '9') {
            value = Math.min(10L * value + (cps[i++] - '0'), Integer.MAX_VALUE);
            digits++;
        }
        if (digits > 0) min = value;
        if (i < cps.length && cps[i] == '}') {
            if (digits == 0) return null;
            max = min;
        } else if (i < cps.length && cps[i] == ',') {
            i++;
            int maxDigits = 0;
            value = 0;
            while (i < cps.length && cps[i] >= '0' && cps[i] <= '9') {
                value = Math.min(10L * value + (cps[i++] - '0'), Integer.MAX_VALUE);
                maxDigits++;
            }
            if (digits == 0 && maxDigits == 0) return null; // "{,}" is literal
            if (maxDigits > 0) max = value;
            if (i >= cps.length || cps[i] != '}') return null;
            if (digits == 0) min = 0;
        } else {
            return null;
        }
        if (min > MAX_REPEAT || max > MAX_REPEAT) {
            pos = at;
            throw refuse("a repeat count above Oniguruma's " + MAX_REPEAT);
        }
        return new int[] {(int) min, (int) max};
    }

    /** A group at pos; whether it may be quantified (lookarounds may not). */
    private boolean group() {
        pos++; // '('
        boolean repeatable = true;
        boolean caseless = false;
        if (peek() != '?') {
            out.append("(?:"); // a capture, but nothing here reads captures
        } else if (lookingAt("?:")) {
            pos += 2;
            out.append("(?:");
        } else if (lookingAt("?=") || lookingAt("?!")) {
            out.append('(').append((char) cps[pos]).append((char) cps[pos + 1]);
            pos += 2;
            repeatable = false;
        } else if (lookingAt("?<=") || lookingAt("?<!")) {
            out.append("(?<").append((char) cps[pos + 2]);
            pos += 3;
            repeatable = false;
        } else if (lookingAt("?>")) {
            pos += 2;
            out.append("(?>");
        } else if (lookingAt("?i:") || lookingAt("?-i:")) {
            caseless = lookingAt("?i:");
            pos += caseless ? 3 : 4;
            out.append("(?:");
        } else if (lookingAt("?<") && pos + 2 < cps.length && isNameStart(cps[pos + 2])) {
            pos += 2;
            while (more() && isNameChar(peek())) pos++;
            if (peek() != '>') throw refuse("a group name that does not end with '>'");
            pos++;
            out.append("(?:"); // a named capture: nothing reads it
        } else {
            pos--;
            throw refuse("the group '(" + new String(cps, pos + 1, Math.min(3, cps.length - pos - 1)) + "'");
        }
        alternation(caseless);
        if (peek() != ')') throw refuse("a group without its ')'");
        pos++;
        out.append(')');
        return repeatable;
    }

    private static boolean isNameStart(int c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    }

    private static boolean isNameChar(int c) {
        return isNameStart(c) || (c >= '0' && c <= '9');
    }

    // ---- escapes and classes

    /** An escape at pos (the backslash), written out as a character or a class; {@code inClass}: inside [...]. */
    private void escape(boolean inClass) {
        int at = pos;
        pos++; // '\'
        if (!more()) throw refuse("a trailing backslash");
        int c = peek();
        String shorthand = switch (c) {
            case 's' -> "\\p{IsWhite_Space}";
            case 'S' -> "\\P{IsWhite_Space}";
            case 'd' -> "\\p{Nd}";
            case 'D' -> "\\P{Nd}";
            case 'w' -> inClass ? WORD_IN_CLASS : "[" + WORD + "]";
            case 'W' -> {
                if (inClass) {
                    pos = at;
                    throw refuse("\\W inside a class");
                }
                yield "[^" + WORD + "]";
            }
            case 'p', 'P' -> property(c == 'P');
            default -> null;
        };
        if (shorthand != null) {
            if (c != 'p' && c != 'P') pos++;
            out.append(shorthand);
            return;
        }
        int literal = escapedChar();
        if (literal < 0) {
            pos = at;
            throw refuse("the escape '\\" + Character.toString(c) + "'");
        }
        literal(literal);
    }

    /**
     * The character of the escape after the backslash at pos ({@code \t \n \r \f \v \a \e \xHH \x{H...} \\uHHHH} or an
     * escaped ASCII punctuation mark or space), pos moved past it; -1 for anything else (pos then unspecified).
     */
    private int escapedChar() {
        int c = peek();
        pos++;
        switch (c) {
            case 't': return '\t';
            case 'n': return '\n';
            case 'r': return '\r';
            case 'f': return '\f';
            case 'v': return 0x0B;
            case 'a': return 0x07;
            case 'e': return 0x1B;
            case 'x': {
                if (peek() == '{') {
                    int close = pos + 1;
                    while (close < cps.length && close - pos <= 9 && isHex(cps[close])) close++;
                    if (close == pos + 1 || close >= cps.length || cps[close] != '}' || close - pos > 9) return -1;
                    int value = hexValue(pos + 1, close);
                    pos = close + 1;
                    return validScalar(value);
                }
                int end = pos;
                while (end < cps.length && end - pos < 2 && isHex(cps[end])) end++;
                if (end == pos) return -1;
                int value = hexValue(pos, end);
                pos = end;
                return value;
            }
            case 'u': {
                if (pos + 4 > cps.length) return -1;
                for (int i = pos; i < pos + 4; i++) if (!isHex(cps[i])) return -1;
                int value = hexValue(pos, pos + 4);
                pos += 4;
                return validScalar(value);
            }
            default:
                // an escaped punctuation mark or space is itself; letters and digits are escapes of their own
                return c >= 0x20 && c < 0x7F && !Character.isLetterOrDigit(c) ? c : -1;
        }
    }

    private int validScalar(int value) {
        if (value > Character.MAX_CODE_POINT || (value >= Character.MIN_SURROGATE && value <= Character.MAX_SURROGATE)) {
            throw refuse("an escape of U+" + Integer.toHexString(value).toUpperCase(Locale.ROOT) + ", no Unicode scalar value");
        }
        return value;
    }

    private static boolean isHex(int c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }

    private int hexValue(int from, int to) {
        long value = 0;
        for (int i = from; i < to; i++) value = Math.min(16 * value + Character.digit(cps[i], 16), Integer.MAX_VALUE);
        return (int) value;
    }

    /** {@code \p{Name}}, {@code \p{^Name}} or {@code \P{Name}} at pos (on the p), for a general category Name. */
    private String property(boolean negated) {
        pos++; // p or P
        if (peek() != '{') throw refuse("\\p without {name}");
        int close = pos;
        while (close < cps.length && cps[close] != '}') close++;
        if (close == cps.length) throw refuse("\\p{ without '}'");
        String name = new String(cps, pos + 1, close - pos - 1);
        if (name.startsWith("^")) {
            negated = !negated;
            name = name.substring(1);
        }
        String category = null;
        for (String known : CATEGORIES) if (known.equalsIgnoreCase(name)) category = known; // Oniguruma ignores case
        if (category == null) throw refuse("the property \\p{" + name + "} (only general categories such as L, Lu, N are"
                + " translated)");
        pos = close + 1;
        return (negated ? "\\P{" : "\\p{") + category + "}";
    }

    /** A character class at pos ('['), written out. */
    private void characterClass() {
        pos++;
        out.append('[');
        if (peek() == '^') {
            pos++;
            out.append('^');
        }
        if (peek() == ']') throw refuse("']' first in a class");
        while (true) {
            if (!more()) throw refuse("a class without its ']'");
            int c = peek();
            if (c == ']') {
                pos++;
                break;
            }
            if (c == '[') throw refuse("a nested class or POSIX bracket");
            if (c == '&' && lookingAt("&&")) throw refuse("a class intersection");
            int mark = out.length();
            int low = classChar();
            boolean dash = peek() == '-' && pos + 1 < cps.length && cps[pos + 1] != ']'; // else a '-' is a literal
            if (!dash) continue;
            if (low == -2) throw refuse("'-' after a class shorthand, not ending the class");
            pos++;
            int at = pos;
            int high = classChar();
            if (high < 0) {
                pos = at;
                throw refuse("a range whose end is not one character");
            }
            if (high < low) {
                pos = at;
                throw refuse("a range whose end comes before its start");
            }
            out.setLength(mark);
            literal(low);
            out.append('-');
            literal(high);
            if (peek() == '-' && pos + 1 < cps.length && cps[pos + 1] != ']') throw refuse("'-' right after a range");
        }
        out.append(']');
    }

    /**
     * One class member at pos, written out: a character (returned) or a shorthand such as \s or \p{L} (-2). A '-' that
     * starts or ends the class is a literal, as in Oniguruma.
     */
    private int classChar() {
        int c = peek();
        if (c == '\\') {
            int at = pos;
            pos++;
            int e = peek();
            if (e == 's' || e == 'S' || e == 'd' || e == 'D' || e == 'w' || e == 'W' || e == 'p' || e == 'P') {
                pos = at;
                escape(true);
                return -2;
            }
            int literal = escapedChar();
            if (literal < 0) {
                pos = at;
                throw refuse("the escape '\\" + Character.toString(e) + "' in a class");
            }
            literal(literal);
            return literal;
        }
        pos++;
        literal(c);
        return c;
    }

    /** One character, written so that Java reads it as itself wherever it stands. */
    private void literal(int c) {
        if (c >= Character.MIN_SURROGATE && c <= Character.MAX_SURROGATE) {
            // HF cannot read such a file (a Rust string holds no lone surrogate), and no UTF-8 text holds one
            throw refuse("the lone surrogate U+" + Integer.toHexString(c).toUpperCase(Locale.ROOT));
        }
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
            out.append((char) c);
        } else {
            out.append("\\x{").append(Integer.toHexString(c).toUpperCase(Locale.ROOT)).append('}');
        }
    }
}
