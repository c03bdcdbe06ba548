package dev.rerank4j.tokenize;

/**
 * Token ids of one input (single text or pair) after the template and truncation.
 *
 * @param ids       token ids, special tokens included
 * @param typeIds   token type (segment) ids, same length as {@code ids}
 * @param truncated whether tokens were dropped to fit the maximum length
 */
public record Encoding(int[] ids, int[] typeIds, boolean truncated) {
    public Encoding {
        if (ids.length != typeIds.length) {
            throw new IllegalArgumentException("ids and typeIds differ in length: " + ids.length + " vs " + typeIds.length);
        }
    }

    public int length() {
        return ids.length;
    }
}
