package dev.rerank4j.backend.cpu;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class LayerNormTest {
    /**
     * Outputs are O(3) (normalised × gamma + beta); float sums of ≤ 768 elements in 16 lanes, then
     * normalising, cost a few ulps of that; 2e-6 absolute, also PyTorch's own F32 noise level.
     */
    static final double LN_ABS = 2e-6;

    static final CpuBackend backend = new CpuBackend(2);

    @AfterAll
    static void close() {
        backend.close();
    }

    @Test
    void matchesTheDoubleTwinWithAndWithoutResidualOnOddWidths() {
        Random rnd = new Random(3);
        for (int dim : new int[] {1, 15, 17, 33, 383, 384, 768}) {
            for (int rows : new int[] {1, 3, 70}) {
                for (boolean res : new boolean[] {false, true}) {
                    for (float offset : new float[] {0f, 5f}) {
                        float[] x = TestTensors.random(rnd, rows * dim, 1.5f);
                        for (int i = 0; i < x.length; i++) x[i] += offset;
                        float[] r = res ? TestTensors.random(rnd, rows * dim, 1f) : null;
                        float[] g = TestTensors.random(rnd, dim, 1.5f), b = TestTensors.random(rnd, dim, 0.5f);
                        double[] ref = ScalarKernels.addLayerNorm(x, r, rows, dim, g, b, 1e-12f);
                        float[] y = x.clone();
                        backend.addLayerNorm(y, r, rows, dim, g, b, 1e-12f);
                        for (int i = 0; i < ref.length; i++) {
                            if (!(Math.abs(y[i] - ref[i]) <= LN_ABS)) {
                                fail("dim=" + dim + " rows=" + rows + " residual=" + res + " offset=" + offset + " at " + i
                                        + ": " + y[i] + " vs " + ref[i]);
                            }
                        }
                    }
                }
            }
        }
    }
}
