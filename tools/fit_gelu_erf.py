"""Fits the rational erf that VectorMath.geluInPlace uses, and checks GELU's error as the Java code computes it.

erf(u) ≈ u·P(u²)/Q(u²) on [0, 4], P of degree 5, Q of degree 5 with Q(0) = 1, by linearised least squares
(u·P − erf·Q' = erf, Q = 1 + Q') reweighted towards the largest errors for a near-minimax fit. Then GELU(x) =
x·(½ + u·(P/2)(s)/Q(s)), u = x/√2 clamped to 4, and −0 below x = −4√2, is evaluated in float32 in the Java
order (Horner by fused multiply-add) over the sweep of VectorMathTest, against 0.5·x·(1 + erf(x/√2)) in double.

    tools/.venv/bin/python tools/fit_gelu_erf.py      # prints the Java constants and the error per |x|
"""
import math

import numpy as np

P_TERMS, Q_TERMS, ITERATIONS, U_MAX = 6, 5, 100, 4.0
erf = np.vectorize(math.erf, otypes=[np.float64])


def fit():
    u = np.linspace(0, U_MAX, 20001)[1:]
    s, f = u * u, erf(u)
    weight = np.ones_like(u)
    for _ in range(ITERATIONS):
        a = np.hstack([u[:, None] * s[:, None] ** np.arange(P_TERMS)[None, :],
                       -f[:, None] * s[:, None] ** np.arange(1, Q_TERMS + 1)[None, :]])
        sol, *_ = np.linalg.lstsq(a * weight[:, None], f * weight, rcond=None)
        p, q = sol[:P_TERMS], np.concatenate([[1.0], sol[P_TERMS:]])
        big_q = np.polyval(q[::-1], s)
        err = u * np.polyval(p[::-1], s) / big_q - f
        weight = np.maximum(weight * np.abs(err) ** 0.3 / np.abs(big_q), 0)
        weight = np.maximum(weight / weight.max(), 1e-3)
    return p, q, np.abs(err).max()


def fma32(a, b, c):
    # float32 products are exact in double, so this rounds once, as a fused multiply-add does (up to a double rounding)
    return (a.astype(np.float64) * b + c).astype(np.float32)


def gelu32(p_half, q, x):
    low = np.float32(-4 * math.sqrt(2))
    u = (x * np.float32(math.sqrt(0.5))).astype(np.float32)
    u = np.where(u > np.float32(U_MAX), np.float32(U_MAX), u).astype(np.float32)
    s = (u * u).astype(np.float32)
    big_p = np.full_like(s, p_half[-1])
    for c in p_half[-2::-1]:
        big_p = fma32(big_p, s, c)
    big_q = np.full_like(s, q[-1])
    for c in q[-2::-1]:
        big_q = fma32(big_q, s, c)
    with np.errstate(invalid="ignore"):  # −∞: ∞/∞, replaced by −0 below
        phi = (((u * big_p).astype(np.float32) / big_q).astype(np.float32) + np.float32(0.5)).astype(np.float32)
    return np.where(x < low, np.float32(-0.0), (x * phi).astype(np.float32))


def main():
    p, q, erf_error = fit()
    p_half, q = (p * 0.5).astype(np.float32), q.astype(np.float32)
    s = np.linspace(0, U_MAX * U_MAX, 10001)
    assert np.polyval(q[::-1].astype(np.float64), s).min() >= 1, "Q has a zero on [0, 16]"
    rng = np.random.default_rng(7)
    bits = rng.integers(0, 2 ** 32, 400_000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    x = np.concatenate([(np.float32(-8) + np.arange(160_001, dtype=np.float32) * np.float32(1e-4)).astype(np.float32),
                        np.linspace(-16, 16, 400_001).astype(np.float32), bits[np.isfinite(bits)]])
    with np.errstate(all="ignore"):
        ref = 0.5 * x.astype(np.float64) * (1 + erf(x.astype(np.float64) / math.sqrt(2)))
        per_x = np.abs(gelu32(p_half, q, x) - ref) / np.maximum(np.abs(x), 1e-38)
    print("    private static final float " + ", ".join(f"ERF_P{i} = {c:.9e}f" for i, c in enumerate(p_half)) + ";")
    print("    private static final float " + ", ".join(f"ERF_Q{i} = {c:.9e}f" for i, c in enumerate(q) if i > 0) + ";")
    print(f"erf: max absolute error {erf_error:.2e} on [0, {U_MAX}]")
    print(f"GELU in float32: max |error|/|x| {per_x.max():.2e} at x = {x[per_x.argmax()]:g} ({x.size} points)")
    print("GELU(-inf, inf, nan) =", gelu32(p_half, q, np.array([-np.inf, np.inf, np.nan], dtype=np.float32)))


if __name__ == "__main__":
    main()
