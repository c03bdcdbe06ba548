package dev.rerank4j;

import dev.rerank4j.backend.DocumentLayout;
import dev.rerank4j.model.CausalReranker;
import dev.rerank4j.model.ColbertEncoder;
import dev.rerank4j.model.CrossEncoder;
import dev.rerank4j.model.SentenceEncoder;
import dev.rerank4j.tokenize.Encoding;
import dev.rerank4j.tokenize.PairTruncation;
import dev.rerank4j.tokenize.Tokenizer;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Turns (query, document) pairs into one score per pair, in the pairs' order. */
sealed interface Scorer {
    /**
     * Scores and, per pair, whether its document's input was truncated (a cross-encoder's: the pair's); for models
     * that encode each distinct query alone, how many distinct queries there were and how many of them were cut.
     */
    record Scores(float[] values, boolean[] truncated, int queries, int queriesTruncated) {
        int truncatedCount() {
            return count(truncated);
        }

        static int count(boolean[] flags) {
            int n = 0;
            for (boolean t : flags) if (t) n++;
            return n;
        }
    }

    /** Scores the pairs ({@code queries[i]}, {@code docs[i]}); both lists have one element per pair. */
    Scores score(List<String> queries, List<String> docs);

    /**
     * The distinct texts of one side of the pairs (their queries or their documents), first seen first, and for each
     * pair the index of its text among them: a model that encodes queries and documents apart encodes each text once.
     */
    record Distinct(List<String> texts, int[] ofPair) {
        static Distinct of(List<String> side) {
            Map<String, Integer> index = new LinkedHashMap<>();
            int[] ofPair = new int[side.size()];
            for (int i = 0; i < ofPair.length; i++) ofPair[i] = index.computeIfAbsent(side.get(i), q -> index.size());
            return new Distinct(List.copyOf(index.keySet()), ofPair);
        }

        /** For each distinct text, the indices of its pairs, in order. */
        int[][] pairsOfEach() {
            int[] counts = new int[texts.size()];
            for (int q : ofPair) counts[q]++;
            int[][] pairs = new int[texts.size()][];
            for (int q = 0; q < pairs.length; q++) pairs[q] = new int[counts[q]];
            int[] filled = new int[texts.size()];
            for (int i = 0; i < ofPair.length; i++) pairs[ofPair[i]][filled[ofPair[i]]++] = i;
            return pairs;
        }
    }

    /** The scores of pairs read whole (a cross-encoder's, a causal reranker's): their logits, or sigmoid(logit) each. */
    static Scores ofPairs(List<Encoding> pairs, float[] logits, boolean sigmoid) {
        boolean[] truncated = new boolean[pairs.size()];
        for (int i = 0; i < truncated.length; i++) truncated[i] = pairs.get(i).truncated();
        if (sigmoid) {
            for (int i = 0; i < logits.length; i++) logits[i] = (float) (1.0 / (1.0 + Math.exp(-logits[i])));
        }
        return new Scores(logits, truncated, 0, 0);
    }

    /** Tokens per input after which text is cut. */
    int maxLength();

    /** Tokens after which a query encoded alone is cut. */
    default int queryMaxLength() {
        return maxLength();
    }

    /**
     * A cross-encoder reads query and document together: one forward pass per pair, cut to
     * {@code maxLength} as the model's reference implementation cuts it ({@code truncation}).
     */
    record Cross(Tokenizer tokenizer, CrossEncoder model, int maxLength, PairTruncation truncation, int batchSize,
                 boolean sigmoid) implements Scorer {
        @Override
        public Scores score(List<String> queries, List<String> docs) {
            List<Encoding> pairs = new ArrayList<>(docs.size());
            for (int i = 0; i < docs.size(); i++) {
                Encoding e = tokenizer.encodePair(queries.get(i), docs.get(i), maxLength, truncation);
                if (e.length() == 0) {
                    throw new IllegalArgumentException("the query and document of pair " + i + " (docs[" + i + "]) encode to no tokens "
                            + "(this tokenizer adds no special tokens), so the cross-encoder has no first token to score");
                }
                pairs.add(e);
            }
            return ofPairs(pairs, model.logits(pairs, batchSize), sigmoid);
        }
    }

    /**
     * A reranker on a causal language model reads the pair inside its prompt ({@link RerankerPrompt}), cut as its reference
     * cuts it, and is scored at the last token.
     *
     * @param instruction the caller's instruction, null for the prompt's default
     * @param yesId       the answer tokens' ids, -1 for a classifier
     */
    record Causal(Tokenizer tokenizer, CausalReranker model, RerankerPrompt prompt, String instruction, RerankerPrompt.PairEncoder pairs,
                  int yesId, int noId, int batchSize, boolean sigmoid) implements Scorer {

        /** Encodes the prompt's fixed parts and finds the answer tokens; refuses a limit with no room for the pair. */
        static Causal of(Tokenizer tokenizer, Object tokenizerFile, CausalReranker model, RerankerPrompt prompt, String instruction,
                         int maxLength, int positions, int batchSize, boolean sigmoid) {
            if (tokenizer.specialTokens(false) != 0) {
                throw new ModelFormatException(tokenizerFile + ": the tokenizer adds " + tokenizer.specialTokens(false) + " special tokens "
                        + "to a text; a causal reranker's prompt is built without any (Qwen's tokenizers add none)");
            }
            RerankerPrompt.PairEncoder pairs = prompt.bind(tokenizer, instruction, maxLength, positions);
            int yes = -1, no = -1;
            if (model.answersWithTokens()) {
                yes = answerToken(tokenizer, tokenizerFile, prompt.yes());
                no = answerToken(tokenizer, tokenizerFile, prompt.no());
            }
            return new Causal(tokenizer, model, prompt, instruction, pairs, yes, no, batchSize, sigmoid);
        }

        private static int answerToken(Tokenizer tokenizer, Object tokenizerFile, String token) {
            int id = tokenizer.tokenId(token);
            if (id < 0) {
                throw new ModelFormatException(tokenizerFile + ": the tokenizer has no token '" + token
                        + "', whose logit the reranker's answer is read from");
            }
            return id;
        }

        /** The ids the model reads for one pair, and whether the pair was cut. */
        Encoding encode(String query, String doc) {
            return pairs.encode(query, doc);
        }

        @Override
        public int maxLength() {
            return pairs.maxLength();
        }

        @Override
        public Scores score(List<String> queries, List<String> docs) {
            List<Encoding> encoded = new ArrayList<>(docs.size());
            for (int i = 0; i < docs.size(); i++) encoded.add(encode(queries.get(i), docs.get(i)));
            return ofPairs(encoded, model.logits(encoded, batchSize, yesId, noId), sigmoid);
        }
    }

    /**
     * A bi-encoder embeds query and documents apart, each after its prompt; the score is their cosine similarity or dot
     * product, as the model says (the embeddings come normalised for the cosine).
     */
    record Bi(Tokenizer tokenizer, SentenceEncoder model, int maxLength, int batchSize) implements Scorer {
        @Override
        public Scores score(List<String> queries, List<String> docs) {
            Distinct distinctQueries = Distinct.of(queries);
            Distinct distinctDocs = Distinct.of(docs);
            int nq = distinctQueries.texts().size();
            List<Encoding> texts = new ArrayList<>(nq + distinctDocs.texts().size());
            int queriesTruncated = 0;
            for (String query : distinctQueries.texts()) {
                Encoding e = tokenizer.encode(model.queryPrompt() + query, maxLength);
                if (e.truncated()) queriesTruncated++;
                texts.add(e);
            }
            for (String doc : distinctDocs.texts()) texts.add(tokenizer.encode(model.documentPrompt() + doc, maxLength));
            float[][] embeddings = model.embed(texts, batchSize);
            float[] scores = new float[docs.size()];
            boolean[] truncated = new boolean[docs.size()];
            for (int i = 0; i < scores.length; i++) {
                truncated[i] = texts.get(nq + distinctDocs.ofPair()[i]).truncated();
                float[] q = embeddings[distinctQueries.ofPair()[i]];
                float[] d = embeddings[nq + distinctDocs.ofPair()[i]];
                float dot = 0;
                for (int k = 0; k < q.length; k++) dot += q[k] * d[k];
                scores[i] = dot;
            }
            return new Scores(scores, truncated, nq, queriesTruncated);
        }
    }

    /**
     * ColBERT late interaction, as PyLate encodes: query {@code [CLS] prefix q… [SEP]} padded with [MASK]
     * to query_length (the padding attended to only with attend_to_expansion_tokens, its vectors always
     * kept); document {@code [CLS] prefix d… [SEP]} cut at document_length, skiplist tokens' vectors
     * dropped; score Σᵢ maxⱼ qᵢ·dⱼ.
     *
     * @param queryPrefixId    id of the query prefix token, -1 for none
     * @param documentPrefixId id of the document prefix token, -1 for none
     * @param skip             skip[id]: the document vector of token id is dropped
     */
    record Colbert(Tokenizer tokenizer, ColbertEncoder model, int batchSize, int queryPrefixId, int documentPrefixId,
                   int maskId, boolean[] skip) implements Scorer {

        /** Resolves the model's prefixes, [MASK] and skiplist words to ids of {@code tokenizer}. */
        static Colbert of(Tokenizer tokenizer, Object tokenizerFile, ColbertEncoder model, int batchSize, String maskToken) {
            ColbertEncoder.Settings s = model.settings();
            int mask = tokenizer.tokenId(maskToken);
            if (s.queryExpansion() && mask < 0) {
                throw new ModelFormatException(tokenizerFile + ": the tokenizer has no mask token '" + maskToken
                        + "' to pad ColBERT queries with");
            }
            boolean[] skip = new boolean[tokenizer.vocabSize()];
            for (String word : s.skiplistWords()) {
                int id = skiplistId(tokenizer, word);
                if (id >= 0 && id < skip.length) skip[id] = true;
            }
            int queryPrefix = prefixId(tokenizer, tokenizerFile, s.queryPrefix(), "query");
            int documentPrefix = prefixId(tokenizer, tokenizerFile, s.documentPrefix(), "document");
            if (s.prefixesPrepended()) {
                requirePrependingInserts(tokenizer, tokenizerFile, s.queryPrefix(), queryPrefix, "query");
                requirePrependingInserts(tokenizer, tokenizerFile, s.documentPrefix(), documentPrefix, "document");
            }
            return new Colbert(tokenizer, model, batchSize, queryPrefix, documentPrefix, mask, skip);
        }

        /**
         * Whether token {@code id}'s document vector is dropped. The table covers the tokenizer's vocabulary; ids past it
         * (a post-processor's special tokens may be) are no skiplist word's.
         */
        private boolean skipped(int id) {
            return id < skip.length && skip[id];
        }

        /**
         * sentence-transformers 6 prepends a prompt to the text; that is the prefix token put after the first only where
         * the prompt is a token matched in the raw text (an added token, as PyLate adds its prefixes), checked on a probe.
         */
        private static void requirePrependingInserts(Tokenizer tokenizer, Object tokenizerFile, String prefix, int prefixId, String what) {
            if (prefixId < 0) return;
            String probe = "berlin museums, 2024";
            int[] plain = tokenizer.encode(probe, 64).ids();
            int[] prepended = tokenizer.encode(prefix + probe, 64).ids();
            int[] inserted = new int[plain.length + 1];
            inserted[0] = plain[0];
            inserted[1] = prefixId;
            System.arraycopy(plain, 1, inserted, 2, plain.length - 1);
            if (!java.util.Arrays.equals(prepended, inserted)) {
                throw new ModelFormatException(tokenizerFile + ": the ColBERT " + what + " prompt '" + prefix + "' is not one token when put before"
                        + " the text, as sentence-transformers puts it; rerank4j runs prompts that are added tokens only");
            }
        }

        private static int prefixId(Tokenizer tokenizer, Object tokenizerFile, String prefix, String what) {
            if (prefix.isEmpty()) return -1;
            int id = tokenizer.tokenId(prefix);
            if (id < 0) {
                throw new ModelFormatException(tokenizerFile + ": the ColBERT " + what + " prefix '" + prefix + "' is not a token of the tokenizer "
                        + "(PyLate would add it and resize the embeddings; this model directory does not have it)");
            }
            return id;
        }

        /**
         * PyLate's convert_tokens_to_ids(word): the word's own id, else the unknown token's, which is what
         * encoding the lone word gives (Stanford ColBERT's encode(symbol)[0]).
         */
        private static int skiplistId(Tokenizer tokenizer, String word) {
            int id = tokenizer.tokenId(word);
            if (id >= 0) return id;
            Encoding e = tokenizer.encode(word, 16);
            return e.length() == 3 ? e.ids()[1] : -1;
        }

        @Override
        public int maxLength() {
            return model.settings().documentLength();
        }

        private static Encoding withPrefix(Encoding e, int prefixId, int padId, int length) {
            int n = e.length() + (prefixId >= 0 ? 1 : 0);
            int[] ids = new int[Math.max(n, padId >= 0 ? length : 0)];
            int w = 0;
            for (int i = 0; i < e.length(); i++) {
                ids[w++] = e.ids()[i];
                if (i == 0 && prefixId >= 0) ids[w++] = prefixId;
            }
            while (w < ids.length) ids[w++] = padId;
            return new Encoding(ids, new int[ids.length], e.truncated());
        }

        /** The query's vectors, {@code queryTokens × dim}, and whether its text was cut to fit query_length. */
        record QueryVectors(float[] vectors, boolean truncated) {}

        QueryVectors encode(String query) {
            return encode(List.of(query)).getFirst();
        }

        /** The vectors of each of {@code queries}, encoded in one pass of the model. */
        List<QueryVectors> encode(List<String> queries) {
            ColbertEncoder.Settings s = model.settings();
            int length = s.queryLength();
            List<Encoding> encodings = new ArrayList<>(queries.size());
            int[] attended = new int[queries.size()];
            boolean[] truncated = new boolean[queries.size()];
            for (int i = 0; i < queries.size(); i++) {
                Encoding raw = tokenizer.encode(text(queries.get(i)), queryPrefixId >= 0 ? length - 1 : length);
                Encoding q = withPrefix(raw, queryPrefixId, s.queryExpansion() ? maskId : -1, length);
                encodings.add(q);
                attended[i] = s.attendToExpansion() ? q.length() : raw.length() + (queryPrefixId >= 0 ? 1 : 0);
                truncated[i] = raw.truncated();
            }
            float[][] vectors = model.embed(encodings, attended, batchSize);
            List<QueryVectors> out = new ArrayList<>(queries.size());
            for (int i = 0; i < queries.size(); i++) out.add(new QueryVectors(vectors[i], truncated[i]));
            return out;
        }

        /** The query's vectors alone (for tests). */
        float[] encodeQuery(String query) {
            return encode(query).vectors();
        }

        @Override
        public int queryMaxLength() {
            return model.settings().queryLength();
        }

        /** Query token ids as the model sees them (for tests). */
        int[] queryIds(String query) {
            ColbertEncoder.Settings s = model.settings();
            int length = s.queryLength();
            Encoding raw = tokenizer.encode(text(query), queryPrefixId >= 0 ? length - 1 : length);
            return withPrefix(raw, queryPrefixId, s.queryExpansion() ? maskId : -1, length).ids();
        }

        /** Document token ids as the model sees them, before the skiplist (for tests). */
        int[] documentIds(String doc) {
            return documentEncoding(doc).ids();
        }

        private Encoding documentEncoding(String doc) {
            int length = model.settings().documentLength();
            return withPrefix(tokenizer.encode(text(doc), documentPrefixId >= 0 ? length - 1 : length), documentPrefixId, -1, length);
        }

        /**
         * The text as the reference tokenizes it: PyLate runs sentence-transformers ≤ 5, whose Transformer module strips
         * every text first (Python's str.strip: NBSP and NEL too); sentence-transformers 6, which prepends the prefixes
         * ({@code prefixesPrepended}), does not. A byte-level BPE tokenizer encodes " berlin" unlike "berlin".
         */
        private String text(String raw) {
            if (model.settings().prefixesPrepended()) return raw;
            int from = 0, to = raw.length();
            while (from < to && isPythonSpace(raw.charAt(from))) from++;
            while (to > from && isPythonSpace(raw.charAt(to - 1))) to--;
            return raw.substring(from, to);
        }

        /** Python's str.isspace for one char: Java's whitespace, and the no-break spaces and NEL it leaves out. */
        private static boolean isPythonSpace(char c) {
            return Character.isWhitespace(c) || c == '\u00a0' || c == '\u2007' || c == '\u202f' || c == '\u0085';
        }

        DocumentEmbeddings encodeDocuments(List<String> docs, boolean[] truncated) {
            List<Encoding> encodings = new ArrayList<>(docs.size());
            for (int i = 0; i < docs.size(); i++) {
                Encoding e = documentEncoding(docs.get(i));
                truncated[i] = e.truncated();
                encodings.add(e);
            }
            float[][] all = model.embed(encodings, null, batchSize);
            int dim = model.dimension();
            long[] offsets = new long[docs.size() + 1];
            for (int k = 0; k < docs.size(); k++) {
                int kept = 0;
                for (int id : encodings.get(k).ids()) if (!skipped(id)) kept++;
                offsets[k + 1] = offsets[k] + kept;
            }
            // off the heap, in DocumentLayout (scored where they lie): no 2^31-float limit on all the documents together
            MemorySegment vectors = Arena.ofAuto().allocate(Math.max(1, 4 * offsets[docs.size()] * dim), 64);
            for (int k = 0; k < docs.size(); k++) {
                int[] ids = encodings.get(k).ids();
                int kept = (int) (offsets[k + 1] - offsets[k]), row = 0;
                float[] rows = new float[kept * dim];
                for (int t = 0; t < ids.length; t++) {
                    if (!skipped(ids[t])) System.arraycopy(all[k], t * dim, rows, row++ * dim, dim);
                }
                DocumentLayout.interleave(rows, new int[] {0, kept}, dim);
                MemorySegment.copy(rows, 0, vectors, DocumentLayout.F32, 4 * offsets[k] * dim, rows.length);
                all[k] = null;
            }
            return DocumentEmbeddings.of(vectors, offsets, dim, model.fingerprint());
        }

        @Override
        public Scores score(List<String> queries, List<String> docs) {
            Distinct distinctDocs = Distinct.of(docs);
            boolean[] docTruncated = new boolean[distinctDocs.texts().size()];
            DocumentEmbeddings d = encodeDocuments(distinctDocs.texts(), docTruncated);
            Distinct distinctQueries = Distinct.of(queries);
            float[] scores = new float[docs.size()];
            boolean[] truncated = new boolean[docs.size()];
            for (int i = 0; i < truncated.length; i++) truncated[i] = docTruncated[distinctDocs.ofPair()[i]];
            int[][] pairsOfEach = distinctQueries.pairsOfEach();
            List<QueryVectors> encoded = encode(distinctQueries.texts());
            int queriesTruncated = 0;
            for (int k = 0; k < pairsOfEach.length; k++) {
                int[] pairs = pairsOfEach[k];
                QueryVectors q = encoded.get(k);
                if (q.truncated()) queriesTruncated++;
                int[] candidates = new int[pairs.length];
                for (int j = 0; j < pairs.length; j++) candidates[j] = distinctDocs.ofPair()[pairs[j]];
                float[] ofQuery = new float[pairs.length];
                d.maxSim(model.backend(), q.vectors(), q.vectors().length / model.dimension(), candidates, ofQuery);
                for (int j = 0; j < pairs.length; j++) scores[pairs[j]] = ofQuery[j];
            }
            return new Scores(scores, truncated, distinctQueries.texts().size(), queriesTruncated);
        }

        /** MaxSim of {@code query} against the documents {@code candidates} of {@code d}, in that order. */
        Scores score(String query, DocumentEmbeddings d, int[] candidates) {
            if (!d.fingerprint().equals(model.fingerprint())) {
                throw new IllegalArgumentException("these document embeddings were made by another model: their fingerprint is "
                        + d.fingerprint() + " (dim " + d.dim() + "), this model's is " + model.fingerprint() + " (dim " + model.dimension() + ")");
            }
            if (d.dim() != model.dimension()) {
                throw new IllegalArgumentException("these document embeddings have dim " + d.dim() + " but carry this model's fingerprint "
                        + d.fingerprint() + ", whose dim is " + model.dimension() + " (the file was edited or is corrupt)");
            }
            for (int c : candidates) {
                if (c < 0 || c >= d.size()) throw new IllegalArgumentException("candidate " + c + " is outside the " + d.size() + " documents");
            }
            QueryVectors q = encode(query);
            float[] scores = new float[candidates.length];
            d.maxSim(model.backend(), q.vectors(), q.vectors().length / d.dim(), candidates, scores);
            return new Scores(scores, new boolean[candidates.length], 1, q.truncated() ? 1 : 0);
        }
    }
}
