package dev.rerank4j.tokenize;

/**
 * A tokenizer whose encodings carry no token types (all 0): what a model sees when its tokenizer_config.json's
 * {@code model_input_names} leaves out {@code token_type_ids}, as transformers' tokenizer then returns none and the
 * model takes zeros for them.
 */
record WithoutTokenTypes(Tokenizer tokenizer) implements Tokenizer {
    @Override
    public Encoding encode(String text, int maxLength) {
        return typeless(tokenizer.encode(text, maxLength));
    }

    @Override
    public Encoding encodePair(String first, String second, int maxLength) {
        return typeless(tokenizer.encodePair(first, second, maxLength));
    }

    @Override
    public Encoding encodePair(String first, String second, int maxLength, PairTruncation truncation) {
        return typeless(tokenizer.encodePair(first, second, maxLength, truncation));
    }

    private static Encoding typeless(Encoding e) {
        return new Encoding(e.ids(), new int[e.ids().length], e.truncated());
    }

    @Override
    public int specialTokens(boolean pair) {
        return tokenizer.specialTokens(pair);
    }

    @Override
    public int vocabSize() {
        return tokenizer.vocabSize();
    }

    @Override
    public int tokenId(String token) {
        return tokenizer.tokenId(token);
    }
}
