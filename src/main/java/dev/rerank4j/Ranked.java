package dev.rerank4j;

import java.util.Comparator;

/**
 * One document of a ranking.
 *
 * @param index     the document's position in the list the caller passed
 * @param score     its score (higher is more relevant)
 * @param text      the document as passed
 * @param truncated whether its input was cut to the maximum length before scoring
 */
public record Ranked(int index, float score, String text, boolean truncated) {
    /**
     * Highest score first, NaN after every number (only weights holding NaN make one), ties (0.0 and −0.0 among them,
     * which Double.compare would order) in the caller's order.
     */
    static final Comparator<Ranked> BEST_FIRST = Comparator.comparing((Ranked r) -> Float.isNaN(r.score()))
            .thenComparing(Comparator.comparingDouble((Ranked r) -> r.score() + 0.0f).reversed()) // −0 + 0 is +0
            .thenComparingInt(Ranked::index);
}
