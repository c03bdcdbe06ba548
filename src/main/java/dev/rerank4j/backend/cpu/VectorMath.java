package dev.rerank4j.backend.cpu;

import dev.rerank4j.backend.Activation;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * GELU (erf form), tanh and softmax's exp on vectors. Java has no erf, and the tanh-approximated GELU differs
 * from HF's "gelu" by up to ~1e-3, which would break parity with PyTorch.
 *
 * <p>GELU's erf is a rational fit of our own with absolute error 1.7e-7, the accuracy of the Abramowitz &amp; Stegun
 * 7.1.26 formula that PyTorch's vectorized CPU erf uses (ATen {@code Vectorized<float>::erf}) and that this used until
 * 2026-12-04, at 60% of its cost. Absolute, not relative, accuracy in the tail: GELU feeds a matrix product,
 * where only absolute error reaches the scores.
 */
final class VectorMath {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private static final float SQRT1_2 = (float) Math.sqrt(0.5);

    /** ½·erf(u) ≈ u·P(u²)/Q(u²) for |u| ≤ 4: P's coefficients (halved), then Q's from u² on (Q's constant is 1). */
    private static final float ERF_P0 = 5.641895533e-01f, ERF_P1 = 9.754149616e-02f, ERF_P2 = 2.660858445e-02f,
            ERF_P3 = 1.957991160e-03f, ERF_P4 = 1.401323680e-04f, ERF_P5 = 9.586767646e-07f;
    private static final float ERF_Q1 = 5.062207580e-01f, ERF_Q2 = 1.159048975e-01f, ERF_Q3 = 1.528775319e-02f,
            ERF_Q4 = 1.183295739e-03f, ERF_Q5 = 3.645520701e-05f;
    private static final float GELU_LOW = (float) (-4 * Math.sqrt(2));

    private VectorMath() {}

    private static final int V = S.length();
    /** Lane i to lane i ^ k, for k = 8, 4, 2, 1 (those below the vector length). */
    private static final VectorShuffle<Float> SWAP_8 = swap(8), SWAP_4 = swap(4), SWAP_2 = swap(2), SWAP_1 = swap(1);

    private static VectorShuffle<Float> swap(int k) {
        return k < V ? VectorShuffle.fromOp(S, i -> i ^ k) : null;
    }

    /**
     * The sum of v's lanes, added pairwise in a fixed order (halves, then quarters, …). {@code reduceLanes(ADD)}
     * leaves the order open, and its Java fallback, which runs until C2 compiles the caller, adds lane after lane
     * where C2's intrinsic adds pairwise: the two differed in the last bit for half of the 16-lane sums measured,
     * so the same input scored differently in a cold JVM than in a warm one. This one is no slower (AVX-512).
     */
    static float sum(FloatVector v) {
        if (V > 8) v = v.add(v.rearrange(SWAP_8));
        if (V > 4) v = v.add(v.rearrange(SWAP_4));
        if (V > 2) v = v.add(v.rearrange(SWAP_2));
        if (V > 1) v = v.add(v.rearrange(SWAP_1));
        return v.lane(0);
    }

    private static final float LOG2E = 1.44269504f, LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    /**
     * 1.5·2²³: adding it rounds a float below 2²² to an integer (round to nearest even), and the sum's bits
     * minus ROUND's bits are that integer. Reading n from the bits, and clamping with compare + blend, avoid
     * the Vector API's F2I convert and lanewise min/max: Java's semantics for NaN, overflow and -0.0 cost C2
     * several instructions each (measured on GELU: 2.85 → 2.26 ns per element, results bit-identical).
     */
    private static final float ROUND = 12582912f;
    private static final int ROUND_BITS = Float.floatToRawIntBits(ROUND);
    /** Cephes' expf polynomial: e^r ≈ 1 + r + r²·(P0·r⁵ + P1·r⁴ + … + P5), |r| ≤ ln2/2. */
    private static final float EXP_P0 = 1.9875691500e-4f, EXP_P1 = 1.3981999507e-3f, EXP_P2 = 8.3334519073e-3f,
            EXP_P3 = 4.1665795894e-2f, EXP_P4 = 1.6666665459e-1f, EXP_P5 = 5.0000001201e-1f;

    /** Cephes' exp2f polynomial: 2^f ≈ 1 + f·(E2_P0·f⁵ + E2_P1·f⁴ + … + E2_P5), |f| ≤ ½, relative error 1.7e-7. */
    private static final float E2_P0 = 1.535336188319500e-4f, E2_P1 = 1.339887440266574e-3f, E2_P2 = 9.618437357674640e-3f,
            E2_P3 = 5.550332471162809e-2f, E2_P4 = 2.402264791363012e-1f, E2_P5 = 6.931472028550421e-1f;
    /** Below this 2^x leaves the normal floats. */
    private static final float EXP2_MIN = -126f;

    /**
     * Replaces a[off, off + len) by 2^(a[i] − max) and returns their sum: softmax's numerators in base 2, for
     * callers that scale their scores by log₂e first (attention folds it into 1/√d), so e^s = 2^(s·log₂e) costs
     * no more than this. Every argument is ≤ 0 (or −∞, which gives 0: attention pads its rows with it). Within 2 ulp; 0
     * below −126, where 2^x leaves the normal floats. {@code len} is a multiple of the vector length, so every load and
     * store is a whole vector (a mask on every vector cost 0.41 ns per element against 0.29–0.32 whole; AVX-512,
     * 2026-12-04). Base 2 needs no Cody–Waite reduction (x = n + f, f = x − round(x), exactly) and a degree-6
     * polynomial: 7 multiply-adds a vector where e^x took 11, and a shorter chain (one thread, 8 rows of 128 scores:
     * 250 against 490 ns; with {@code AttentionKernel}'s maxima four rows at a time, its whole kernel ran 1.08–1.21×
     * as fast at MiniLM's and bge-base's head shapes; 2026-12-05, AVX-512). An inline polynomial rather than
     * {@code lanewise(EXP)}: that is a call into a vector math stub, around which C2 saves the caller's live vector
     * registers, and in attention it cost as much as the score FMAs.
     */
    static float exp2InPlace(float[] a, int off, int len, float max) {
        if (len % S.length() != 0) throw new IllegalArgumentException(len + " is not a multiple of " + S.length());
        FloatVector total = FloatVector.zero(S);
        for (int j = 0; j < len; j += S.length()) {
            FloatVector x = FloatVector.fromArray(S, a, off + j).sub(max);
            VectorMask<Float> zero = x.compare(VectorOperators.LT, EXP2_MIN);
            x = x.blend(EXP2_MIN, zero);
            FloatVector rounded = x.add(ROUND), f = x.sub(rounded.sub(ROUND));
            FloatVector p = f.fma(E2_P0, E2_P1).fma(f, FloatVector.broadcast(S, E2_P2)).fma(f, FloatVector.broadcast(S, E2_P3))
                    .fma(f, FloatVector.broadcast(S, E2_P4)).fma(f, FloatVector.broadcast(S, E2_P5)).fma(f, FloatVector.broadcast(S, 1f));
            FloatVector scale = rounded.reinterpretAsInts().sub(ROUND_BITS - 127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector e = p.mul(scale).blend(0f, zero);
            e.intoArray(a, off + j);
            total = total.add(e);
        }
        return sum(total);
    }

    /**
     * e^x for x ≥ −87.3 (and below 88.7, where it overflows); small enough that C2 inlines it. Cody–Waite reduction
     * x = n·ln2 + r, |r| ≤ ln2/2, Cephes' degree-6 expf polynomial on r, scaled by 2ⁿ through the exponent bits.
     */
    private static FloatVector exp(FloatVector x) {
        FloatVector rounded = x.fma(LOG2E, ROUND), n = rounded.sub(ROUND);
        FloatVector r = n.fma(FloatVector.broadcast(S, -LN2_HI), x);
        r = n.fma(FloatVector.broadcast(S, -LN2_LO), r);
        FloatVector p = r.fma(EXP_P0, EXP_P1);
        p = p.fma(r, FloatVector.broadcast(S, EXP_P2));
        p = p.fma(r, FloatVector.broadcast(S, EXP_P3));
        p = p.fma(r, FloatVector.broadcast(S, EXP_P4));
        p = p.fma(r, FloatVector.broadcast(S, EXP_P5));
        p = p.fma(r.mul(r), r).add(1f);
        FloatVector scale = rounded.reinterpretAsInts().sub(ROUND_BITS).add(127)
                .lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.mul(scale);
    }

    /** Applies {@code activation} to {@code a[from, to)} in place. */
    static void apply(Activation activation, float[] a, int from, int to) {
        // One small method per activation rather than one switch with the loops: C1 gives up on large vector
        // methods ("out of virtual registers"), and the method then ran interpreted for seconds.
        switch (activation) {
            case NONE -> { }
            case GELU -> geluInPlace(a, from, to);
            case TANH -> tanhInPlace(a, from, to);
            case RELU -> reluInPlace(a, from, to);
        }
    }

    /**
     * GELU(x) = x·Φ(x), Φ(x) = ½ + ½·erf(u), u = x/√2, with erf(u) ≈ u·P(u²)/Q(u²) for |u| ≤ 4 (past 4, erf(u)
     * is ±1 in float, and u is clamped there). P and Q are our own fit ({@code tools/fit_gelu_erf.py}): absolute
     * error 1.7e-7 in erf, at most 2.2e-7·|x| in GELU; 20 vector ops with one division, where A&amp;S 7.1.26 with
     * its exp took 33 (0.35 against 0.55 ns per element, AVX-512). Below x = −4√2 GELU is under 1e-6 and is
     * taken as x·0: −0, and NaN for −∞ as in torch, so that a −∞ from damaged weights does not vanish. Whole vectors
     * go without a mask, a partial last one with: a single pair's GEMM applies GELU to runs of 32 columns, where a mask
     * on every vector took 0.51 against 0.42 ns per element (runs of 256: 0.51 against 0.50; one thread, AVX-512,
     * 2026-12-05).
     */
    private static void geluInPlace(float[] a, int from, int to) {
        int i = from;
        for (; i + S.length() <= to; i += S.length()) gelu(FloatVector.fromArray(S, a, i)).intoArray(a, i);
        if (i < to) {
            VectorMask<Float> inRange = S.indexInRange(i, to);
            gelu(FloatVector.fromArray(S, a, i, inRange)).intoArray(a, i, inRange);
        }
    }

    /** out[outAt + j] = GELU(a[uAt + j]) · a[gAt + j] for j &lt; n: the gate of a GeGLU feed-forward. */
    static void geluGate(float[] a, int uAt, int gAt, float[] out, int outAt, int n) {
        int j = 0;
        for (; j + S.length() <= n; j += S.length()) {
            gelu(FloatVector.fromArray(S, a, uAt + j)).mul(FloatVector.fromArray(S, a, gAt + j)).intoArray(out, outAt + j);
        }
        if (j < n) {
            VectorMask<Float> inRange = S.indexInRange(j, n);
            gelu(FloatVector.fromArray(S, a, uAt + j, inRange)).mul(FloatVector.fromArray(S, a, gAt + j, inRange))
                    .intoArray(out, outAt + j, inRange);
        }
    }

    /** out[outAt + j] = SiLU(a[gAt + j]) · a[uAt + j] for j &lt; n: the gate of a SwiGLU feed-forward. */
    static void siluGate(float[] a, int gAt, int uAt, float[] out, int outAt, int n) {
        int j = 0;
        for (; j + S.length() <= n; j += S.length()) {
            silu(FloatVector.fromArray(S, a, gAt + j)).mul(FloatVector.fromArray(S, a, uAt + j)).intoArray(out, outAt + j);
        }
        if (j < n) {
            VectorMask<Float> inRange = S.indexInRange(j, n);
            silu(FloatVector.fromArray(S, a, gAt + j, inRange)).mul(FloatVector.fromArray(S, a, uAt + j, inRange))
                    .intoArray(out, outAt + j, inRange);
        }
    }

    /**
     * SiLU(x) = x·σ(x), with σ from t = e^−|x| (never overflowing): 1/(1 + t) for x ≥ 0, t/(1 + t) below; |x| is clamped
     * at 87, past which σ is 1 in float above, and below is taken as 0: x·0, −0, and NaN for −∞ as in torch (the clamped
     * σ of 1.6e-38 made x·σ about −5.6 at x = −3.4e38).
     */
    private static FloatVector silu(FloatVector x) {
        FloatVector t = exp(x.abs().min(87f).neg());
        FloatVector onePlus = t.add(1f);
        FloatVector sigma = FloatVector.broadcast(S, 1f).blend(t, x.compare(VectorOperators.LT, 0f)).div(onePlus);
        return x.mul(sigma).blend(x.mul(0f), x.compare(VectorOperators.LT, -87f));
    }

    private static FloatVector gelu(FloatVector x) {
        FloatVector u = x.mul(SQRT1_2);
        u = u.blend(4f, u.compare(VectorOperators.GT, 4f));
        FloatVector s = u.mul(u);
        FloatVector p = s.fma(ERF_P5, ERF_P4).fma(s, FloatVector.broadcast(S, ERF_P3)).fma(s, FloatVector.broadcast(S, ERF_P2))
                .fma(s, FloatVector.broadcast(S, ERF_P1)).fma(s, FloatVector.broadcast(S, ERF_P0));
        FloatVector q = s.fma(ERF_Q5, ERF_Q4).fma(s, FloatVector.broadcast(S, ERF_Q3)).fma(s, FloatVector.broadcast(S, ERF_Q2))
                .fma(s, FloatVector.broadcast(S, ERF_Q1)).fma(s, FloatVector.broadcast(S, 1f));
        return x.mul(u.mul(p).div(q).add(0.5f)).blend(x.mul(0f), x.compare(VectorOperators.LT, GELU_LOW));
    }

    /** max(x, 0); no NaN reaches it from a finite model. */
    private static void reluInPlace(float[] a, int from, int to) {
        int i = from;
        for (; i + S.length() <= to; i += S.length()) FloatVector.fromArray(S, a, i).max(0f).intoArray(a, i);
        for (; i < to; i++) a[i] = Math.max(a[i], 0f);
    }

    /** Cephes' tanhf below |x| = 0.625: tanh x ≈ x + x·s·P(s), s = x². */
    private static final float TANH_P0 = -5.70498872745e-3f, TANH_P1 = 2.06390887954e-2f, TANH_P2 = -5.37397155531e-2f,
            TANH_P3 = 1.33314422036e-1f, TANH_P4 = -3.33332819422e-1f;

    /**
     * Cephes' tanhf: the polynomial above below |x| = 0.625, else ±(1 − 2/(e^{2|x|} + 1)) with |x| clamped at 10,
     * past which tanh is 1 in float; within 1.3 ulp (measured over [−8, 8]). Our own rather than {@code lanewise(TANH)}: that one is
     * Java code until C2 compiles the caller and a vector math library after, and the two differ in the last
     * bit of 1% of arguments, so a cross-encoder's first scores came out different from its later ones for the
     * same input (measured: 37 of 4,096 lanes, JDK 25).
     */
    private static void tanhInPlace(float[] a, int from, int to) {
        for (int i = from; i < to; i += S.length()) {
            VectorMask<Float> inRange = S.indexInRange(i, to);
            FloatVector x = FloatVector.fromArray(S, a, i, inRange);
            FloatVector s = x.mul(x);
            FloatVector small = s.fma(TANH_P0, TANH_P1).fma(s, FloatVector.broadcast(S, TANH_P2)).fma(s, FloatVector.broadcast(S, TANH_P3))
                    .fma(s, FloatVector.broadcast(S, TANH_P4)).mul(s).fma(x, x);
            FloatVector ax = x.abs();
            FloatVector large = FloatVector.broadcast(S, -2f).div(exp(ax.min(10f).mul(2f)).add(1f)).add(1f);
            large = large.blend(large.neg(), x.compare(VectorOperators.LT, 0f));
            small.blend(large, ax.compare(VectorOperators.GE, 0.625f).or(x.test(VectorOperators.IS_NAN)))
                    .intoArray(a, i, inRange);
        }
    }
}
