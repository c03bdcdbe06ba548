package dev.rerank4j.model;

import dev.rerank4j.Golden;
import dev.rerank4j.backend.HalfInputBackend;
import dev.rerank4j.io.ModelConfig;
import dev.rerank4j.io.SafeTensors;
import dev.rerank4j.tokenize.Encoding;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the CUDA tensor-core path (half-precision inputs, F32 sums) costs in accuracy, measured on the CPU
 * with {@link HalfInputBackend}: the BF16 XLM-R golden model with every linear input split into BF16 hi + lo,
 * as the kernel does, matches transformers' F32 run within {@link Golden#TENSOR_CORE_TOLERANCE}, the bar the
 * golden tests take on CUDA; a single BF16 rounding would not.
 */
class TensorCoreNumericsTest {

    @Test
    void bf16RoundingIsToNearestEven() {
        assertEquals(1.0f, HalfInputBackend.toBf16(1.0f + 0x1p-9f), "a tie goes to the even mantissa");
        assertEquals(1.0f + 0x1p-7f, HalfInputBackend.toBf16(1.0f + 0x1p-8f + 0x1p-9f), "a tie goes to the even mantissa");
        assertEquals(1.0f + 0x1p-7f, HalfInputBackend.toBf16(1.0f + 0x1p-8f + 0x1p-10f), "above half rounds up");
        assertEquals(-2.0f, HalfInputBackend.toBf16(-2.0f));
    }

    @Test
    void splitBf16InputsKeepTheXlmrGoldenLogitsWithinTheTensorCoreToleranceWhereOneRoundingWouldNot() {
        double split = worstDelta(true), single = worstDelta(false);
        System.out.printf("xlmr-tiny-ce-bf16, linear inputs as BF16 hi + lo: max |Δlogit| = %.2e; as BF16 alone: %.2e"
                + " (tolerance on CUDA %.0e)%n", split, single, Golden.TENSOR_CORE_TOLERANCE);
        assertTrue(split > 0, "the split must change something, or this test measures nothing");
        assertTrue(split <= Golden.TENSOR_CORE_TOLERANCE, () -> "hi + lo: max |Δlogit| " + split);
        assertTrue(single > Golden.TENSOR_CORE_TOLERANCE, () -> "one rounding: max |Δlogit| " + single
                + " is within the bar: the kernel's second MMA would be unnecessary");
    }

    /** The worst |logit − transformers'| of the BF16 XLM-R golden model over all its pairs in one batch. */
    private static double worstDelta(boolean split) {
        Map<String, Object> golden = Golden.json("xlmr-tiny-ce-bf16.json");
        List<Map<String, Object>> pairs = Golden.list(golden, "pairs");
        Path dir = Golden.path("xlmr-tiny-ce-bf16");
        ModelConfig config = ModelConfig.read(dir.resolve("config.json"));
        List<Encoding> encodings = new ArrayList<>();
        for (Map<String, Object> p : pairs) {
            int[] ids = Golden.ints(p.get("input_ids"));
            encodings.add(new Encoding(ids, new int[ids.length], Boolean.TRUE.equals(p.get("truncated"))));
        }
        double worst = 0;
        try (SafeTensors weights = SafeTensors.open(dir.resolve("model.safetensors"));
             HalfInputBackend backend = new HalfInputBackend(2, split)) {
            CrossEncoder model = assertInstanceOf(CrossEncoder.class, Model.load(dir, config, weights, backend));
            float[] logits = model.logits(encodings, pairs.size());
            for (int i = 0; i < pairs.size(); i++) {
                worst = Math.max(worst, Math.abs(logits[i] - ((Number) pairs.get(i).get("logit")).doubleValue()));
            }
        }
        return worst;
    }
}
