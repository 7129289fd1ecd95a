"""Kernels: structure against the explicit Jacobian, closed forms against quadrature and Monte Carlo."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, special

import ntklib
from ntklib import kernels, network


@pytest.mark.parametrize("activation", ["relu", "tanh", "erf", "softplus"])
def test_structured_gram_equals_explicit_jacobian_product(rng, activation: str) -> None:
    net, W0 = ntklib.init_network(64, 5, rng, activation=activation)       # NTK scaling
    X, Xp = rng.standard_normal((7, 5)), rng.standard_normal((4, 5))
    J, Jp = net.jacobian(X, W0), net.jacobian(Xp, W0)
    np.testing.assert_allclose(ntklib.ntk_gram(X, W=W0, activation=activation), J @ J.T, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(ntklib.ntk_gram(X, Xp, W=W0, activation=activation), J @ Jp.T, rtol=1e-12, atol=1e-13)


def test_general_scale_gram(rng) -> None:
    net, W0 = ntklib.init_network(50, 3, rng, activation="tanh", scale="mean-field")
    X = rng.standard_normal((5, 3))
    J = net.jacobian(X, W0)
    np.testing.assert_allclose(J @ J.T, net.alpha**2 / net.m * ntklib.ntk_gram(X, W=W0, activation="tanh"), rtol=1e-12)


def test_gram_is_chunk_invariant_and_symmetric(rng, monkeypatch) -> None:
    X = rng.standard_normal((9, 4))
    W = rng.standard_normal((300, 4))
    K = ntklib.ntk_gram(X, W=W, activation="relu")
    np.testing.assert_array_equal(K, K.T)
    monkeypatch.setattr(kernels, "GRAM_CHUNK_ELEMENTS", 9 * 7)
    np.testing.assert_allclose(ntklib.ntk_gram(X, W=W, activation="relu"), K, rtol=1e-13)


def test_gram_at_init_draws_the_same_weights(monkeypatch) -> None:
    X = ntklib.sphere(6, 3, ntklib.rng("x"))
    monkeypatch.setattr(kernels, "DRAW_BLOCK", 128)        # several blocks, one partial
    K_init = ntklib.ntk_gram_at_init(X, m=1000, activation="tanh", rng=ntklib.rng("w"))
    W = ntklib.rng("w").standard_normal((1000, 3))          # the same stream, drawn at once
    np.testing.assert_allclose(K_init, ntklib.ntk_gram(X, W=W, activation="tanh"), rtol=1e-12)


def test_relu_closed_form_matches_both_forms_and_is_homogeneous(rng) -> None:
    t = np.linspace(-1, 1, 1001)
    np.testing.assert_allclose(ntklib.relu_ntk_unit(t), t / 4 + t * np.arcsin(t) / (2 * np.pi), atol=1e-15)
    X = rng.standard_normal((5, 4))
    U = X / np.linalg.norm(X, axis=1, keepdims=True)
    K_unit = ntklib.ntk_limit(U, activation="relu")
    np.testing.assert_allclose(K_unit, ntklib.relu_ntk_unit(np.clip(U @ U.T, -1, 1)), atol=1e-15)
    n = np.linalg.norm(X, axis=1)
    np.testing.assert_allclose(ntklib.ntk_limit(X, activation="relu"), K_unit * np.outer(n, n), rtol=1e-14)


def test_relu_closed_form_edge_cases() -> None:
    eps = 1e-9
    x = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 0.0], [1.0, eps], [-1.0, eps]])
    K = ntklib.ntk_limit(x, activation="relu")
    assert K[0, 0] == 0.5 and K[0, 1] == 0.0        # identical and antipodal unit vectors
    assert np.all(K[2] == 0.0) and np.all(K[:, 2] == 0.0)   # the zero input
    assert np.all(np.isfinite(K))
    # near-parallel and near-antipodal: theta = eps and pi - eps (to first order), exactly resolved
    t = 1 / np.sqrt(1 + eps**2)
    assert K[0, 3] == pytest.approx(t * (np.pi - eps) / (2 * np.pi), rel=1e-14)
    assert K[0, 4] == pytest.approx(-t * eps / (2 * np.pi), rel=1e-6)
    with pytest.raises(ValueError, match="t: expected"):
        ntklib.relu_ntk_unit(np.array([1.0 + 1e-12]))


def test_relu_closed_form_against_adaptive_quadrature() -> None:
    # P(u > 0, v > 0) for unit-variance (u, v) with correlation c, by 2-D adaptive quadrature
    for c in (-0.9, -0.3, 0.0, 0.5, 0.95):
        s = np.sqrt(1 - c * c)
        dens = lambda z2, z1: np.exp(-(z1 * z1 + z2 * z2) / 2) / (2 * np.pi)
        # u = z1 > 0 and v = c z1 + s z2 > 0  <=>  z2 > -c z1 / s
        p, _ = integrate.dblquad(dens, 0, np.inf, lambda z1: -c * z1 / s, np.inf, epsabs=1e-12)
        assert abs(p - (np.pi - np.arccos(c)) / (2 * np.pi)) < 1e-9


def test_relu_closed_form_against_monte_carlo() -> None:
    X = ntklib.sphere(5, 3, ntklib.rng("relu-mc-x"))
    m = 400_000
    K_m = ntklib.ntk_gram_at_init(X, m=m, activation="relu", rng=ntklib.rng("relu-mc-w"))
    G = X @ X.T
    p = (np.pi - np.arccos(np.clip(G, -1, 1))) / (2 * np.pi)
    se = np.abs(G) * np.sqrt(p * (1 - p) / m)
    iu = np.triu_indices(5)
    ntklib.check_agreement("test-relu-mc", K_m[iu], se[iu], ntklib.ntk_limit(X, activation="relu")[iu], statistic="k_m")


def test_erf_quadrature_against_closed_form() -> None:
    # E[erf'(u) erf'(v)] = (4/pi) det(I + 2 Sigma)^(-1/2) for (u, v) ~ N(0, Sigma)
    X = ntklib.sphere(6, 4, ntklib.rng("erf")) * np.linspace(0.2, 3.0, 6)[:, None]     # norms 0.2 to 3
    G = X @ X.T
    n2 = np.diag(G)
    exact = G * (4 / np.pi) / np.sqrt((1 + 2 * n2[:, None]) * (1 + 2 * n2[None, :]) - 4 * G**2)
    np.testing.assert_allclose(ntklib.ntk_limit(X, activation="erf"), exact, rtol=1e-12, atol=1e-15)


def test_identity_and_smooth_quadrature_convergence(rng) -> None:
    X = rng.standard_normal((5, 3))
    np.testing.assert_allclose(ntklib.ntk_limit(X, activation="identity"), X @ X.T)
    for name in ("tanh", "sigmoid", "softplus"):
        a = ntklib.ntk_limit(X, activation=name)                     # default base order 160
        b = ntklib.ntk_limit(X, activation=name, quad_order=320)
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(ntklib.ntk_limit(X, X.copy(), activation=name), a, rtol=1e-12)  # symmetric path


def test_smooth_limit_against_monte_carlo() -> None:
    X = ntklib.sphere(4, 3, ntklib.rng("tanh-mc-x"))
    W = ntklib.rng("tanh-mc-w").standard_normal((200_000, 3))
    act = ntklib.get_activation("tanh")
    S = act.d1(X @ W.T)
    terms = (X @ X.T)[:, :, None] * S[:, None, :] * S[None, :, :]
    iu = np.triu_indices(4)
    est, se = terms.mean(axis=2)[iu], (terms.std(axis=2, ddof=1) / np.sqrt(W.shape[0]))[iu]
    ntklib.check_agreement("test-tanh-mc", est, se, ntklib.ntk_limit(X, activation="tanh")[iu], statistic="k_m")


def test_relu_nngp_against_monte_carlo_and_special_values() -> None:
    A = ntklib.rng("nngp-a").standard_normal((4, 3)) * np.array([[0.5], [1.0], [2.0], [1.5]])
    x = ntklib.rng("nngp-x").standard_normal((400_000, 3))
    F = np.maximum(x @ A.T, 0)
    terms = F[:, :, None] * F[:, None, :]
    iu = np.triu_indices(4)
    est, se = terms.mean(axis=0)[iu], (terms.std(axis=0, ddof=1) / np.sqrt(x.shape[0]))[iu]
    ntklib.check_agreement("test-nngp", est, se, ntklib.relu_nngp(A)[iu], statistic="E relu relu")
    u = np.array([[1.0, 2.0, 0.0], [-1.0, -2.0, 0.0], [2.0, -1.0, 0.0]])
    K = ntklib.relu_nngp(u)
    np.testing.assert_allclose(np.diag(K), np.sum(u**2, axis=1) / 2, rtol=1e-15)   # ||x||^2 / 2
    assert abs(K[0, 1]) < 1e-15                                                    # antipodal
    assert K[0, 2] == pytest.approx(5 / (2 * np.pi), rel=1e-14)                    # orthogonal


def test_kernel_input_validation(rng) -> None:
    X = rng.standard_normal((3, 2))
    with pytest.raises(ValueError, match="Xp=array of shape"):
        ntklib.ntk_limit(X, rng.standard_normal((3, 3)), activation="relu")
    with pytest.raises(ValueError, match="m=0"):
        ntklib.ntk_gram_at_init(X, m=0, activation="relu", rng=rng)
    with pytest.raises(ValueError, match="quad_order=1"):
        ntklib.ntk_limit(X, activation="tanh", quad_order=1)
    with pytest.raises(ValueError, match="activation='cosine'"):
        ntklib.ntk_gram(X, W=rng.standard_normal((4, 2)), activation="cosine")


def test_gram_matrices_at_extreme_norms_are_right_or_refused() -> None:
    """No NaN from inf * 0: inner products are formed from rows scaled by powers of two."""
    g = ntklib.rng("extreme-norms")
    x = ntklib.sphere(1, 3, g)
    W = g.standard_normal((50, 3))
    K = ntklib.ntk_gram(np.vstack([x, -x]) * 1e150, W=W, activation="relu")
    active = np.count_nonzero(W @ x[0] > 0)
    assert K[0, 1] == 0.0 and K[1, 0] == 0.0                  # opposite inputs are never co-active
    assert K[0, 0] == pytest.approx(1e300 * active / 50, rel=1e-14)
    with pytest.raises(ValueError, match="X, Xp: kernel values exceed the float range"):
        ntklib.ntk_gram(np.vstack([x, -x]) * 1e200, W=W, activation="relu")   # the diagonal is 1e400
    X = ntklib.sphere(4, 3, g)
    for scale in (1e154, 1e200, 1e290):                       # sigma'(w^T x) underflows: the kernel is 0
        for fn in (lambda A: ntklib.ntk_gram(A, W=W, activation="tanh"),
                   lambda A: ntklib.ntk_gram_at_init(A, m=50, activation="tanh", rng=ntklib.rng("t"))):
            assert np.array_equal(fn(X * scale), np.zeros((4, 4)))
    with pytest.raises(ValueError, match="X, Xp, W: pre-activations could reach"):
        ntklib.ntk_gram(X * 1e305, W=W, activation="tanh")
    tiny = ntklib.ntk_gram(X * 1e-200, W=W, activation="relu")   # 1e-400 underflows to 0, silently and rightly
    assert np.array_equal(tiny, np.zeros((4, 4)))
    A = X * 1e154                                             # x^T x' up to 1e308: the direct product, bit for bit
    np.testing.assert_array_equal(ntklib.ntk_limit(A, activation="identity"), A @ A.T)
    with pytest.raises(ValueError, match="X, Xp: kernel values exceed"):
        ntklib.ntk_limit(X * 1e160, activation="identity")


def test_gram_relu_counts_ignore_the_scale_of_the_weights() -> None:
    g = ntklib.rng("weight-scale")
    X, W = ntklib.sphere(5, 3, g), g.standard_normal((40, 3))
    K = ntklib.ntk_gram(X, W=W, activation="relu")
    np.testing.assert_array_equal(ntklib.ntk_gram(X, W=W * 1e300, activation="relu"), K)
    np.testing.assert_array_equal(ntklib.ntk_gram(X, W=W * 1e-300, activation="relu"), K)


# --- the float32 path (ntk_gram(..., dtype=np.float32)) -------------------------------------------

U32 = 2.0**-24
SUP_D1 = {"tanh": 1.0, "sigmoid": 0.25, "softplus": 1.0, "erf": 2 / np.sqrt(np.pi), "identity": 1.0}


def _gamma32(k: int) -> float:
    return k * U32 / (1 - k * U32)


@pytest.mark.parametrize("name", sorted(SUP_D1))
def test_float32_derivatives_within_8us(name: str) -> None:
    # Z = W X^T with X = [[1]] is exact, so this is the float32 evaluation of sigma' alone
    z = np.concatenate([np.linspace(-60, 60, 400_001), np.geomspace(1e-30, 1, 1001)]).astype(np.float32)
    act = ntklib.get_activation(name)
    S = kernels._derivatives(act, np.ones((1, 1), np.float32), z[:, None], np.float32)
    assert S.dtype == np.float32
    exact = act.d1(z.astype(np.float64))
    assert np.max(np.abs(S[:, 0] - exact)) <= 8 * U32 * SUP_D1[name]


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "softplus", "erf"])
def test_float32_gram_within_the_stated_bound(name: str) -> None:
    g = ntklib.rng(f"float32-{name}")
    n, npr, d, m = 30, 20, 7, 3000
    X = g.standard_normal((n, d)) * np.linspace(0.2, 2.0, n)[:, None]
    Xp = g.standard_normal((npr, d))
    W = g.standard_normal((m, d))
    act = ntklib.get_activation(name)
    K64 = ntklib.ntk_gram(X, Xp, W=W, activation=name)
    K32 = ntklib.ntk_gram(X, Xp, W=W, activation=name, dtype=np.float32)
    assert K32.dtype == np.float64 and K32.shape == (n, npr)
    # the docstring's bound, from the float32 derivatives actually used
    f32 = np.float32
    S = kernels._derivatives(act, X.astype(f32), W.astype(f32), f32).astype(np.float64)     # (m, n)
    Sp = kernels._derivatives(act, Xp.astype(f32), W.astype(f32), f32).astype(np.float64)
    dlt = act.smoothness * _gamma32(d + 2) * (np.abs(W) @ np.abs(X).T) + 8 * U32 * SUP_D1[name]
    dltp = act.smoothness * _gamma32(d + 2) * (np.abs(W) @ np.abs(Xp).T) + 8 * U32 * SUP_D1[name]
    c = min(m, kernels.GRAM_CHUNK_ELEMENTS // n)
    inner = dlt.T @ np.abs(Sp) + np.abs(S).T @ dltp + dlt.T @ dltp + _gamma32(c) * (np.abs(S).T @ np.abs(Sp))
    bound = np.abs(X @ Xp.T) / m * inner + (d + 3) * 2.0**-53 * 1.01 * np.abs(K32) + 1e-15 * np.abs(K64).max()
    assert np.all(np.abs(K32 - K64) <= bound)
    # and the measured accuracy the docstring reports: below 1e-6 relative, entrywise
    assert np.max(np.abs(K32 - K64) / np.abs(K64)) < 1e-6


def test_float32_relu_counts_are_exact() -> None:
    g = ntklib.rng("float32-relu")
    X, W = ntklib.sphere(40, 5, g), g.standard_normal((5000, 5))
    K32 = ntklib.ntk_gram(X, W=W, activation="relu", dtype=np.float32)
    S = (W.astype(np.float32) @ X.astype(np.float32).T > 0).astype(np.float64)     # the float32 signs
    np.testing.assert_array_equal(K32, (X @ X.T) * (S.T @ S) / 5000)                 # integer counts, exact
    np.testing.assert_array_equal(K32, ntklib.ntk_gram(X, W=W, activation="relu"))  # no sign differs here


def test_float32_default_is_float64_and_spellings(rng) -> None:
    X, W = rng.standard_normal((6, 3)), rng.standard_normal((50, 3))
    K = ntklib.ntk_gram(X, W=W, activation="tanh")
    np.testing.assert_array_equal(ntklib.ntk_gram(X, W=W, activation="tanh", dtype="float64"), K)
    K32 = ntklib.ntk_gram(X, W=W, activation="tanh", dtype=np.float32)
    for spelling in ("float32", np.dtype("float32"), "f4"):
        np.testing.assert_array_equal(ntklib.ntk_gram(X, W=W, activation="tanh", dtype=spelling), K32)


@pytest.mark.parametrize("bad", [None, True, "float16", np.float16, np.int32, complex, "cosine", 3])
def test_float32_dtype_validation(rng, bad) -> None:
    X, W = rng.standard_normal((4, 3)), rng.standard_normal((5, 3))
    with pytest.raises(ValueError, match=r"dtype=.*expected numpy.float64 \(the default\) or numpy.float32"):
        ntklib.ntk_gram(X, W=W, activation="relu", dtype=bad)


@pytest.mark.parametrize("name", ["relu", "tanh"])
def test_serial_and_threaded_products_agree(monkeypatch, name: str) -> None:
    g = ntklib.rng("serial")
    X, W = ntklib.sphere(50, 4, g), g.standard_normal((4000, 4))
    monkeypatch.setattr(kernels, "SERIAL_WORK", 0)            # as configured (threads allowed)
    K = ntklib.ntk_gram(X, W=W, activation=name)
    monkeypatch.setattr(kernels, "SERIAL_WORK", 1 << 62)      # one thread
    K1 = ntklib.ntk_gram(X, W=W, activation=name)
    if name == "relu":
        np.testing.assert_array_equal(K1, K)
    else:
        np.testing.assert_allclose(K1, K, rtol=1e-13)
