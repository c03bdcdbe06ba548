package dev.rerank4j.bench;

import dev.rerank4j.tokenize.Tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A fixed benchmark workload: one query and documents whose tokenized lengths (special tokens [CLS] and
 * [SEP] included, i.e. what the model runs on) are exactly the lengths drawn.
 *
 * <p>Text is made of {@link #WORDS}, keeping only the words the tokenizer maps to exactly one token, with a
 * period (also one token) closing a sentence every 6–18 words; so a text of {@code n} words and periods is
 * {@code n + 2} tokens. The generator uses {@link java.util.Random} (its algorithm is fixed by the Java spec),
 * so a seed gives the same workload on every JDK; {@link #generate} checks every length after tokenization.
 * Draws, in order: the query's words, then per document its length (uniform in the spec's range) and its
 * words. So {@link Spec#D}'s first 100 documents are {@link Spec#A}'s for the same seed.
 *
 * @param spec       which workload this is
 * @param query      the query, {@link #QUERY_TOKENS} tokens long
 * @param docs       the documents
 * @param docLengths tokens per document as the tokenizer counts them
 * @param seed       the seed of the draws
 */
public record Workload(Spec spec, String query, List<String> docs, int[] docLengths, int queryLength, long seed) {
    public static final long DEFAULT_SEED = 42;
    public static final int QUERY_TOKENS = 12;
    /** Long enough that nothing is cut while checking lengths. */
    private static final int CHECK_LENGTH = 512;

    /** The workloads of the side-by-side harness (issue #5): documents and their length range, query 12 tokens. */
    public enum Spec {
        A("a", 100, 20, 256, false, "100 docs of 20–256 tokens"),
        B("b", 100, 128, 128, false, "100 docs × 128 tokens"),
        C("c", 1, 128, 128, true, "1 doc × 128 tokens (latency)"),
        D("d", 1000, 20, 256, false, "1,000 docs of 20–256 tokens");

        public final String id;
        public final int docs;
        public final int minTokens;
        public final int maxTokens;
        /** Reported as latency (ms per call, lower is better) rather than throughput. */
        public final boolean latency;
        public final String description;

        Spec(String id, int docs, int minTokens, int maxTokens, boolean latency, String description) {
            this.id = id;
            this.docs = docs;
            this.minTokens = minTokens;
            this.maxTokens = maxTokens;
            this.latency = latency;
            this.description = description;
        }

        public static Spec of(String id) {
            for (Spec s : values()) if (s.id.equalsIgnoreCase(id)) return s;
            throw new IllegalArgumentException("unknown workload '" + id + "' (a, b, c or d)");
        }
    }

    /** Workload (a) with seed 42: 12-token query, 100 docs of 20–256 tokens. */
    public static Workload standard(Tokenizer tokenizer) {
        return generate(tokenizer, Spec.A, DEFAULT_SEED, 100);
    }

    /**
     * The workload {@code spec} for {@code seed}, made of the words of {@link #WORDS} that are one token for
     * {@code tokenizer}; at least {@code minWords} must be (a small vocabulary such as the 3,002-piece test
     * Unigram tokenizer keeps 66). The random draws do not depend on how many words are kept, so the lengths
     * are the same for every tokenizer.
     */
    public static Workload generate(Tokenizer tokenizer, Spec spec, long seed, int minWords) {
        List<String> words = singleTokenWords(tokenizer, minWords);
        Random random = new Random(seed);
        String query = text(words, random, QUERY_TOKENS - 2, false);
        List<String> texts = new ArrayList<>(spec.docs);
        int[] lengths = new int[spec.docs];
        for (int i = 0; i < spec.docs; i++) {
            int tokens = spec.minTokens + random.nextInt(spec.maxTokens - spec.minTokens + 1);
            texts.add(text(words, random, tokens - 2, true));
            lengths[i] = tokens;
        }
        int queryLength = tokenizer.encode(query, CHECK_LENGTH).length();
        if (queryLength != QUERY_TOKENS) {
            throw new IllegalStateException("query tokenizes to " + queryLength + " tokens, expected " + QUERY_TOKENS + ": " + query);
        }
        for (int i = 0; i < spec.docs; i++) {
            int actual = tokenizer.encode(texts.get(i), CHECK_LENGTH).length();
            if (actual != lengths[i]) {
                throw new IllegalStateException("doc " + i + " tokenizes to " + actual + " tokens, drawn " + lengths[i]);
            }
        }
        return new Workload(spec, query, List.copyOf(texts), lengths, queryLength, seed);
    }

    private static List<String> singleTokenWords(Tokenizer tokenizer, int minWords) {
        List<String> kept = new ArrayList<>();
        for (String w : WORDS) {
            if (tokenizer.encode(w, CHECK_LENGTH).length() == 3) kept.add(w); // [CLS] w [SEP]
        }
        if (kept.size() < minWords) {
            throw new IllegalStateException("only " + kept.size() + " of " + WORDS.size() + " words are single tokens for this tokenizer");
        }
        if (tokenizer.encode(kept.get(0) + ".", CHECK_LENGTH).length() != 4) {
            throw new IllegalStateException("'.' is not a token of its own for this tokenizer");
        }
        return kept;
    }

    /** {@code tokens} tokens of words and periods (no special tokens). */
    private static String text(List<String> words, Random random, int tokens, boolean sentences) {
        StringBuilder sb = new StringBuilder();
        int untilPeriod = 6 + random.nextInt(13);
        for (int t = 0; t < tokens; t++) {
            boolean period = sentences && untilPeriod == 0 && t > 0 && t < tokens - 1;
            if (period) {
                sb.append('.');
                untilPeriod = 6 + random.nextInt(13);
            } else {
                if (!sb.isEmpty()) sb.append(' ');
                sb.append(words.get(random.nextInt(words.size())));
                untilPeriod--;
            }
        }
        return sb.toString();
    }

    public int totalDocTokens() {
        int n = 0;
        for (int l : docLengths) n += l;
        return n;
    }

    /** One line (and for ranged lengths a histogram in bins of 20 tokens) with mean, min and max. */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        int min = Integer.MAX_VALUE, max = 0;
        for (int l : docLengths) {
            min = Math.min(min, l);
            max = Math.max(max, l);
        }
        sb.append(String.format("workload (%s) %s: seed %d, query %d tokens, %d docs, doc tokens min %d / mean %.1f / max %d, %d doc tokens in all%n",
                spec.id, spec.description, seed, queryLength, docs.size(), min, (double) totalDocTokens() / docs.size(), max, totalDocTokens()));
        if (spec.minTokens == spec.maxTokens) return sb.toString();
        sb.append("doc length histogram (tokens after tokenization, [CLS]/[SEP] included):\n");
        int perHash = Math.max(1, docs.size() / 100);
        for (int lo = spec.minTokens; lo <= spec.maxTokens; lo += 20) {
            int hi = Math.min(lo + 19, spec.maxTokens);
            int count = 0;
            for (int l : docLengths) if (l >= lo && l <= hi) count++;
            sb.append(String.format("  %3d–%3d %4d %s%n", lo, hi, count, "#".repeat(count / perHash)));
        }
        return sb.toString();
    }

    /** Common English words (lower case); those that are not one token for the tokenizer are dropped. */
    static final List<String> WORDS = List.of((
            "the of and to in is was for on are with as by at from his that it an be this which or "
            + "had not but have were they one all their has been there who more also new when would other "
            + "time two first after can into some may its only made over such these most than them then "
            + "city world water people year years state school system work life day part house line music "
            + "river team game family group name number power place war area law church book film company "
            + "country government history home land light market model night order paper point road room "
            + "season series side song sound station story street table town village week word army art "
            + "body car case center child club course death door end eye face fact field fire food form "
            + "friend girl hand head heart idea king lake language level man money month mother mountain "
            + "office page party plan player police problem program question rate reason report result rock "
            + "rule science sea service short size space sport start stone student summer support term test "
            + "tree unit value view voice wall west wind window winter woman young air animal answer bank "
            + "bird blue board boat bridge brother building call change class cold color control cost "
            + "data design energy example farm father fish garden glass gold green ground health horse hour "
            + "island job king letter list machine metal middle mind minute morning nature north ocean oil "
            + "park peace plant port price product radio rain region river round salt sand sign silver sister "
            + "sky snow soil south speed spring square star steel stop sun surface system teacher tea train "
            + "travel truth valley wave weather wheel white wood yellow large small long high great good old "
            + "early late public local national general local important different simple strong free full "
            + "open close dark deep easy fast hard heavy hot low main modern natural poor real red rich "
            + "right left black brown clear common dry fine flat major quick quiet ready slow soft warm wide "
            + "build carry catch change choose come cook cut draw drink drive eat fall feel find fly follow "
            + "give grow hear help hold keep know learn leave listen live look lose make meet move need open "
            + "pay play pull push read run say see sell send show sing sit sleep speak stand stay take talk "
            + "teach tell think travel turn use wait walk want watch write berlin paris london europe germany "
            + "france energy computer network software question answer search ranking document query").split(" "))
            .stream().distinct().toList();
}
