package dev.rerank4j;

/**
 * One query with one document, for {@link Reranker#score(java.util.List)}: several queries' candidates scored in one
 * call, as sentence-transformers' {@code CrossEncoder.predict(pairs)} takes them.
 */
public record Pair(String query, String doc) {}
