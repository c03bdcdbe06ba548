package dev.rerank4j.backend.cpu;

import dev.rerank4j.backend.Activation;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * erf, GELU (exact erf form) and tanh on vectors. Java has no erf, and the tanh-approximated GELU
 * differs from HF's "gelu" by up to ~1e-3, which would break parity with PyTorch.
 *
 * <p>erf splits at |x| = 1. Below, the Maclaurin series of erf(x)/x in x² (12 terms: the next one is
 * under 1e-9 at |x| = 1) evaluated by Horner. Above, erfc(a) = t·exp(-a² + P(t)) with t = 1/(1 + a/2),
 * the Chebyshev fit of Numerical Recipes' erfcc (fractional error below 1.2e-7 for all a ≥ 0); the
 * rounding error of a² in float is recovered with an FMA, since exp amplifies it by a². GELU for
 * x/√2 < -0.5 uses erfc directly instead of 1 + erf, so it keeps its relative accuracy in the tail.
 */
final class VectorMath {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private static final float SQRT1_2 = (float) Math.sqrt(0.5);
    private static final float[] SERIES = new float[12];

    static {
        // erf(x) = 2/√π · Σ (-1)^n x^(2n+1) / (n! (2n+1))
        double factorial = 1;
        for (int n = 0; n < SERIES.length; n++) {
            if (n > 0) factorial *= n;
            SERIES[n] = (float) ((n % 2 == 0 ? 1 : -1) * 2 / Math.sqrt(Math.PI) / (factorial * (2 * n + 1)));
        }
    }

    private static final float C0 = -1.26551223f, C1 = 1.00002368f, C2 = 0.37409196f, C3 = 0.09678418f,
            C4 = -0.18628806f, C5 = 0.27886807f, C6 = -1.13520398f, C7 = 1.48851587f, C8 = -0.82215223f,
            C9 = 0.17087277f;
    private static final float[] ERFC_FIT = {C7, C6, C5, C4, C3, C2, C1, C0};

    private VectorMath() {}

    static FloatVector erf(FloatVector x) {
        FloatVector a = x.abs();
        VectorMask<Float> small = a.compare(VectorOperators.LT, 1f);
        FloatVector u2 = x.mul(x);
        FloatVector q = FloatVector.broadcast(S, SERIES[SERIES.length - 1]);
        for (int n = SERIES.length - 2; n >= 0; n--) q = q.fma(u2, FloatVector.broadcast(S, SERIES[n]));
        FloatVector viaSeries = x.mul(q);
        if (small.allTrue()) return viaSeries;
        a = a.min(10f); // erfc(10) ≈ 2e-45: 1 - erfc is 1 in float either way, and a² stays finite
        FloatVector sq = a.mul(a), sqLo = a.fma(a, sq.neg());
        // erfc(a) = t·exp(-a² + P(t)); written out here, not in a helper, so the vectors never cross
        // a call C2 might decline to inline (that boxes every vector and runs ~10× slower).
        FloatVector t = FloatVector.broadcast(S, 1f).div(a.fma(0.5f, 1f));
        FloatVector p = t.fma(C9, C8);
        for (float c : ERFC_FIT) p = p.fma(t, FloatVector.broadcast(S, c));
        // TwoSum: p - sq = s + err exactly, so exp's argument carries no rounding that grows with a²;
        // exp(s + err - sqLo) ≈ exp(s)·(1 + err - sqLo) as |err - sqLo| < 1e-5.
        FloatVector hi = sq.neg(), s = p.add(hi), bb = s.sub(p);
        FloatVector err = p.sub(s.sub(bb)).add(hi.sub(bb));
        FloatVector erfc = t.mul(s.lanewise(VectorOperators.EXP)).mul(err.sub(sqLo).add(1f));
        FloatVector big = erfc.neg().add(1f);
        big = big.blend(big.neg(), x.compare(VectorOperators.LT, 0f));
        return big.blend(viaSeries, small);
    }

    /** 0.5·x·(1 + erf(x/√2)); the same erfc evaluation as {@link #erf}, inlined by hand for the same reason. */
    static FloatVector gelu(FloatVector x) {
        FloatVector u = x.mul(SQRT1_2);
        // Below u = -0.5, 1 + erf(u) would cancel (it falls to 0.157 at u = -1), so erfc takes over there.
        VectorMask<Float> small = u.compare(VectorOperators.LT, 1f).and(u.compare(VectorOperators.GT, -0.5f));
        FloatVector u2 = u.mul(u);
        FloatVector q = FloatVector.broadcast(S, SERIES[SERIES.length - 1]);
        for (int n = SERIES.length - 2; n >= 0; n--) q = q.fma(u2, FloatVector.broadcast(S, SERIES[n]));
        FloatVector onePlusErf = u.mul(q).add(1f);
        if (!small.allTrue()) {
            FloatVector xa = x.abs().min(14.5f); // erfc(14.5/√2) underflows float; keeps x² finite
            FloatVector x2 = xa.mul(xa);
            // u² = x²/2 = (x2 + x2Lo)/2 exactly: no rounding from the float 1/√2 reaches exp
            FloatVector sq = x2.mul(0.5f), sqLo = xa.fma(xa, x2.neg()).mul(0.5f);
            FloatVector t = FloatVector.broadcast(S, 1f).div(xa.mul(SQRT1_2).fma(0.5f, 1f));
            FloatVector p = t.fma(C9, C8);
            for (float c : ERFC_FIT) p = p.fma(t, FloatVector.broadcast(S, c));
            FloatVector hi = sq.neg(), s = p.add(hi), bb = s.sub(p);
            FloatVector err = p.sub(s.sub(bb)).add(hi.sub(bb));
            FloatVector erfc = t.mul(s.lanewise(VectorOperators.EXP)).mul(err.sub(sqLo).add(1f));
            // 1 + erf(u) = 2 - erfc(u) for u > 0, erfc(|u|) for u < 0 (no cancellation)
            FloatVector tail = erfc.blend(erfc.neg().add(2f), u.compare(VectorOperators.GT, 0f));
            onePlusErf = tail.blend(onePlusErf, small);
        }
        return x.mul(0.5f).mul(onePlusErf);
    }

    private static final float LOG2E = 1.44269504f, LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    /** 1.5·2²³: adding it rounds a float below 2²² to an integer (round to nearest even). */
    private static final float ROUND = 12582912f;
    private static final float EXP_MIN = -87.33654f;

    /**
     * Replaces a[off, off + len) by e^(a[i] − max) and returns their sum; softmax's numerators, so every
     * argument is ≤ 0. Within 2 ulp; 0 below −87.34, where e^x leaves the normal floats. An inline polynomial
     * rather than {@code lanewise(EXP)}: that is a call into a vector math stub, around which C2 saves the
     * caller's live vector registers, and in attention it cost as much as the score FMAs. Cody–Waite
     * reduction x = n·ln2 + r, |r| ≤ ln2/2, Cephes' degree-6 expf polynomial on r, scaled by 2ⁿ through
     * the exponent bits. All in one method, so no vector crosses a call C2 might not inline.
     */
    static float expInPlace(float[] a, int off, int len, float max) {
        FloatVector sum = FloatVector.zero(S);
        for (int j = 0; j < len; j += S.length()) {
            VectorMask<Float> m = S.indexInRange(j, len);
            FloatVector x = FloatVector.fromArray(S, a, off + j, m).sub(max);
            VectorMask<Float> zero = x.compare(VectorOperators.LT, EXP_MIN).or(m.not());
            FloatVector xc = x.max(EXP_MIN);
            FloatVector n = xc.fma(LOG2E, ROUND).sub(ROUND);
            FloatVector r = n.fma(FloatVector.broadcast(S, -LN2_HI), xc);
            r = n.fma(FloatVector.broadcast(S, -LN2_LO), r);
            FloatVector p = r.fma(1.9875691500e-4f, 1.3981999507e-3f);
            p = p.fma(r, FloatVector.broadcast(S, 8.3334519073e-3f));
            p = p.fma(r, FloatVector.broadcast(S, 4.1665795894e-2f));
            p = p.fma(r, FloatVector.broadcast(S, 1.6666665459e-1f));
            p = p.fma(r, FloatVector.broadcast(S, 5.0000001201e-1f));
            p = p.fma(r.mul(r), r).add(1f);
            FloatVector scale = ((IntVector) n.convert(VectorOperators.F2I, 0)).add(127)
                    .lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector e = p.mul(scale).blend(0f, zero);
            e.intoArray(a, off + j, m);
            sum = sum.add(e);
        }
        return sum.reduceLanes(VectorOperators.ADD);
    }

    /** Applies {@code activation} to {@code a[from, to)} in place. */
    static void apply(Activation activation, float[] a, int from, int to) {
        // One small method per activation rather than one switch with the loops: C1 gives up on large vector
        // methods ("out of virtual registers"), and the method then ran interpreted for seconds.
        switch (activation) {
            case NONE -> { }
            case GELU -> geluInPlace(a, from, to);
            case TANH -> tanhInPlace(a, from, to);
        }
    }

    private static void geluInPlace(float[] a, int from, int to) {
        for (int i = from; i < to; i += S.length()) {
            VectorMask<Float> m = S.indexInRange(i, to);
            gelu(FloatVector.fromArray(S, a, i, m)).intoArray(a, i, m);
        }
    }

    private static void tanhInPlace(float[] a, int from, int to) {
        for (int i = from; i < to; i += S.length()) {
            VectorMask<Float> m = S.indexInRange(i, to);
            FloatVector.fromArray(S, a, i, m).lanewise(VectorOperators.TANH).intoArray(a, i, m);
        }
    }
}
