package dev.rerank4j.tokenize;

import java.util.List;

/**
 * The post_processor stage: HF {@code TemplateProcessing} (and {@code BertProcessing} /
 * {@code RobertaProcessing}, which are fixed templates). Puts special tokens around the sequences and
 * assigns type ids.
 */
final class TemplateProcessor {
    /** One template element: the ids of a special token, or sequence A / B (ids null). */
    record Piece(int[] specialIds, char sequence, int typeId) {
        static Piece special(int[] ids, int typeId) {
            return new Piece(ids, '\0', typeId);
        }

        static Piece sequence(char which, int typeId) {
            return new Piece(null, which, typeId);
        }
    }

    /** No post-processor: sequence A with type 0, then B with type 1, no special tokens. */
    static final TemplateProcessor NONE = new TemplateProcessor(
            List.of(Piece.sequence('A', 0)), List.of(Piece.sequence('A', 0), Piece.sequence('B', 1)));

    private final List<Piece> single;
    private final List<Piece> pair;
    private final int singleSpecials;
    private final int pairSpecials;

    TemplateProcessor(List<Piece> single, List<Piece> pair) {
        this.single = List.copyOf(single);
        this.pair = List.copyOf(pair);
        this.singleSpecials = countSpecials(single);
        this.pairSpecials = countSpecials(pair);
    }

    /** HF {@code BertProcessing}: {@code [CLS] A [SEP]} and {@code [CLS] A [SEP] B [SEP]}, B and its [SEP] type 1. */
    static TemplateProcessor bert(int cls, int sep) {
        return new TemplateProcessor(
                List.of(Piece.special(new int[] {cls}, 0), Piece.sequence('A', 0), Piece.special(new int[] {sep}, 0)),
                List.of(Piece.special(new int[] {cls}, 0), Piece.sequence('A', 0), Piece.special(new int[] {sep}, 0),
                        Piece.sequence('B', 1), Piece.special(new int[] {sep}, 1)));
    }

    /** HF {@code RobertaProcessing}: {@code <s> A </s>} and {@code <s> A </s></s> B </s>}, all type 0. */
    static TemplateProcessor roberta(int cls, int sep) {
        return new TemplateProcessor(
                List.of(Piece.special(new int[] {cls}, 0), Piece.sequence('A', 0), Piece.special(new int[] {sep}, 0)),
                List.of(Piece.special(new int[] {cls}, 0), Piece.sequence('A', 0), Piece.special(new int[] {sep, sep}, 0),
                        Piece.sequence('B', 0), Piece.special(new int[] {sep}, 0)));
    }

    private static int countSpecials(List<Piece> pieces) {
        int n = 0;
        for (Piece p : pieces) {
            if (p.specialIds() != null) {
                n += p.specialIds().length;
            }
        }
        return n;
    }

    /** How many special tokens the template adds. */
    int specialCount(boolean isPair) {
        return isPair ? pairSpecials : singleSpecials;
    }

    /** Builds the final encoding from the (already truncated) sequences; {@code b} is null for a single input. */
    Encoding apply(IntList a, int aLength, IntList b, int bLength, boolean truncated) {
        List<Piece> template = b == null ? single : pair;
        int total = aLength + (b == null ? 0 : bLength) + specialCount(b != null);
        int[] ids = new int[total];
        int[] types = new int[total];
        int at = 0;
        for (Piece p : template) {
            if (p.specialIds() != null) {
                for (int id : p.specialIds()) {
                    ids[at] = id;
                    types[at++] = p.typeId();
                }
            } else {
                IntList seq = p.sequence() == 'A' ? a : b;
                int len = p.sequence() == 'A' ? aLength : bLength;
                for (int k = 0; k < len; k++) {
                    ids[at] = seq.get(k);
                    types[at++] = p.typeId();
                }
            }
        }
        return new Encoding(ids, types, truncated);
    }
}
