package dev.rerank4j.backend.cpu;

import dev.rerank4j.backend.Activation;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * GELU (exact erf form), tanh and softmax's exp on vectors. Java has no erf, and the tanh-approximated
 * GELU differs from HF's "gelu" by up to ~1e-3, which would break parity with PyTorch.
 *
 * <p>GELU needs 1 + erf(x/√2). Away from 0 it comes from erfc(a) = t·exp(-a² + P(t)) with t = 1/(1 + a/2),
 * the Chebyshev fit of Numerical Recipes' erfcc (fractional error below 1.2e-7 for all a ≥ 0); the rounding
 * error of a² in float is recovered with an FMA, since exp amplifies it by a². Near 0 it comes from the
 * Maclaurin series of erf. Below 0 erfc is used directly instead of 1 + erf, so GELU keeps its relative
 * accuracy in the tail.
 */
final class VectorMath {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private static final float SQRT1_2 = (float) Math.sqrt(0.5);

    /** erf(x) = 2/√π · Σ (-1)ⁿ x^(2n+1) / (n! (2n+1)): the coefficient of x^(2n+1), n = 0 … 7. */
    private static final float E0 = series(0), E1 = series(1), E2 = series(2), E3 = series(3), E4 = series(4),
            E5 = series(5), E6 = series(6), E7 = series(7);

    private static float series(int n) {
        double factorial = 1;
        for (int i = 2; i <= n; i++) factorial *= i;
        return (float) ((n % 2 == 0 ? 1 : -1) * 2 / Math.sqrt(Math.PI) / (factorial * (2 * n + 1)));
    }

    private static final float C0 = -1.26551223f, C1 = 1.00002368f, C2 = 0.37409196f, C3 = 0.09678418f,
            C4 = -0.18628806f, C5 = 0.27886807f, C6 = -1.13520398f, C7 = 1.48851587f, C8 = -0.82215223f,
            C9 = 0.17087277f;

    private VectorMath() {}

    private static final float LOG2E = 1.44269504f, LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    /**
     * 1.5·2²³: adding it rounds a float below 2²² to an integer (round to nearest even), and the sum's bits
     * minus ROUND's bits are that integer. Reading n from the bits, and clamping with compare + blend, avoid
     * the Vector API's F2I convert and lanewise min/max: Java's semantics for NaN, overflow and -0.0 cost C2
     * several instructions each (measured on GELU: 2.85 → 2.26 ns per element, results bit-identical).
     */
    private static final float ROUND = 12582912f;
    private static final int ROUND_BITS = Float.floatToRawIntBits(ROUND);
    private static final float EXP_MIN = -87.33654f;
    /** Cephes' expf polynomial: e^r ≈ 1 + r + r²·(P0·r⁵ + P1·r⁴ + … + P5), |r| ≤ ln2/2. */
    private static final float EXP_P0 = 1.9875691500e-4f, EXP_P1 = 1.3981999507e-3f, EXP_P2 = 8.3334519073e-3f,
            EXP_P3 = 4.1665795894e-2f, EXP_P4 = 1.6666665459e-1f, EXP_P5 = 5.0000001201e-1f;

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
            FloatVector xc = x.blend(EXP_MIN, zero);
            FloatVector rounded = xc.fma(LOG2E, ROUND), n = rounded.sub(ROUND);
            FloatVector r = n.fma(FloatVector.broadcast(S, -LN2_HI), xc);
            r = n.fma(FloatVector.broadcast(S, -LN2_LO), r);
            FloatVector p = r.fma(EXP_P0, EXP_P1);
            p = p.fma(r, FloatVector.broadcast(S, EXP_P2));
            p = p.fma(r, FloatVector.broadcast(S, EXP_P3));
            p = p.fma(r, FloatVector.broadcast(S, EXP_P4));
            p = p.fma(r, FloatVector.broadcast(S, EXP_P5));
            p = p.fma(r.mul(r), r).add(1f);
            FloatVector scale = rounded.reinterpretAsInts().sub(ROUND_BITS).add(127)
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

    /**
     * 0.5·x·(1 + erf(x/√2)) over a[from, to) in place, through erfc alone: 1 + erf(u) is 2 - erfc(u) for u ≥ 0
     * (erfc ≤ 1 there, so no cancellation) and erfc(-u) for u < 0, and erfc's fit holds its relative error
     * over the whole range, so GELU needs no series branch. Written as one loop with everything inline, exp
     * included: a helper taking a vector is too big for C2 to inline ("hot method too big"), and the boxed
     * call cost 5.7 ns per element. Polynomials are split in even and odd halves so their FMA chains are half
     * as long; the loop is latency-bound, not throughput-bound.
     */
    private static void geluInPlace(float[] a, int from, int to) {
        for (int i = from; i < to; i += S.length()) {
            VectorMask<Float> inRange = S.indexInRange(i, to);
            FloatVector x = FloatVector.fromArray(S, a, i, inRange);
            FloatVector ax = x.abs();
            FloatVector xa = ax.blend(14.5f, ax.compare(VectorOperators.GT, 14.5f)); // erfc(14.5/√2) underflows float; keeps x² finite
            FloatVector x2 = xa.mul(xa);
            // u² = x²/2 = (x2 + x2Lo)/2 exactly: no rounding from the float 1/√2 reaches exp
            FloatVector sq = x2.mul(0.5f), sqLo = xa.fma(xa, x2.neg()).mul(0.5f);
            FloatVector t = FloatVector.broadcast(S, 1f).div(xa.mul(SQRT1_2).fma(0.5f, 1f));
            // P(t) = Σ Cₖ tᵏ as even(t²) + t·odd(t²)
            FloatVector t2 = t.mul(t);
            FloatVector even = t2.fma(C8, C6);
            FloatVector odd = t2.fma(C9, C7);
            even = even.fma(t2, FloatVector.broadcast(S, C4));
            odd = odd.fma(t2, FloatVector.broadcast(S, C5));
            even = even.fma(t2, FloatVector.broadcast(S, C2));
            odd = odd.fma(t2, FloatVector.broadcast(S, C3));
            even = even.fma(t2, FloatVector.broadcast(S, C0));
            odd = odd.fma(t2, FloatVector.broadcast(S, C1));
            FloatVector p = odd.fma(t, even);
            // TwoSum: p - sq = s + err exactly, so exp's argument carries no rounding that grows with a²;
            // exp(s + err - sqLo) ≈ exp(s)·(1 + err - sqLo) as |err - sqLo| < 1e-5.
            FloatVector hi = sq.neg(), s = p.add(hi), bb = s.sub(p);
            FloatVector err = p.sub(s.sub(bb)).add(hi.sub(bb));
            // exp(s), s in [-106, -0.5], by expInPlace's reduction and polynomial; 2ⁿ is applied as two normal
            // factors 2^(n/2)·2^(n-n/2), the second one last, so a result below the normal range rounds once.
            FloatVector sc = s.blend(-120f, s.compare(VectorOperators.LT, -120f)); // no-op for |x| ≤ 14.5; n ≥ -174 keeps both factors normal
            FloatVector rounded = sc.fma(LOG2E, ROUND), n = rounded.sub(ROUND);
            FloatVector r = n.fma(FloatVector.broadcast(S, -LN2_HI), sc);
            r = n.fma(FloatVector.broadcast(S, -LN2_LO), r);
            FloatVector r2 = r.mul(r);
            FloatVector pe = r2.fma(EXP_P1, EXP_P3).fma(r2, FloatVector.broadcast(S, EXP_P5));
            FloatVector po = r2.fma(EXP_P0, EXP_P2).fma(r2, FloatVector.broadcast(S, EXP_P4));
            FloatVector e = po.fma(r, pe).fma(r2, r).add(1f);
            IntVector ni = rounded.reinterpretAsInts().sub(ROUND_BITS);
            IntVector n1 = ni.lanewise(VectorOperators.ASHR, 1);
            FloatVector scale1 = n1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector scale2 = ni.sub(n1).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            // (|x|/2)·erfc(|u|), erfc(|u|) = t·exp(s)·(1 + err - sqLo); |x| clamped as above: beyond 14.5 the
            // product is 0 in float either way, and ∞ stays ∞ without ∞·0.
            FloatVector halfErfc = xa.mul(0.5f).mul(t).mul(err.sub(sqLo).add(1f)).mul(e.mul(scale1)).mul(scale2);
            // x·(1 + erf(u))/2 = x - (|x|/2)·erfc(|u|) for u ≥ 0 and -(|x|/2)·erfc(|u|) for u < 0
            FloatVector y = x.sub(halfErfc).blend(halfErfc.neg(), x.compare(VectorOperators.LT, 0f));
            // Near 0 erfc's fit carries up to 6e-7 relative error (its terms cancel in float), so for |u| < 1/2
            // 1 + erf(u) comes from erf's Maclaurin series instead: erf(u)/u = Σ Eₙ wⁿ, w = u², 8 terms (the
            // next is 4e-10 at |u| = 1/2), evaluated as even + w·odd in w².
            FloatVector u = x.mul(SQRT1_2);
            FloatVector w = u.mul(u), w2 = w.mul(w);
            FloatVector qe = w2.fma(E6, E4).fma(w2, FloatVector.broadcast(S, E2)).fma(w2, FloatVector.broadcast(S, E0));
            FloatVector qo = w2.fma(E7, E5).fma(w2, FloatVector.broadcast(S, E3)).fma(w2, FloatVector.broadcast(S, E1));
            FloatVector viaSeries = x.mul(0.5f).mul(u.mul(qo.fma(w, qe)).add(1f));
            VectorMask<Float> nearZero = u.abs().compare(VectorOperators.LT, 0.5f);
            y.blend(viaSeries, nearZero).intoArray(a, i, inRange);
        }
    }

    private static void tanhInPlace(float[] a, int from, int to) {
        for (int i = from; i < to; i += S.length()) {
            VectorMask<Float> m = S.indexInRange(i, to);
            FloatVector.fromArray(S, a, i, m).lanewise(VectorOperators.TANH).intoArray(a, i, m);
        }
    }
}
