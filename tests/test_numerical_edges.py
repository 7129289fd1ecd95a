"""Numerical edges: kernels, bounds and worst cases against high-precision references.

Every reference is computed with mpmath from the *exact* float inputs (50 digits unless said
otherwise), so a failure is ntklib's rounding, not the test's.  Each tolerance is stated where it is
used, as a number of units of roundoff ``EPS`` (2.2e-16) times the condition number of the
quantity at that input: the error that a few roundings of the inputs and of each elementary
operation would cause anyway.  Condition numbers are computed in mpmath, componentwise (relative
perturbations of each input coordinate).
"""

from __future__ import annotations

import itertools
import math

import mpmath as mp
import numpy as np
import pytest

import ntklib
from ntklib import bounds, kernels, network
from ntklib import worst_case as wc

EPS = float(np.finfo(float).eps)
TINY = float(np.finfo(float).tiny)      # smallest normal number
HUGE = float(np.finfo(float).max)
mp.mp.dps = 50


def mpv(x) -> list:
    return [mp.mpf(float(v)) for v in np.ravel(x)]


def mnorm(a: list):
    return mp.sqrt(mp.fsum(v * v for v in a))


def geometry(x, xp) -> dict:
    """Exact geometry of two float vectors: norms, dot, cosine, delta = pi - angle, condition numbers."""
    a, b = mpv(x), mpv(xp)
    na, nb = mnorm(a), mnorm(b)
    G = mp.fsum(p * q for p, q in zip(a, b))
    out = {"na": na, "nb": nb, "G": G}
    if na == 0 or nb == 0:
        return {**out, "delta": None}
    u, w = [v / na for v in a], [v / nb for v in b]
    c = mp.fsum(p * q for p, q in zip(u, w))
    delta = 2 * mp.atan2(mnorm([p + q for p, q in zip(u, w)]), mnorm([p - q for p, q in zip(u, w)]))
    sin_t = mp.sin(delta)
    # kappa_delta: sum_i |x_i d(delta)/dx_i| (and for x') over delta, with
    # d(delta)/dx = (u' - c u) / (|x| sin theta)
    if delta == 0:
        k_delta = mp.inf
    elif sin_t < mp.mpf(10) ** -40:            # exactly parallel: the limit of the same formula
        k_delta = mp.mpf(1)
    else:
        num = mp.fsum(abs(ai * (wi - c * ui)) for ai, ui, wi in zip(a, u, w)) / na
        num += mp.fsum(abs(bi * (ui - c * wi)) for bi, ui, wi in zip(b, u, w)) / nb
        k_delta = num / (sin_t * delta)
    k_G = mp.fsum(abs(p * q) for p, q in zip(a, b)) / abs(G) if G != 0 else mp.inf
    return {**out, "c": c, "delta": delta, "k_delta": k_delta, "k_G": k_G}


SUBNORMAL_ULP = 5e-324


def rel_err(got: float, ref) -> float:
    """Relative error; below the normal range the absolute spacing of subnormals (5e-324) is free."""
    err = abs(mp.mpf(float(got)) - ref)
    if abs(ref) < TINY:
        err = max(mp.mpf(0), err - SUBNORMAL_ULP)
        return 0.0 if err == 0 else float(err / abs(ref)) if ref else math.inf
    return float(err / abs(ref))


# ---------------------------------------------------------------------------------------------
# ReLU limit kernels
# ---------------------------------------------------------------------------------------------

T_EDGES = [1.0, -1.0, 0.0, -0.0, 5e-324, -5e-324, np.nextafter(1.0, 0.0), np.nextafter(-1.0, 0.0)]
T_EDGES += [s * (1.0 - 10.0**-k) for k in range(1, 17) for s in (1.0, -1.0)]
T_EDGES += list(np.linspace(-1.0, 1.0, 401))


def test_relu_ntk_unit_at_and_near_the_ends() -> None:
    t = np.array(T_EDGES)
    got = ntklib.relu_ntk_unit(t)
    assert got.shape == t.shape and np.all(np.isfinite(got))
    assert got[0] == 0.5 and got[1] == 0.0                       # t = 1: 1/2;  t = -1: 0
    worst = 0.0
    for ti, gi in zip(t, got):
        ref = mp.mpf(float(ti)) * mp.acos(-mp.mpf(float(ti))) / (2 * mp.pi)
        assert np.sign(gi) == np.sign(float(ti)) or gi == 0.0
        if ref != 0:
            worst = max(worst, rel_err(gi, ref))
    # t is exact, and t * arccos(-t) / (2 pi) is a product of a correctly rounded constant, one libm
    # arccos (<= 1 ulp) and two roundings: 4 ulps.  (The old pi - arccos(t) lost up to 2e6 ulps
    # near t = -1, where pi - arccos(t) ~ sqrt(2(1 + t)) cancels.)
    assert worst <= 4 * EPS, worst / EPS


def _pairs() -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Input pairs where the formulas are fragile."""
    g = np.random.default_rng(7)
    out = []
    e1 = np.array([1.0, 0.0])
    for k in range(1, 17):
        out.append((f"e1,(-1,1e-{k})", e1, np.array([-1.0, 10.0**-k])))       # near-antipodal, exact entries
        out.append((f"e1,(1,1e-{k})", e1, np.array([1.0, 10.0**-k])))         # near-parallel
    for k in (2, 6, 10, 14, 16):
        x = g.standard_normal(5)
        p = g.standard_normal(5)
        out.append((f"x,-x+1e-{k}p", x, -x + 10.0**-k * p))
        out.append((f"x,x+1e-{k}p", x, x + 10.0**-k * p))
    x = g.standard_normal(4)
    out += [("x,-x", x, -x), ("x,-3x", x, -3.0 * x), ("x,x", x, x.copy()), ("x,2.5x", x, 2.5 * x)]
    y = g.standard_normal(4)
    for sa, sb in [(1e-150, 1e-150), (1e150, 1e150), (1e-150, 1e150), (1e-300, 1e300), (1e300, 1e-300),
                   (1e-200, 1.0), (5e-324, 1.0)]:
        out.append((f"norms {sa:g},{sb:g}", sa * x / np.abs(x).max(), sb * y / np.abs(y).max()))
        out.append((f"antipodal {sa:g},{sb:g}", sa * x / np.abs(x).max(), -sb * x / np.abs(x).max()))
    out.append(("orthogonal", np.array([1.0, 1.0, 0.0]), np.array([1.0, -1.0, 3.0])))
    return out


PAIRS = _pairs()


@pytest.mark.parametrize(("label", "x", "xp"), PAIRS, ids=[p[0] for p in PAIRS])
def test_relu_limit_kernels_against_mpmath(label: str, x: np.ndarray, xp: np.ndarray) -> None:
    geo = geometry(x, xp)
    k = ntklib.ntk_limit(x[None], xp[None], activation="relu")[0, 0]
    kappa = ntklib.relu_nngp(x[None], xp[None])[0, 0]
    assert np.isfinite(k) and np.isfinite(kappa)
    assert kappa >= 0.0                                  # a second moment E[relu relu] >= 0
    abs_dot = mp.fsum(abs(p * q) for p, q in zip(mpv(x), mpv(xp)))
    if abs(geo["G"]) > 16 * EPS * abs_dot:               # the sign of x.x' is resolved by the rounding
        assert k == 0.0 or np.sign(k) == np.sign(float(geo["G"]))
    delta = geo["delta"]
    if delta == 0:                                       # exactly antipodal: both kernels are exactly 0
        assert k == 0.0 and kappa == 0.0
        return
    k_ref = geo["G"] * delta / (2 * mp.pi)
    kappa_ref = geo["na"] * geo["nb"] / (2 * mp.pi) * (mp.sin(delta) - delta * mp.cos(delta))
    # ntk: k = x.x' (pi - theta) / (2 pi).  Its condition number is kappa_G + kappa_delta (dot product
    # and angle); every step (power-of-two scaling, norms, normalization, the two half-angle norms,
    # atan2, the final products) adds a few roundings of relative inputs, so the error is below
    # 16 EPS (|k| (1 + kappa_delta) + |k| kappa_G), with |k| kappa_G = sum_i |x_i x'_i| delta / (2 pi)
    # (finite also when x.x' = 0; d <= 5 here, and a dot of length d has error <= d EPS kappa_G).
    allow = 16 * EPS * (abs(k_ref) * (1 + geo["k_delta"]) + abs_dot * delta / (2 * mp.pi))
    assert abs(mp.mpf(float(k)) - k_ref) <= allow + SUBNORMAL_ULP, (label, rel_err(k, k_ref) / EPS)
    # nngp: h(delta) = sin(delta) - delta cos(delta) has d log h / d log delta = delta^2 sin(delta) / h
    # (3 for small delta), so the condition number is 1 + that * kappa_delta; same 16 EPS allowance.
    h = mp.sin(delta) - delta * mp.cos(delta)
    cond_n = 1 + delta**2 * mp.sin(delta) / h * geo["k_delta"]
    assert rel_err(kappa, kappa_ref) <= 16 * EPS * float(cond_n), (label, rel_err(kappa, kappa_ref) / EPS)


def test_relu_kernels_zero_inputs_and_symmetry() -> None:
    # The docstring promises k = 0 if either input is 0; the same holds for the NNGP (norm factor 0).
    X = np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 0.5], [-1.0, 2.0, -0.5], [1e-150, 0.0, 0.0], [1e150, 1e150, 0.0]])
    K = ntklib.ntk_limit(X, activation="relu")
    N = ntklib.relu_nngp(X)
    for M in (K, N):
        assert np.all(np.isfinite(M))
        assert np.all(M[0] == 0.0) and np.all(M[:, 0] == 0.0)
        np.testing.assert_array_equal(M, M.T)                          # exactly symmetric
        assert M[1, 2] == 0.0                                          # antipodal
    assert np.all(N >= 0.0)
    # diagonal: k(x, x) = |x|^2 / 2 = kappa(x, x); relative error a few ulps of the norm
    n2 = np.array([float(mnorm(mpv(r)) ** 2) for r in X])
    np.testing.assert_allclose(np.diag(K), n2 / 2, rtol=8 * EPS)
    np.testing.assert_allclose(np.diag(N), n2 / 2, rtol=8 * EPS)


def test_supplementary_angles_lie_in_range() -> None:
    g = np.random.default_rng(3)
    U = g.standard_normal((200, 3))
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    U = np.vstack([U, -U[:20], U[:20] * (1 + EPS), np.zeros((1, 3))])
    D = kernels._supplements(U, U)
    assert np.all((D >= 0.0) & (D <= np.pi))
    assert np.all(D[np.arange(200), np.arange(200)] == np.pi)             # identical directions


def test_norms_do_not_overflow_or_underflow() -> None:
    rows = np.array([[5e-324, 0.0], [3e-300, 4e-300], [3e300, -4e300], [HUGE, HUGE], [0.0, 0.0], [1e-320, 7e-321]])
    U, r, e = kernels._polar(rows)
    assert np.all(np.isfinite(U)) and np.all(np.isfinite(r))
    assert np.all(U[-2] == 0.0) and r[-2] == 0.0
    for i, row in enumerate(rows):
        ref = mnorm(mpv(row))
        if ref == 0:
            continue
        # the power-of-two scaling is exact: only the norm's sqrt of a sum of d squares is rounded
        assert abs(mp.ldexp(mp.mpf(float(r[i])), int(e[i])) - ref) <= 4 * EPS * ref
        np.testing.assert_allclose(np.linalg.norm(U[i]), 1.0, rtol=4 * EPS)
    # and the ReLU kernel between the largest finite row and a tiny one is finite and accurate
    k = ntklib.ntk_limit(rows[3:4], np.array([[1e-300, 0.0]]), activation="relu")[0, 0]
    assert k == pytest.approx(HUGE * 1e-300 * (3 / 8), rel=16 * EPS)     # angle pi/4: (pi - pi/4) / (2 pi)


# ---------------------------------------------------------------------------------------------
# Smooth activations: the quadrature path against mpmath.quad of the defining expectation
# ---------------------------------------------------------------------------------------------

def _mp_d1(name: str):
    def tanh_d1(z):
        return 1 / mp.cosh(z) ** 2

    def sigmoid_d1(z):
        e = mp.exp(-abs(z))
        return e / (1 + e) ** 2

    return {
        "tanh": tanh_d1,
        "sigmoid": sigmoid_d1,
        "softplus": lambda z: 1 / (1 + mp.exp(-z)),
        "erf": lambda z: 2 / mp.sqrt(mp.pi) * mp.exp(-z * z),
    }[name]


def _mp_d2(name: str):
    return {
        "tanh": lambda z: -2 * mp.tanh(z) / mp.cosh(z) ** 2,
        "softplus": lambda z: mp.exp(-abs(z)) / (1 + mp.exp(-abs(z))) ** 2,
        "sigmoid": lambda z: -mp.tanh(z / 2) * mp.exp(-abs(z)) / (1 + mp.exp(-abs(z))) ** 2,
        "erf": lambda z: -4 / mp.sqrt(mp.pi) * z * mp.exp(-z * z),
    }[name]


def _expect_2d(f, g, n1, n2, c, even: bool):
    """E[f(u) g(v)], sd(u) = n1, sd(v) = n2, corr c, by nested mpmath.quad (Gauss-Legendre, 30 digits).

    Truncated at |z| <= 9: the dropped mass is at most 2 max|f g| P(|Z| > 9) < 5e-19; the quadrature's
    own error estimate is returned and checked by the caller.  ``even``: f and g even, so the
    integrand is symmetric under (z1, z2) -> (-z1, -z2) and half the plane suffices.
    """
    with mp.workdps(30):
        s = mp.sqrt(1 - c * c)
        pts = [-9, -3, 0, 3, 9]
        errs = []

        def inner(z1):
            val, err = mp.quad(lambda z2: g(n2 * (c * z1 + s * z2)) * mp.exp(-z2 * z2 / 2), pts,
                               method="gauss-legendre", maxdegree=5, error=True)
            errs.append(err)
            return val

        outer = lambda z1: f(n1 * z1) * mp.exp(-z1 * z1 / 2) * inner(z1)   # noqa: E731
        val, err = mp.quad(outer, [0, 3, 9] if even else pts, method="gauss-legendre", maxdegree=4, error=True)
        val = (2 * val if even else val) / (2 * mp.pi)
        return val, err + max(errs) * 6


def _expect_1d(f, g, n1, n2):
    """E[f(n1 Z) g(n2 Z)] for Z ~ N(0, 1) by mpmath.quad (tanh-sinh, 30 digits)."""
    with mp.workdps(30):
        val = mp.quad(lambda z: f(n1 * z) * g(n2 * z) * mp.exp(-z * z / 2), [-mp.inf, 0, mp.inf])
        return val / mp.sqrt(2 * mp.pi)


# Documented accuracy of ntk_limit's quadrature at the default order for norms up to 3.
QUAD_RTOL = 1e-12


@pytest.mark.parametrize(("name", "n1", "n2", "c", "even"), [
    ("tanh", 0.8, 1.3, 0.3, True),
    ("sigmoid", 1.7, 0.5, -0.6, True),
])
def test_smooth_limit_against_2d_quadrature(name: str, n1: float, n2: float, c: float, even: bool) -> None:
    x = np.array([n1, 0.0])
    xp = n2 * np.array([c, math.sqrt(1 - c * c)])
    geo = geometry(x, xp)
    ref_E, err = _expect_2d(_mp_d1(name), _mp_d1(name), geo["na"], geo["nb"], geo["c"], even)
    assert err < 1e-17                          # the reference is 1e5 times below the tolerance
    got = ntklib.ntk_limit(x[None], xp[None], activation=name)[0, 0]
    # relative error: the quadrature's 1e-12 plus the rounding of x.x' (condition number kappa_G)
    assert rel_err(got, geo["G"] * ref_E) <= QUAD_RTOL + 8 * EPS * float(geo["k_G"])


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "softplus", "erf"])
def test_smooth_limit_parallel_antipodal_and_near(name: str) -> None:
    """c = +-1 exactly (a 1-D expectation), and 1 - |c| ~ 1e-10 (first-order Price expansion)."""
    f, f2 = _mp_d1(name), _mp_d2(name)
    g = np.random.default_rng(11)
    x = g.standard_normal(3)
    x *= 0.9 / np.linalg.norm(x)
    p = g.standard_normal(3)
    cases = [2.0 * x, -1.5 * x, x + 1e-5 * p, -2.0 * x + 1e-5 * p]
    X = np.array([x])
    K = ntklib.ntk_limit(X, np.array(cases), activation=name)[0]
    assert np.all(np.isfinite(K))
    for xp, got in zip(cases, K):
        geo = geometry(x, xp)
        na, nb, c = geo["na"], geo["nb"], geo["c"]
        sgn = 1 if c > 0 else -1
        # Price's theorem: dE[f(u) f(v)] / d cov(u, v) = E[f'(u) f'(v)], so with f = sigma' and
        # cov = na nb c, E(c) = E(sgn) + na nb (c - sgn) E[sigma''(u) sigma''(v)] at c = sgn, plus R with
        # |R| <= (na nb (c - sgn))^2 sup|sigma'''|^2 / 2 < 1e-17 here (na nb < 2, |c - sgn| < 1e-9,
        # sup|sigma'''| <= 2), far below the tolerance.
        assert abs(c - sgn) < mp.mpf(1e-9)
        E0 = _expect_1d(f, f, na, sgn * nb)
        E1 = _expect_1d(f2, f2, na, sgn * nb) if c != sgn else 0
        ref = geo["G"] * (E0 + na * nb * (c - sgn) * E1)
        assert rel_err(got, ref) <= QUAD_RTOL, (name, rel_err(got, ref))


def test_smooth_limit_tiny_norms_and_refused_huge_norms() -> None:
    # sigma'(w.x) -> sigma'(0) as |x| -> 0: k = x.x' sigma'(0)^2 to the quadrature's accuracy
    x, xp = np.array([[3e-200, 4e-200]]), np.array([[-1e-150, 2e-150]])
    for name, d0 in [("tanh", 1.0), ("sigmoid", 0.25), ("softplus", 0.5), ("erf", 2 / np.sqrt(np.pi))]:
        got = ntklib.ntk_limit(x, xp, activation=name)[0, 0]
        ref = geometry(x[0], xp[0])["G"] * mp.mpf(d0) ** 2
        assert rel_err(got, ref) <= QUAD_RTOL
    # norms needing more than MAX_QUAD_NODES nodes are refused with a ValueError naming the argument
    for big in (10.0, 1e150, HUGE):
        with pytest.raises(ValueError, match="Xp: a row of norm"):
            ntklib.ntk_limit(np.ones((1, 2)), np.array([[big, 0.0]]), activation="tanh")
    with pytest.raises(ValueError, match="X: a row of norm"):
        ntklib.ntk_limit(np.array([[1e300, 1e300]]), activation="erf")


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "softplus", "erf"])
def test_activation_derivatives_in_the_tails(name: str) -> None:
    act = ntklib.get_activation(name)
    z = np.array([-700.0, -300.0, -40.0, -20.0, -3.0, -1e-8, 0.0, 1e-300, 1e-8, 0.5, 3.0, 20.0, 40.0, 300.0, 700.0])
    for fn, ref_fn in [(act.d1, _mp_d1(name)), (act.d2, _mp_d2(name))]:
        got = fn(z)
        assert np.all(np.isfinite(got))
        for zi, gi in zip(z, got):
            ref = ref_fn(mp.mpf(float(zi)))
            if abs(ref) < TINY:                              # the value underflows: 0 or subnormal is right
                assert abs(gi) <= 2 * TINY
                continue
            # relative condition number of sigma'(z), sigma''(z) is at most 2 z^2 + 2|z| + 2 (erf: z^2,
            # tanh/sigmoid: |z|); the formulas avoid the cancelling 1 - tanh^2 and 1 - s, so the error
            # is a few ulps times that.
            cond = 2 * zi * zi + 2 * abs(zi) + 2
            assert rel_err(gi, ref) <= 4 * EPS * cond, (name, zi, rel_err(gi, ref) / EPS)


# ---------------------------------------------------------------------------------------------
# Empirical Gram: explicit Jacobian product, tiny widths, chunk and draw-block boundaries
# ---------------------------------------------------------------------------------------------

def _explicit(X, Xp, W, name):
    """J J'^T for the NTK-scaled network (alpha = sqrt(m), a_j^2 = 1), from Jacobians built here
    entry by entry, and the sum of the absolute values of the m d products in each entry."""
    act = ntklib.get_activation(name)
    m = W.shape[0]
    S, Sp = act.d1(X @ W.T), act.d1(Xp @ W.T)
    J = (S[:, :, None] * X[:, None, :]).reshape(X.shape[0], -1) / np.sqrt(m)
    Jp = (Sp[:, :, None] * Xp[:, None, :]).reshape(Xp.shape[0], -1) / np.sqrt(m)
    return J @ Jp.T, (np.abs(X) @ np.abs(Xp).T) * (np.abs(S) @ np.abs(Sp).T) / m


def _gamma(n: int) -> float:
    return n * EPS / (1 - n * EPS)


@pytest.mark.parametrize("name", ["relu", "tanh", "softplus"])
@pytest.mark.parametrize("m", [1, 2, 3])
def test_gram_tiny_widths_against_explicit_jacobian(name: str, m: int) -> None:
    g = np.random.default_rng(m)
    X, Xp, W = g.standard_normal((4, 3)), g.standard_normal((2, 3)), g.standard_normal((m, 3))
    for A, B in [(X, None), (X, Xp)]:
        K = ntklib.ntk_gram(A, B, W=W, activation=name)
        ref, T = _explicit(A, A if B is None else B, W, name)
        assert K.shape == ref.shape
        # both sides sum the same m d products in different orders (and scale by 1/m or by
        # (1/sqrt(m))^2): |difference| <= 2 gamma_{md + d + 6} sum |products| (recursive summation bound)
        assert np.all(np.abs(K - ref) <= 2 * _gamma(m * 3 + 3 + 6) * T)


def test_relu_float32_counts_equal_float64_exactly(monkeypatch) -> None:
    g = np.random.default_rng(5)
    X, Xp = g.standard_normal((5, 3)), g.standard_normal((3, 3))
    assert kernels._derivatives(ntklib.get_activation("relu"), X, Xp).dtype == np.float32
    n = 5
    for step in (4, 7):                                   # chunk of `step` units: GRAM_CHUNK_ELEMENTS = n step
        monkeypatch.setattr(kernels, "GRAM_CHUNK_ELEMENTS", n * step)
        monkeypatch.setattr(kernels, "FORM_BLOCK", 2 * n)   # pre-activations two units at a time
        for m in (1, 2, step - 1, step, step + 1, 2 * step - 1, 2 * step, 2 * step + 1):
            W = g.standard_normal((m, 3))
            for A, B in [(X, X), (X, Xp)]:
                K = ntklib.ntk_gram(A, None if B is A else B, W=W, activation="relu")
                S, Sp = (A @ W.T > 0).astype(np.float64), (B @ W.T > 0).astype(np.float64)
                # counts are integers: the float64 product is exact, so the result must be identical
                np.testing.assert_array_equal(K, (A @ B.T) * (S @ Sp.T) / m)


def test_relu_counts_exact_at_the_real_chunk_size() -> None:
    # n = 1: a chunk holds GRAM_CHUNK_ELEMENTS = 2^24 units; float32 represents every count up to 2^24
    m = kernels.GRAM_CHUNK_ELEMENTS + 1
    x = np.array([[0.6, -0.8]])
    W = np.random.default_rng(9).standard_normal((m, 2))
    active = int(np.count_nonzero(W @ x[0] > 0))
    assert ntklib.ntk_gram(x, W=W, activation="relu")[0, 0] == 1.0 * active / m


@pytest.mark.parametrize("name", ["relu", "tanh"])
def test_gram_at_chunk_and_draw_block_boundaries(monkeypatch, name: str) -> None:
    X = ntklib.sphere(4, 3, ntklib.rng("edges-x"))
    unpatched = {}
    for m in (7, 8, 9, 15, 16, 17):
        W = ntklib.rng(f"edges-w-{m}").standard_normal((m, 3))
        unpatched[m] = (W, ntklib.ntk_gram(X, W=W, activation=name))
    monkeypatch.setattr(kernels, "GRAM_CHUNK_ELEMENTS", 4 * 5)     # chunks of 5 units
    monkeypatch.setattr(kernels, "FORM_BLOCK", 4 * 3)              # pre-activations 3 units at a time
    monkeypatch.setattr(kernels, "DRAW_BLOCK", 8)                   # blocks of 8 rows
    for m, (W, K0) in unpatched.items():
        K_chunked = ntklib.ntk_gram(X, W=W, activation=name)
        K_init = ntklib.ntk_gram_at_init(X, m=m, activation=name, rng=ntklib.rng(f"edges-w-{m}"))
        ref, T = _explicit(X, X, W, name)
        if name == "relu":           # integer counts: chunking and blocking change nothing
            np.testing.assert_array_equal(K_chunked, K0)
            np.testing.assert_array_equal(K_init, K0)
        for K in (K_chunked, K_init):
            assert np.all(np.abs(K - ref) <= 2 * _gamma(m * 3 + 3 + 6) * T)   # as in the tiny-width test
            np.testing.assert_array_equal(K, K.T)


# ---------------------------------------------------------------------------------------------
# Bounds against their formulas in mpmath
# ---------------------------------------------------------------------------------------------

def _normal(v) -> bool:
    return v == 0 or TINY <= abs(v) <= HUGE


WIDTHS = [1, 2, 64, 10**6, 2**53, 1e300]
RADII = [0.0, 1e-300, 1e-150, 1e-8, 0.5, 1.0, 3.0, 1e8, 1e150]
DELTAS = [5e-324, 1e-300, 1e-10, 0.05, 0.5, 1 - 1e-10, float(np.nextafter(1.0, 0.0))]


def test_lemma7_against_mpmath() -> None:
    checked = 0
    for (fn, c1, c2), B, m, d in itertools.product(
        [(bounds.lemma7_taylor, 2, 1), (bounds.lemma7_linearization, 6, 2)], RADII + [1e240, 1e300], WIDTHS, DELTAS
    ):
        Bm, mm, dm = mp.mpf(B), mp.mpf(m), mp.mpf(d)
        ref = (c1 * Bm ** (mp.mpf(4) / 3) + c2 * Bm * mp.log(1 / dm) ** (mp.mpf(1) / 4)) / mm ** (mp.mpf(1) / 6)
        if ref > HUGE:                                 # not representable: refused, never inf
            with pytest.raises(ValueError, match="B, m: the bound"):
                fn(B, m, d)
            continue
        got = fn(B, m, d)
        assert np.isfinite(got) and got >= 0
        if ref < TINY:
            continue                                   # the bound underflows: 0 or subnormal is right
        # B (c1 cbrt(B) + c2 log(1/delta)^(1/4)) / m^(1/6), B's binary exponent applied last (so also
        # where B^(4/3) alone overflows, B = 1e240 at m = 1e300): a few correctly rounded operations
        # (cbrt, sqrt, log, pow(., 1/4) of exact inputs): 8 ulps.  (Before: 1/delta rounded, 3e-7
        # relative at delta = 1 - 1e-10 and inf at delta = 5e-324; exponents 4.0/3.0 and 1.0/6.0
        # rounded, 115 ulps at B = 1e150.)
        assert rel_err(got, ref) <= 8 * EPS if ref else got == 0.0, (B, m, d, rel_err(got, ref) / EPS)
        checked += 1
    assert checked >= 500


def test_lemma5_against_mpmath_and_never_nan() -> None:
    checked = 0
    for L, B, m, xn in itertools.product([0.0, 1e-3, 0.77, 3.0], RADII + [1e160, 1e300], WIDTHS, [0.0, 1e-100, 1.0, 1e100]):
        ref = mp.mpf(L) * mp.mpf(xn) ** 2 * mp.mpf(B) ** 2 / (2 * mp.sqrt(mp.mpf(m)))
        if ref > HUGE:                            # not representable: refused, never inf
            with pytest.raises(ValueError, match="exceeds the float range"):
                bounds.lemma5(L, B, m, x_norm=xn)
            continue
        got = bounds.lemma5(L, B, m, x_norm=xn)
        assert np.isfinite(got) and got >= 0, (L, B, m, xn)
        if ref == 0:
            assert got == 0.0                     # a zero factor gives 0, never 0 * inf
            continue
        if ref >= TINY:
            # r = |x| B / m^(1/4) from mantissas, then (L r) r / 2: two sqrt, four roundings: 6 ulps,
            # allowance 8, also where |x| B or B^2 alone leaves the float range
            assert rel_err(got, ref) <= 8 * EPS, (L, B, m, xn, rel_err(got, ref) / EPS)
            checked += 1
    assert checked >= 250


SIGMAS = [1e-150, 1e-100, 1e-3, 0.5, 1.0, 7.0, 1e100, 1e150]


def test_theorem12_against_mpmath_and_never_nan() -> None:
    checked = 0
    for smin, smax in itertools.product(SIGMAS, SIGMAS):
        if smax < smin:
            continue
        for L, R0 in itertools.product([0.0, 1e-8, 1.0, 1e8], [0.0, 1e-200, 1e-3, 2.0, 1e200]):
            a_ref = mp.mpf(L) * mp.sqrt(1152 * mp.mpf(smax) ** 2 * mp.mpf(R0)) / mp.mpf(smin) ** 3
            d_ref = 3 * mp.sqrt(8 * mp.mpf(smax) ** 2 * mp.mpf(R0)) / (mp.mpf(L + 1.0) * mp.mpf(smin) ** 2)
            calls = [lambda: bounds.theorem12_alpha_threshold(L, smin, smax, R0),
                     lambda: bounds.theorem12_displacement(L + 1.0, smin, smax, R0)]
            for call, ref in zip(calls, [a_ref, d_ref]):
                if ref > HUGE:                        # not representable: refused, never inf
                    with pytest.raises(ValueError, match="exceeds the float range"):
                        call()
                    continue
                got = call()
                assert np.isfinite(got) and got >= 0
                if ref == 0:
                    assert got == 0.0
                elif ref >= TINY:
                    # sqrt and a few products/quotients of mantissas, each rounded once, exponents added
                    # exactly: 8 ulps (no intermediate leaves the range, see bounds.py)
                    assert rel_err(got, ref) <= 8 * EPS, (L, smin, smax, R0, rel_err(got, ref) / EPS)
                    checked += 1
    # the overflow of the ratio smax / smin alone, where the bound is representable
    ref = 3 * mp.sqrt(8 * mp.mpf(1e50)) * mp.mpf(1e100) / (mp.mpf(1e200) * mp.mpf(1e-120) ** 2)
    assert rel_err(bounds.theorem12_displacement(1e200, 1e-120, 1e100, 1e50), ref) <= 8 * EPS
    assert checked >= 700


def test_theorem12_risk_against_mpmath_and_never_nan() -> None:
    t = np.array([0.0, 5e-324, 1e-300, 1e-8, 0.5, 3.0, 1e8, 1e300])
    for alpha, smin, R0 in itertools.product([1e-200, 1e-3, 1.0, 1e3, 1e200], [1e-200, 0.1, 1.0, 1e200], [0.0, 1.0, 1e300]):
        got = bounds.theorem12_risk(t, alpha, smin, R0)
        assert got.shape == t.shape and not np.any(np.isnan(got)) and np.all(got >= 0)
        assert got[0] == R0                                   # t = 0: exactly R0, whatever alpha sigma_min
        for ti, gi in zip(t, got):
            x = mp.mpf(ti) * (mp.mpf(alpha) * mp.mpf(smin)) ** 2 / 2
            ref = mp.mpf(R0) * mp.exp(-x)
            if ref < TINY:
                assert gi <= 2 * TINY or ref == 0 and gi == 0
                continue
            # exponent x with three roundings, exp's relative condition number x: 4 EPS (1 + x)
            assert rel_err(gi, ref) <= 4 * EPS * (1 + float(x)), (ti, alpha, smin, R0)


# ---------------------------------------------------------------------------------------------
# Worst cases: exact suprema against brute force; no NaN at extreme radii
# ---------------------------------------------------------------------------------------------

def _brute_sup(c: np.ndarray, B: float):
    """max over all subsets S of (B sqrt|S| - sum_S c) and 0, in mpmath (2^K subsets)."""
    best = mp.mpf(0)
    cm = mpv(c)
    for r in range(1, len(c) + 1):
        for S in itertools.combinations(range(len(c)), r):
            best = max(best, mp.mpf(B) * mp.sqrt(r) - mp.fsum(cm[i] for i in S))
    return best


def test_taylor_sup_against_subset_enumeration() -> None:
    g = np.random.default_rng(21)
    for K in (1, 2, 5, 9):
        for B in (0.0, 1e-300, 1e-3, 0.4, 1.0, 3.0, 1e150):
            for kind in ("random", "ties", "zeros"):
                c = np.sort(np.abs(g.standard_normal(K)))
                if kind == "ties":
                    c[:] = c[0]
                elif kind == "zeros":
                    c[: K // 2 + 1] = 0.0
                value, k = wc.taylor_sup(c, B)
                ref = _brute_sup(c, B)
                # the maximizer B sqrt(k) - sum c has 2 + k roundings relative to B sqrt(k) + sum c
                allow = 2 * _gamma(K + 3) * (B * np.sqrt(max(k, 1)) + c.sum())
                assert abs(mp.mpf(value) - ref) <= allow, (K, B, kind, value, ref)
                assert 0 <= k <= K and (value == 0.0) == (k == 0)


def _relu_remainder(z, a, t):
    """(1/sqrt m) sum_j a_j (relu(z_j + t_j) - relu(z_j) - 1[z_j > 0] t_j), broadcasting over t's rows."""
    r = np.maximum(z + t, 0.0) - np.maximum(z, 0.0) - (z > 0) * t
    return np.abs(r @ a) / np.sqrt(z.size)


@pytest.mark.parametrize("seed", range(4))
def test_taylor_worst_case_against_brute_force(seed: int) -> None:
    g = np.random.default_rng(100 + seed)
    m = 3
    z = g.standard_normal(m)
    a = np.array([1.0, -1.0, 1.0]) if seed % 2 else np.ones(m)
    # exact: enumerate subsets within each output-sign class (the units moved across zero)
    for B in (0.1, 0.7, 2.0, 5.0):
        adv = wc.taylor_worst_case(z, a, B)
        ref = max(_brute_sup(np.sort(np.abs(z[a == s])), B) for s in (1.0, -1.0)) / mp.sqrt(m)
        assert abs(mp.mpf(adv.value) - ref) <= 4 * _gamma(m + 3) * (B * np.sqrt(m) + np.abs(z).sum())
        # attained by the returned movement, inside the ball
        assert np.linalg.norm(adv.t) <= B * (1 + 4 * EPS)
        assert _relu_remainder(z, a, adv.t) == pytest.approx(adv.value, rel=1e-12, abs=1e-300)
        # a grid over the sphere ||t|| = B (all sign patterns, both output signs) never exceeds it
        th, ph = np.meshgrid(np.linspace(0, np.pi, 181), np.linspace(0, 2 * np.pi, 361), indexing="ij")
        T = B * np.stack([np.sin(th) * np.cos(ph), np.sin(th) * np.sin(ph), np.cos(th)], axis=-1).reshape(-1, 3)
        grid = _relu_remainder(z, a, T).max()
        # the grid's own remainder relu(z + t) - relu(z) - t cancels: rounding noise of a few
        # EPS (|z| + |t|) per unit
        assert grid <= adv.value * (1 + 1e-12) + 4 * EPS * (np.abs(z).sum() + np.sqrt(m) * B)
        assert grid >= adv.value * 0.97                   # 1-degree grid: within a few percent


EXTREME_B = [0.0, 5e-324, 1e-300, 1e-150, 1e-8, 1.0, 1e8, 1e150, 1e300, HUGE]
# At B = HUGE the values B sqrt(k) overflow: a ValueError naming B; at B <= 1e300 all are finite.


def test_worst_cases_never_nan_at_extreme_radii() -> None:
    g = np.random.default_rng(31)
    m = 40
    z, a = g.standard_normal(m), np.where(g.random(m) < 0.5, -1.0, 1.0)
    for B in EXTREME_B:
        calls = [lambda: wc.taylor_worst_case(z, a, B).value, lambda: wc.linearization_adversary(z, a, B).value]
        calls += [lambda name=name: wc.smooth_adversary(z, a, B, name).value
                  for name in ("tanh", "sigmoid", "softplus", "erf", "identity")]
        calls += [lambda: list(np.concatenate(wc.sampled_worst_cases(m, B, 3, ntklib.rng("edges-sampled"))))]
        if B == HUGE:                                     # B sqrt(m) overflows: refused, never inf or NaN
            for call in calls[:3] + calls[-1:]:
                with pytest.raises(ValueError, match="B: the worst case"):
                    call()
            continue
        values = np.hstack([call() for call in calls])
        assert np.all(np.isfinite(values)) and np.all(values >= 0), B
        if B == 0.0:
            assert np.all(np.asarray(values) == 0.0)
        assert wc.taylor_sup(np.sort(np.abs(z)), B)[0] >= 0


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "softplus"])
def test_smooth_adversary_value_is_accurate_and_below_lemma5_at_tiny_radii(name: str) -> None:
    # At B = 1e-8 the difference sigma(z + t) - sigma(z) - sigma'(z) t is pure rounding noise (t^2 <
    # eps); ntklib uses the integral form of the remainder for |t| <= 1.  The value must match the
    # 50-digit remainder of the returned movement and stay below Lemma 5's bound.
    g = np.random.default_rng(41)
    m = 200
    z, a = g.standard_normal(m), np.where(g.random(m) < 0.5, -1.0, 1.0)
    sig = {"tanh": mp.tanh, "sigmoid": lambda u: 1 / (1 + mp.exp(-u)), "softplus": lambda u: mp.log(1 + mp.exp(u))}[name]
    d1 = _mp_d1(name)
    L = ntklib.get_activation(name).smoothness
    for B in (1e-12, 1e-8, 1e-3, 0.5):
        adv = wc.smooth_adversary(z, a, B, name)
        ref = abs(mp.fsum(aj * (sig(mp.mpf(zj) + mp.mpf(tj)) - sig(mp.mpf(zj)) - d1(mp.mpf(zj)) * mp.mpf(tj))
                          for zj, aj, tj in zip(z, a, adv.t) if tj != 0)) / mp.sqrt(m)
        # per unit: 12-point Gauss-Legendre on an integrand analytic in a strip of half-width >= pi/2
        # (error < 1e-16 t^2 max|sigma''|) plus a few roundings; the chosen terms all have one sign,
        # so the sum keeps that relative accuracy: 1e-13 leaves room for 200 terms.
        assert rel_err(adv.value, ref) <= 1e-13, (B, rel_err(adv.value, ref))
        assert adv.value <= bounds.lemma5(L, B, m) * (1 + 1e-12)


def test_relu_limit_kernels_near_antipodal_pairs_to_a_few_ulps() -> None:
    """The promise of ntk_limit's docstring, near antipodal pairs: relative error below 16 ulps times
    1 + kappa_G (the inner product's condition number), and below 16 ulps for the NNGP, where the
    half-angle formula on rounded unit vectors alone errs by about eps / (pi - theta)."""
    g = np.random.default_rng(17)
    worst = [0.0, 0.0]
    cases = [(np.array([1.0, 0.0]), np.array([-1.0, 1e-9]))]
    for _ in range(120):
        d = int(g.choice([2, 3, 5, 10, 30]))
        x = g.standard_normal(d) * 10.0 ** g.uniform(-150, 150)
        cases.append((x, -x * g.uniform(0.5, 2.0) + 10.0 ** -g.uniform(0.3, 16) * np.abs(x).max() * g.standard_normal(d)))
    x = g.standard_normal(4)
    cases.append((x, -x + 1e-9 * np.eye(4)[0]))                                  # the example in the docstring
    for x, xp in cases:
        geo = geometry(x, xp)
        if geo["delta"] == 0:
            continue
        k = ntklib.ntk_limit(x[None], xp[None], activation="relu")[0, 0]
        kappa = ntklib.relu_nngp(x[None], xp[None])[0, 0]
        k_ref = geo["G"] * geo["delta"] / (2 * mp.pi)
        h = mp.sin(geo["delta"]) - geo["delta"] * mp.cos(geo["delta"])
        kappa_ref = geo["na"] * geo["nb"] / (2 * mp.pi) * h
        worst[0] = max(worst[0], rel_err(k, k_ref) / (EPS * (1 + float(geo["k_G"]))))
        worst[1] = max(worst[1], rel_err(kappa, kappa_ref) / EPS)
    assert worst[0] <= 16 and worst[1] <= 16, worst


def test_antipodal_refinement_is_used_only_below_its_threshold() -> None:
    U = np.array([[1.0, 0.0], [0.0, 1.0]])
    delta = np.array([[kernels.ANTIPODAL, 0.1], [3.0, 1e-9]])
    out = kernels._antipodal(U, U, delta)
    assert out[0, 0] == kernels.ANTIPODAL and out[1, 0] == 3.0            # at or above: unchanged
    assert out[0, 1] == pytest.approx(np.pi / 2) and out[1, 1] == np.pi   # below: recomputed (pi - angle(u, -u'))
