package dev.rerank4j;

import dev.rerank4j.model.CrossEncoder;
import dev.rerank4j.model.SentenceEncoder;
import dev.rerank4j.tokenize.Encoding;
import dev.rerank4j.tokenize.Tokenizer;

import java.util.ArrayList;
import java.util.List;

/** Turns a query and documents into one score per document, in the documents' order. */
sealed interface Scorer {
    /** Scores and, per document, whether its input was truncated. */
    record Scores(float[] values, boolean[] truncated) {
        int truncatedCount() {
            int n = 0;
            for (boolean t : truncated) if (t) n++;
            return n;
        }
    }

    Scores score(String query, List<String> docs);

    /** Tokens per input after which text is cut. */
    int maxLength();

    /** A cross-encoder reads query and document together: one forward pass per pair. */
    record Cross(Tokenizer tokenizer, CrossEncoder model, int maxLength, int batchSize, boolean sigmoid) implements Scorer {
        @Override
        public Scores score(String query, List<String> docs) {
            List<Encoding> pairs = new ArrayList<>(docs.size());
            boolean[] truncated = new boolean[docs.size()];
            for (int i = 0; i < docs.size(); i++) {
                Encoding e = tokenizer.encodePair(query, docs.get(i), maxLength);
                truncated[i] = e.truncated();
                pairs.add(e);
            }
            float[] logits = model.logits(pairs, batchSize);
            if (sigmoid) {
                for (int i = 0; i < logits.length; i++) logits[i] = (float) (1.0 / (1.0 + Math.exp(-logits[i])));
            }
            return new Scores(logits, truncated);
        }
    }

    /** A bi-encoder embeds query and documents apart; the score is their cosine similarity. */
    record Bi(Tokenizer tokenizer, SentenceEncoder model, int maxLength, int batchSize) implements Scorer {
        @Override
        public Scores score(String query, List<String> docs) {
            List<Encoding> texts = new ArrayList<>(docs.size() + 1);
            boolean[] truncated = new boolean[docs.size()];
            texts.add(tokenizer.encode(query, maxLength));
            for (int i = 0; i < docs.size(); i++) {
                Encoding e = tokenizer.encode(docs.get(i), maxLength);
                truncated[i] = e.truncated();
                texts.add(e);
            }
            float[][] embeddings = model.embed(texts, batchSize);
            float[] q = embeddings[0];
            float[] scores = new float[docs.size()];
            for (int i = 0; i < scores.length; i++) {
                float[] d = embeddings[i + 1];
                float dot = 0;
                for (int k = 0; k < q.length; k++) dot += q[k] * d[k];
                scores[i] = dot;
            }
            return new Scores(scores, truncated);
        }
    }
}
