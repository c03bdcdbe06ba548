package dev.rerank4j.backend;

/**
 * Rotary position embedding (RoPE) tables: for position p and pair i &lt; d/2 of a head's d dims, the angle
 * p·θ^(−2i/d), as cos and sin. A query or key x at position p becomes, for each i,
 * (x_i·cos − x_{i+d/2}·sin, x_{i+d/2}·cos + x_i·sin): transformers' {@code rotate_half} pairing, dims i and i + d/2.
 *
 * <p>Computed as transformers does, in F32: inv_freq = 1 / θ^(2i/d) with the exponent and the power rounded to
 * float, and the angle the float product p · inv_freq. At position 8,000 the angle's rounding is about 5e-4 rad, so
 * a table made in double would not give transformers' scores there.
 */
public final class RotaryTable {
    private final int headDim;
    private final int positions;
    /** [position][i] for i &lt; d/2. */
    private final float[] cos;
    private final float[] sin;

    private RotaryTable(int headDim, int positions, float[] cos, float[] sin) {
        this.headDim = headDim;
        this.positions = positions;
        this.cos = cos;
        this.sin = sin;
    }

    /** Tables for heads of {@code headDim} dims (even), positions [0, positions), base θ = {@code theta}. */
    public static RotaryTable of(int headDim, double theta, int positions) {
        if (headDim < 2 || headDim % 2 != 0) throw new IllegalArgumentException("RoPE needs an even head size ≥ 2, got " + headDim);
        if (!(theta > 1) || Double.isInfinite(theta)) throw new IllegalArgumentException("RoPE base θ must be finite and > 1, got " + theta);
        if (positions < 1) throw new IllegalArgumentException("positions must be ≥ 1, got " + positions);
        int half = headDim / 2;
        float[] invFreq = new float[half];
        for (int i = 0; i < half; i++) {
            float exponent = (float) (2 * i) / headDim;
            invFreq[i] = 1f / (float) Math.pow(theta, exponent);
        }
        float[] cos = new float[Math.multiplyExact(positions, half)];
        float[] sin = new float[cos.length];
        for (int p = 0; p < positions; p++) {
            for (int i = 0; i < half; i++) {
                float angle = (float) p * invFreq[i];
                cos[p * half + i] = (float) Math.cos(angle);
                sin[p * half + i] = (float) Math.sin(angle);
            }
        }
        return new RotaryTable(headDim, positions, cos, sin);
    }

    public int headDim() {
        return headDim;
    }

    /** Positions the table holds: a sequence may be at most this long. */
    public int positions() {
        return positions;
    }

    /** cos of position p's angles at {@code cos()[p · headDim/2 + i]}; shared, not to be written. */
    public float[] cos() {
        return cos;
    }

    /** sin, laid out as {@link #cos()}; shared, not to be written. */
    public float[] sin() {
        return sin;
    }
}
