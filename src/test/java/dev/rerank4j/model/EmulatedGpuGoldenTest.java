package dev.rerank4j.model;

import dev.rerank4j.Golden;
import dev.rerank4j.backend.cuda.CudaBackend;
import dev.rerank4j.backend.cuda.CudaProbe;
import dev.rerank4j.backend.cuda.FakeCuda;
import dev.rerank4j.io.ModelConfig;
import dev.rerank4j.io.SafeTensors;
import dev.rerank4j.tokenize.Encoding;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Whole models on the CUDA backend with its kernels emulated on the CPU (FakeCuda.emulatedGpu): the shortest
 * golden pairs of the BERT, ELECTRA, DistilBERT, DeBERTa and ModernBERT (F32 kernels) and XLM-R BF16 (tensor-core kernels) cross-encoders reproduce
 * transformers' logits at the golden tests' bars. A few short pairs only: the emulation runs a thread per
 * CUDA thread.
 */
class EmulatedGpuGoldenTest {
    private static final int PAIRS = 4;

    @Test
    void bertLogitsMatchTransformersOnTheF32Kernels() {
        double worst = worstDelta("bert-tiny-ce", true);
        assertTrue(worst <= 1e-4, () -> "max |Δlogit| " + worst + " > the F32 bar 1e-4 (CrossEncoderGoldenTest)");
    }

    /** The embeddings projected on the device and a GELU head: ELECTRA's two differences from BERT. */
    @Test
    void electraLogitsMatchTransformersOnTheF32Kernels() {
        double worst = worstDelta("electra-tiny-ce", true);
        assertTrue(worst <= 1e-4, () -> "max |Δlogit| " + worst + " > the F32 bar 1e-4 (ElectraGoldenTest)");
    }

    /** DistilBERT's names and no token types on the F32 kernels, and its ReLU head: the kernels' fourth activation. */
    @Test
    void distilBertLogitsMatchTransformersOnTheF32Kernels() {
        double worst = worstDelta("distilbert-tiny-ce", false);
        assertTrue(worst <= 1e-4, () -> "max |Δlogit| " + worst + " > the F32 bar 1e-4 (DistilBertGoldenTest)");
    }

    /** RoPE, the sliding layers' windows, GeGLU and the pre-norm residual step: ModernBERT's kernels (RotaryEncoderKernels). */
    @Test
    void modernBertLogitsMatchTransformersOnTheF32Kernels() {
        double worst = worstDelta("modernbert-tiny-ce", false);
        assertTrue(worst <= 1e-4, () -> "max |Δlogit| " + worst + " > the F32 bar 1e-4 (ModernBertGoldenTest)");
    }

    /** DeBERTa's disentangled attention over log-bucketed distances. */
    @Test
    void debertaLogitsMatchTransformersOnTheF32Kernels() {
        double worst = worstDelta("deberta-tiny-ce", false);
        assertTrue(worst <= 1e-4, () -> "max |Δlogit| " + worst + " > the F32 bar 1e-4 (DebertaGoldenTest)");
    }

    @Test
    void xlmrBf16LogitsMatchTransformersOnTheTensorCoreKernels() {
        double worst = worstDelta("xlmr-tiny-ce-bf16", false);
        assertTrue(worst <= Golden.TENSOR_CORE_TOLERANCE, () -> "max |Δlogit| " + worst);
    }

    private static double worstDelta(String name, boolean typeIds) {
        List<Map<String, Object>> pairs = new ArrayList<>(Golden.list(Golden.json(name + ".json"), "pairs"));
        pairs.sort(Comparator.comparingInt(p -> Golden.ints(p.get("input_ids")).length));
        pairs = pairs.subList(0, PAIRS);
        List<Encoding> encodings = new ArrayList<>();
        for (Map<String, Object> p : pairs) {
            int[] ids = Golden.ints(p.get("input_ids"));
            int[] types = typeIds ? Golden.ints(p.get("token_type_ids")) : new int[ids.length];
            encodings.add(new Encoding(ids, types, Boolean.TRUE.equals(p.get("truncated"))));
        }
        Path dir = Golden.path(name);
        ModelConfig config = ModelConfig.read(dir.resolve("config.json"));
        CudaProbe.Result probe = CudaProbe.probe(FakeCuda.emulatedGpu());
        double worst = 0;
        try (SafeTensors weights = SafeTensors.open(dir.resolve("model.safetensors")); CudaBackend cuda = probe.open()) {
            CrossEncoder model = assertInstanceOf(CrossEncoder.class, Model.load(dir, config, weights, cuda));
            float[] logits = model.logits(encodings, PAIRS);
            for (int i = 0; i < PAIRS; i++) {
                double expected = ((Number) pairs.get(i).get("logit")).doubleValue();
                worst = Math.max(worst, Math.abs(logits[i] - expected));
                assertEquals(expected, logits[i], 1e-2, "logit of " + pairs.get(i).get("id"));
            }
            // Activations stay on the device between layers; a second call in smaller batches reuses those
            // device arrays, and must not read what the first call left in them.
            assertTrue(cuda.residentArrays() >= 5, "the encoder's work arrays are kept on the device");
            float[] again = model.logits(encodings.reversed(), 1);
            for (int i = 0; i < PAIRS; i++) {
                assertEquals(logits[i], again[PAIRS - 1 - i], 1e-5, "logit of " + pairs.get(i).get("id") + ", one pair per batch");
            }
        }
        System.out.printf("%s on the emulated GPU: %d pairs, max |Δlogit| = %.2e%n", name, PAIRS, worst);
        return worst;
    }
}
