package dev.rerank4j.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.rerank4j.backend.Activation;
import java.util.Random;
import org.junit.jupiter.api.Test;

class VectorMathTest {
    /** Target ~1e-7; 2e-7 ≈ 3.4 float ulps covers Horner rounding plus the 1.2e-7 of the erfc fit. */
    static final double ERF_REL = 2e-7;
    /**
     * Measured worst case 4.3e-7 (x ≪ 0, where erfc's fit error, exp's ulp and the final products add
     * up; 1.4e-7 for x > 0); 5e-7 ≈ 8 ulps.
     */
    static final double GELU_REL = 5e-7;
    /** SVML/SLEEF-backed Vector API tanh is specified within 1 ulp; 2 ulps of headroom. */
    static final double TANH_REL = 2.4e-7;

    /** Subnormal results have only absolute spacing; each product that underflows may lose one step. */
    static final double SUBNORMAL_ABS = 4 * (double) Float.MIN_VALUE;

    private static float[] apply(Activation act, float[] in) {
        float[] a = in.clone();
        if (act == null) erfInPlace(a); else VectorMath.apply(act, a, 0, a.length);
        return a;
    }

    private static void erfInPlace(float[] a) {
        var s = VectorMath.S;
        for (int i = 0; i < a.length; i += s.length()) {
            var m = s.indexInRange(i, a.length);
            VectorMath.erf(jdk.incubator.vector.FloatVector.fromArray(s, a, i, m)).intoArray(a, i, m);
        }
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
    void erfMatchesKnownValues() {
        double[][] known = {{0.5, 0.5204998778130465}, {1.0, 0.8427007929497149}, {-1.5, -0.9661051464753108},
                {2.0, 0.9953222650189527}, {0.1, 0.1124629160182849}, {3.0, 0.9999779095030014},
                {1e-3, 1.1283787909692363e-3}, {0.0, 0.0}};
        float[] x = new float[known.length];
        for (int i = 0; i < x.length; i++) x[i] = (float) known[i][0];
        float[] y = apply(null, x);
        for (int i = 0; i < x.length; i++) {
            assertEquals(known[i][1], y[i], ERF_REL * Math.abs(known[i][1]), "erf(" + x[i] + ")");
            assertEquals(known[i][1], ScalarKernels.erf(known[i][0]), 1e-15, "reference erf(" + x[i] + ")");
        }
    }

    @Test
    void erfIsWithinTwoTenMillionthsRelativeOverTheWholeFloatRange() {
        float[] x = sweep();
        float[] y = apply(null, x);
        for (int i = 0; i < x.length; i++) {
            double ref = ScalarKernels.erf(x[i]);
            if (Math.abs(y[i] - ref) > ERF_REL * Math.abs(ref) + SUBNORMAL_ABS) {
                fail("erf(" + x[i] + ") = " + y[i] + ", expected " + ref);
            }
        }
    }

    @Test
    void geluMatchesTheDoublePrecisionErfForm() {
        float[] x = sweep();
        float[] y = apply(Activation.GELU, x);
        for (int i = 0; i < x.length; i++) {
            double ref = ScalarKernels.gelu(x[i]);
            if (!(Math.abs(y[i] - ref) <= GELU_REL * Math.abs(ref) + SUBNORMAL_ABS)) {
                fail("gelu(" + x[i] + ") = " + y[i] + ", expected " + ref);
            }
        }
    }

    @Test
    void expOfNonPositiveArgumentsIsWithinTwoUlpAndZeroBelowTheNormalRange() {
        int n = VectorMath.S.length();
        float[] x = new float[n], y = new float[n];
        java.util.Random rnd = new java.util.Random(3);
        for (int trial = 0; trial < 20_000; trial++) {
            for (int i = 0; i < n; i++) {
                x[i] = trial < 10_000 ? -rnd.nextFloat() * 87.3f : -(float) Math.scalb(rnd.nextFloat(), -rnd.nextInt(40));
            }
            VectorMath.expNonPositive(jdk.incubator.vector.FloatVector.fromArray(VectorMath.S, x, 0)).intoArray(y, 0);
            for (int i = 0; i < n; i++) {
                double want = Math.exp(x[i]);
                if (!(Math.abs(y[i] - want) <= 2 * Math.ulp((float) want))) fail("exp(" + x[i] + ") = " + y[i] + ", want " + want);
            }
        }
        float[] edge = new float[n];
        java.util.Arrays.fill(edge, -88f);
        edge[0] = Float.NEGATIVE_INFINITY;
        edge[1] = 0f;
        edge[2] = -0f;
        VectorMath.expNonPositive(jdk.incubator.vector.FloatVector.fromArray(VectorMath.S, edge, 0)).intoArray(y, 0);
        assertEquals(0f, y[0]);
        assertEquals(1f, y[1]);
        assertEquals(1f, y[2]);
        assertEquals(0f, y[3]);
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
        float[] e = apply(null, x), g = apply(Activation.GELU, x);
        assertTrue(Float.isNaN(e[0]) && Float.isNaN(g[0]));
        assertEquals(1f, e[1]);
        assertEquals(-1f, e[2]);
        assertEquals(Float.POSITIVE_INFINITY, g[1]);
    }
}
