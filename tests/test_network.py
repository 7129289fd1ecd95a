"""The two-layer network: outputs, gradients, Jacobian products and the Taylor model."""

from __future__ import annotations

import numpy as np
import pytest

import ntklib
from ntklib import network


def _setup(rng, activation="tanh", m=37, d=4, n=6, scale="ntk"):
    net, W0 = ntklib.init_network(m, d, rng, activation=activation, scale=scale)
    X = rng.standard_normal((n, d))
    return net, W0, X


def test_output_matches_the_formula(rng) -> None:
    net, W, X = _setup(rng, scale=2.5)
    expected = np.array([2.5 / net.m * sum(net.a[j] * np.tanh(W[j] @ x) for j in range(net.m)) for x in X])
    np.testing.assert_allclose(net.output(X, W), expected, rtol=1e-13)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "softplus", "erf", "identity", "relu"])
def test_gradient_matches_finite_differences(rng, activation: str) -> None:
    net, W, X = _setup(rng, activation=activation)
    x = X[0]
    G = net.grad(x, W)
    h = 1e-6
    fd = np.empty_like(W)
    for j in range(W.shape[0]):
        for k in range(W.shape[1]):
            E = np.zeros_like(W)
            E[j, k] = h
            fd[j, k] = (net.output(x[None], W + E)[0] - net.output(x[None], W - E)[0]) / (2 * h)
    # no pre-activation is within 1e-6 of the ReLU kink for this draw, so the ReLU is smooth here
    assert np.min(np.abs(W @ x)) > 1e-4
    np.testing.assert_allclose(G, fd, atol=1e-8)


def test_jacobian_products_agree_with_the_materialized_jacobian(rng) -> None:
    net, W, X = _setup(rng)
    J = net.jacobian(X, W)
    assert J.shape == (X.shape[0], W.size)
    for i in range(X.shape[0]):
        np.testing.assert_allclose(J[i], net.grad(X[i], W).reshape(-1), rtol=1e-13)  # association order
    V = rng.standard_normal(W.shape)
    r = rng.standard_normal(X.shape[0])
    np.testing.assert_allclose(net.jvp(X, W, V), J @ V.reshape(-1), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(net.vjp(X, W, r).reshape(-1), J.T @ r, rtol=1e-12, atol=1e-14)


def test_chunking_does_not_change_results(rng, monkeypatch) -> None:
    net, W, X = _setup(rng, m=101)
    V = rng.standard_normal(W.shape)
    r = rng.standard_normal(X.shape[0])
    full = (net.output(X, W), net.jvp(X, W, V), net.vjp(X, W, r))
    monkeypatch.setattr(network, "CHUNK_ELEMENTS", 7)   # chunks of one unit
    chunked = (net.output(X, W), net.jvp(X, W, V), net.vjp(X, W, r))
    for a, b in zip(full, chunked):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_taylor_model_is_exact_at_the_reference_and_second_order(rng) -> None:
    net, W0, X = _setup(rng)
    np.testing.assert_allclose(net.taylor(X, W0, W0), net.output(X, W0), rtol=1e-15)
    D = rng.standard_normal(W0.shape)
    errs = [np.max(np.abs(net.output(X, W0 + e * D) - net.taylor(X, W0 + e * D, W0))) for e in (1e-1, 1e-2)]
    assert 50 < errs[0] / errs[1] < 200           # O(eps^2): ratio 100


def test_relu_taylor_model_is_linear(rng) -> None:
    net, W0, X = _setup(rng, activation="relu")
    W = W0 + rng.standard_normal(W0.shape)
    np.testing.assert_allclose(net.taylor(X, W, W0), net.jvp(X, W0, W), rtol=1e-12, atol=1e-14)


def test_symmetric_initialization_outputs_zero(rng) -> None:
    net, W0 = ntklib.init_network(40, 3, rng, activation="tanh", symmetric=True)
    np.testing.assert_array_equal(W0[:20], W0[20:])
    np.testing.assert_array_equal(net.a[:20], -net.a[20:])
    X = rng.standard_normal((5, 3))
    assert np.max(np.abs(net.output(X, W0))) < 1e-14
    with pytest.raises(ValueError, match="m=41"):
        ntklib.init_network(41, 3, rng, symmetric=True)


def test_output_scales() -> None:
    assert ntklib.output_scale("ntk", 16) == 4.0
    assert ntklib.output_scale("mean-field", 16) == 1.0
    assert ntklib.output_scale(0.5, 16) == 0.5
    for bad in ("lazy", 0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="scale"):
            ntklib.output_scale(bad, 16)


def test_shape_errors_name_the_argument(rng) -> None:
    net, W, X = _setup(rng)
    with pytest.raises(ValueError, match="W has 36 rows"):
        net.output(X, W[:-1])
    with pytest.raises(ValueError, match="W=array of shape"):
        net.output(X, W[:, :-1])
    with pytest.raises(ValueError, match="X="):
        net.output(X[0], W)
    with pytest.raises(ValueError, match="r="):
        net.vjp(X, W, np.ones(X.shape[0] + 1))
    with pytest.raises(ValueError, match="a: expected entries"):
        ntklib.TwoLayerNet(np.array([1.0, 0.5]), ntklib.get_activation("relu"), 1.0)
    with pytest.raises(ValueError, match="rng="):
        ntklib.init_network(3, 2, np.random.RandomState(0))  # type: ignore[arg-type]


@pytest.mark.parametrize("scale", ["ntk", "mean-field"])
def test_outputs_at_init_one_network_per_block_is_init_network(monkeypatch, scale: str) -> None:
    X = ntklib.sphere(3, 4, ntklib.rng("oai-x"))
    monkeypatch.setattr(network, "CHUNK_ELEMENTS", 1)           # blocks of one network
    out = ntklib.outputs_at_init(X, m=7, trials=5, activation="tanh", rng=ntklib.rng("oai"), scale=scale)
    g = ntklib.rng("oai")
    for t in range(5):
        net, W0 = ntklib.init_network(7, 4, g, activation="tanh", scale=scale)
        np.testing.assert_allclose(out[t], net.output(X, W0), rtol=1e-13, atol=1e-15)


def test_outputs_at_init_blocks_draw_weights_then_signs() -> None:
    X = ntklib.sphere(2, 3, ntklib.rng("oai-x"))
    m, trials = 50, 300
    step = network.CHUNK_ELEMENTS // (m * 3)                    # networks per block
    out = ntklib.outputs_at_init(X, m=m, trials=trials, activation="relu", rng=ntklib.rng("oai"))
    g, expected = ntklib.rng("oai"), []
    for start in range(0, trials, step):
        t = min(step, trials - start)
        W, a = g.standard_normal((t, m, 3)), g.choice([-1.0, 1.0], size=(t, m))
        expected += [np.sqrt(m) / m * a[i] @ np.maximum(W[i] @ X.T, 0) for i in range(t)]
    np.testing.assert_allclose(out, np.array(expected), rtol=1e-13, atol=1e-15)
