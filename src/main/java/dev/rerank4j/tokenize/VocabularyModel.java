package dev.rerank4j.tokenize;

import java.util.HashMap;
import java.util.Map;

/** A model whose vocabulary is a map of token to id (WordPiece, BPE): the lookups {@link TokenModel} asks of it. */
abstract class VocabularyModel implements TokenModel {
    final Map<String, Integer> vocab;
    private final int vocabSize;

    VocabularyModel(Map<String, Integer> vocab) {
        this.vocab = new HashMap<>(vocab);
        this.vocabSize = vocab.values().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
    }

    @Override
    public int tokenId(String token) {
        Integer id = vocab.get(token);
        return id == null ? -1 : id;
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    @Override
    public int entries() {
        return vocab.size();
    }
}
