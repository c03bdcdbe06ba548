package dev.rerank4j.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.rerank4j.backend.Activation;
import java.util.Random;
import org.junit.jupiter.api.Test;

class VectorMathTest {
    /**
     * GELU's error bound per unit of |x|: the erf fit's 1.7e-7 is at most 0.85e-7·|x| in GELU, and the float
     * products add a few ulps of |GELU(x)| ≤ |x|. Measured worst case 2.2e-7·|x| (x ≈ 3.6) over [−16, 16] and
     * random floats (tools/fit_gelu_erf.py, which evaluates the Java formula in float32). An absolute bound, as in
     * PyTorch's own erf: in the far negative tail GELU is below 1e-6 and its relative error large, which no score
     * can see.
     */
    static final double GELU_ABS_PER_X = 4e-7;
    /** Our Cephes tanhf measured within 1.3 ulp (1.4e-7 relative) over [−8, 8] in steps of 1e-5; 2 ulps of headroom. */
    static final double TANH_REL = 2.4e-7;

    /** Subnormal results have only absolute spacing; each product that underflows may lose one step. */
    static final double SUBNORMAL_ABS = 4 * (double) Float.MIN_VALUE;

    private static float[] apply(Activation act, float[] in) {
        float[] a = in.clone();
        VectorMath.apply(act, a, 0, a.length);
        return a;
    }

    /** Dense sweep of [-8, 8], plus tiny, huge and random-bit floats over the whole range. */
    private static float[] sweep() {
        Random rnd = new Random(7);
        float[] a = new float[200_000];
        int n = 0;
        for (; n < 160_001 && n < a.length; n++) a[n] = -8f + n * 1e-4f;
        for (; n < a.length; n++) {
            float f;
            do f = Float.intBitsToFloat(rnd.nextInt()); while (Float.isNaN(f));
            a[n] = f;
        }
        return a;
    }

    @Test
    void erfReferenceAndGeluMatchKnownValues() {
        // x, GELU(x), erf(x): Python's math.erf in double, 0.5·x·(1 + erf(x/√2))
        double[][] known = {{0.5, 0.34573123063700656, 0.5204998778130465}, {1.0, 0.8413447460685429, 0.8427007929497149},
                {-1.5, -0.10021080190328713, -0.9661051464753108}, {2.0, 1.9544997361036416, 0.9953222650189527},
                {0.1, 0.053982783727702904, 0.1124629160182849}, {3.0, 2.99595030590511, 0.9999779095030014},
                {1e-3, 0.000500398942213911, 0.0011283787909692365}, {-0.3, -0.1146265733433142, -0.3286267594591274},
                {-4.0, -0.00012668496733247991, -0.9999999845827421}, {0.0, 0.0, 0.0}};
        float[] x = new float[known.length];
        for (int i = 0; i < x.length; i++) x[i] = (float) known[i][0];
        float[] y = apply(Activation.GELU, x);
        for (int i = 0; i < x.length; i++) {
            assertEquals(known[i][2], ScalarKernels.erf(known[i][0]), 1e-15, "reference erf(" + x[i] + ")");
            assertEquals(known[i][1], ScalarKernels.gelu(known[i][0]), 1e-15, "reference gelu(" + x[i] + ")");
            assertEquals(known[i][1], y[i], GELU_ABS_PER_X * Math.abs(x[i]) + SUBNORMAL_ABS, "gelu(" + x[i] + ")");
        }
    }

    @Test
    void geluMatchesTheDoublePrecisionErfForm() {
        float[] x = sweep();
        float[] y = apply(Activation.GELU, x);
        for (int i = 0; i < x.length; i++) {
            double ref = ScalarKernels.gelu(x[i]);
            if (!(Math.abs(y[i] - ref) <= GELU_ABS_PER_X * Math.abs(x[i]) + SUBNORMAL_ABS)) {
                fail("gelu(" + x[i] + ") = " + y[i] + ", expected " + ref);
            }
        }
    }

    @Test
    void softmaxExp2IsWithinTwoUlpReturnsTheSumAndIsZeroBelowTheNormalRange() {
        java.util.Random rnd = new java.util.Random(3);
        for (int len : new int[] {16, 32, 384, 20_000}) { // whole vectors of 8 or 16 lanes
            float[] a = new float[len + 2];
            float max = 3.5f;
            for (int i = 0; i < len; i++) {
                float x = i % 2 == 0 ? -rnd.nextFloat() * 125.9f : -(float) Math.scalb(rnd.nextFloat(), -rnd.nextInt(40));
                a[i + 1] = x + max; // the shifted argument is x (up to float rounding of the sum)
            }
            a[0] = 111f;
            a[len + 1] = 222f;
            float[] in = a.clone();
            float sum = VectorMath.exp2InPlace(a, 1, len, max);
            double want = 0;
            for (int i = 1; i <= len; i++) {
                double e = Math.pow(2, in[i] - max);
                want += e;
                if (!(Math.abs(a[i] - e) <= 2 * Math.ulp((float) e))) fail("2^(" + (in[i] - max) + ") = " + a[i] + ", want " + e);
            }
            // Each lane adds up to len / V terms in float: 20,000 terms over AVX2's 8 lanes drift by ~√2500·2⁻²⁴
            // ≈ 3e-6 of the sum (measured 1.4e-6), over AVX-512's 16 less. Attention calls this per key block
            // of ≤ 256, where the drift is far smaller; a lost or doubled term would still be ≥ 1e-4 here.
            assertEquals(want, sum, 5e-6 * want);
            assertEquals(111f, a[0]);
            assertEquals(222f, a[len + 1]);
        }
        float[] edge = new float[16];
        java.util.Arrays.fill(edge, -1f);
        edge[0] = -126.5f;
        edge[4] = -126f; // the smallest normal float
        edge[1] = Float.NEGATIVE_INFINITY; // how attention pads a row of scores
        edge[2] = 0f;
        edge[3] = -0f;
        assertEquals(2 + 11 * 0.5 + 0x1p-126, VectorMath.exp2InPlace(edge, 0, 16, 0f), 1e-6);
        assertEquals(0f, edge[0]);
        assertEquals(0x1p-126f, edge[4]);
        assertEquals(0.5f, edge[5]);
        assertEquals(0f, edge[1]);
        assertEquals(1f, edge[2]);
        assertEquals(1f, edge[3]);
        assertThrows(IllegalArgumentException.class, () -> VectorMath.exp2InPlace(new float[24], 0, 12, 0f));
    }

    @Test
    void laneSumsAddHalvesThenQuartersInAFixedOrder() {
        Random rnd = new Random(5);
        int v = VectorMath.S.length();
        for (int round = 0; round < 1000; round++) {
            float[] lanes = new float[v];
            for (int i = 0; i < v; i++) lanes[i] = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(6)));
            float[] pairwise = lanes.clone();
            for (int width = v / 2; width >= 1; width /= 2) {
                for (int i = 0; i < width; i++) pairwise[i] += pairwise[i + width];
            }
            assertEquals(pairwise[0], VectorMath.sum(jdk.incubator.vector.FloatVector.fromArray(VectorMath.S, lanes, 0)), "lanes " + java.util.Arrays.toString(lanes));
        }
    }

    @Test
    void tanhMatchesMathTanh() {
        float[] x = sweep();
        float[] y = apply(Activation.TANH, x);
        for (int i = 0; i < x.length; i++) {
            double ref = Math.tanh(x[i]);
            if (!(Math.abs(y[i] - ref) <= TANH_REL * Math.abs(ref) + SUBNORMAL_ABS)) {
                fail("tanh(" + x[i] + ") = " + y[i] + ", expected " + ref);
            }
        }
    }

    @Test
    void activationsPropagateNaNAndHandleInfinities() {
        float[] x = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
        float[] t = apply(Activation.TANH, x), g = apply(Activation.GELU, x);
        assertTrue(Float.isNaN(t[0]) && Float.isNaN(g[0]));
        assertEquals(1f, t[1]);
        assertEquals(-1f, t[2]);
        assertEquals(Float.POSITIVE_INFINITY, g[1]);
        assertTrue(Float.isNaN(g[2]), "GELU(−∞) is NaN, as in torch: a −∞ from damaged weights must not vanish");
    }

    /**
     * The gates of GeGLU and SwiGLU feed-forwards, u·GELU(g) and u·SiLU(g) with u = 1 (and u = −2), against double
     * references, the far tails and infinities included: SiLU(−3.4e38) was −5.6 where it is −0.
     */
    @Test
    void gatesMatchTheirDoubleReferencesOutToTheTails() {
        float[] sweep = sweep();
        float[] tails = {-Float.MAX_VALUE, -1e30f, -1e6f, -100f, -88f, -87.5f, -87f, -86f, -6f, 6f, 87.5f, 1e30f, Float.MAX_VALUE,
                Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, Float.NaN};
        float[] g = java.util.Arrays.copyOf(sweep, sweep.length + tails.length);
        System.arraycopy(tails, 0, g, sweep.length, tails.length);
        int n = g.length;
        for (float u : new float[] {1f, -2f}) {
            float[] a = new float[2 * n]; // the gate's inputs, then the up projection's
            System.arraycopy(g, 0, a, 0, n);
            java.util.Arrays.fill(a, n, 2 * n, u);
            float[] silu = new float[n], gelu = new float[n];
            VectorMath.siluGate(a, 0, n, silu, 0, n);
            VectorMath.geluGate(a, 0, n, gelu, 0, n);
            for (int i = 0; i < n; i++) {
                double x = g[i];
                // rounded to float: u·x past Float.MAX_VALUE is ±∞ in float, as the kernel's product is
                double siluRef = (float) (u * (x / (1 + Math.exp(-x)))), geluRef = (float) (u * ScalarKernels.gelu(x));
                // past −87 SiLU is taken as 0, truly below 1.4e-36
                if (!(Math.abs(silu[i] - siluRef) <= 4e-7 * Math.abs(siluRef) + 1e-35) && !(Double.isNaN(siluRef) && Float.isNaN(silu[i]))
                        && silu[i] != siluRef) {
                    fail(u + "·SiLU(" + x + ") = " + silu[i] + ", expected " + siluRef);
                }
                if (!(Math.abs(gelu[i] - geluRef) <= GELU_ABS_PER_X * Math.abs(u * x) + SUBNORMAL_ABS)
                        && !(Double.isNaN(geluRef) && Float.isNaN(gelu[i])) && gelu[i] != geluRef) {
                    fail(u + "·GELU(" + x + ") = " + gelu[i] + ", expected " + geluRef);
                }
            }
        }
    }
}
