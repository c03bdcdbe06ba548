package dev.rerank4j.tokenize;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Not a unit test (about a minute on 2 cores): encodes every code point c as "a{c}b {c} {c}x" with ours and
 * with HF tokenizers (DJL) and prints the ones that differ, with Java's general category. This produced
 * UnicodeProps.HF_CATEGORY_OVERRIDES; rerun it when DJL's tokenizers or the JDK's Unicode version changes.
 * Run after {@code mvn test-compile}: {@code java -cp target/test-classes:target/classes:<test class path>
 * dev.rerank4j.tokenize.CodePointSweep} (the class path from {@code mvn dependency:build-classpath}).
 */
final class CodePointSweep {
    private CodePointSweep() {
    }

    public static void main(String[] args) throws Exception {
        Tokenizer ours = MiniLmTokenizerFile.load();
        int mismatches = 0;
        int compared = 0;
        try (HuggingFaceTokenizer hf = HuggingFaceTokenizer.builder().optTokenizerPath(MiniLmTokenizerFile.path())
                .optPadding(false).optTruncation(true).optMaxLength(512).build()) {
            List<String> batch = new ArrayList<>();
            for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
                if (cp >= Character.MIN_SURROGATE && cp <= Character.MAX_SURROGATE) {
                    continue;
                }
                String c = Character.toString(cp);
                batch.add("a" + c + "b " + c + " " + c + "x");
                if (batch.size() == 20_000 || cp == Character.MAX_CODE_POINT) {
                    ai.djl.huggingface.tokenizers.Encoding[] theirs = hf.batchEncode(batch);
                    for (int i = 0; i < batch.size(); i++) {
                        long[] ids = Arrays.stream(ours.encode(batch.get(i), 512).ids()).asLongStream().toArray();
                        compared++;
                        if (!Arrays.equals(ids, theirs[i].getIds())) {
                            int c0 = batch.get(i).codePointAt(1);
                            mismatches++;
                            System.out.printf("U+%04X java category %d ours %s theirs %s%n", c0, Character.getType(c0),
                                    Arrays.toString(ids), Arrays.toString(theirs[i].getIds()));
                        }
                    }
                    batch.clear();
                }
            }
        }
        System.out.println("compared " + compared + " code points, " + mismatches + " mismatches");
    }
}
