"""The flows of Theorem 12: closed form, tail certificate, verdicts, rescaling invariance."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import ntklib
from ntklib import flows


def _problem(rng, *, m=40, n=5, d=4, centred=False, symmetric=True):
    X = ntklib.sphere(n, d, rng)
    y = ntklib.targets(X, "smooth")
    net, W0 = ntklib.init_network(m, d, rng, activation="tanh", symmetric=symmetric)
    L_J = ntklib.get_activation("tanh").smoothness * np.linalg.norm(X, 2) / np.sqrt(m)
    return flows.flow_problem(net, X, y, W0, L_J=L_J, centred=centred)


def test_tangent_flow_matches_a_numerical_solution(rng) -> None:
    p = _problem(rng, symmetric=False)
    alpha, taus = 1.7, np.linspace(0.0, 3.0, 7)
    rho, du = flows.tangent_flow(p, alpha, taus)
    J0 = p.net.jacobian(p.X, p.W0)
    w0 = p.W0.reshape(-1)
    # in t = tau / alpha^2: du/dt = -alpha J0^T (alpha (f0 + J0 (u - w0)) - y)
    rhs = lambda t, u: -alpha * J0.T @ (alpha * (p.f0 + J0 @ (u - w0)) - p.y)
    sol = solve_ivp(rhs, (0, taus[-1] / alpha**2), w0, t_eval=taus / alpha**2, method="DOP853", rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(du, sol.y - w0[:, None], atol=1e-9)
    np.testing.assert_allclose(rho, alpha * (p.f0[:, None] + J0 @ (sol.y - w0[:, None])) - p.y[:, None], atol=1e-9)
    assert np.all(np.diff(np.linalg.norm(du, axis=0)) >= 0)        # the tangent displacement only grows


def test_tail_certificate_by_hand() -> None:
    # s* = 1, r = (3 - 1) / 2 = 1, P = (4 + 2) sqrt(2 * 0.005) / (10 * 1) = 0.06 < 1
    cert = flows.tail_certificate(3.0, 4.0, 0.005, 10.0, 2.0, 2.0)
    assert cert.holds and cert.radius == pytest.approx(1.0) and cert.path == pytest.approx(0.06)
    assert not flows.tail_certificate(3.0, 4.0, 5.0, 0.1, 2.0, 2.0).holds              # path too long
    off = flows.tail_certificate(0.9, 4.0, 0.005, 10.0, 2.0, 2.0)                       # s_T below s_min / 2
    assert not off.holds and off.path is None and off.radius == 0.0
    # an error allowance e = 0.1: residual norm 0.1 + 10 (4 + 0.2) 0.1 = 4.3, P = 6 * 4.3 / 10 = 2.58 > 1 - 0.1
    worse = flows.tail_certificate(3.0, 4.0, 0.005, 10.0, 2.0, 2.0, error=0.1)
    assert not worse.holds and worse.path == pytest.approx(2.58) and worse.error == 0.1
    # e = 1e-4: P = 6 (0.1 + 10 * 4.0002e-4) / 10 = 0.06240012, and P + e < 1
    small = flows.tail_certificate(3.0, 4.0, 0.005, 10.0, 2.0, 2.0, error=1e-4)
    assert small.holds and small.path == pytest.approx(0.06240012)
    # e = 0.037: P = 0.06 + 24e + 12e^2 = 0.964428 < 1 = r, but P + e = 1.001428 >= r: the allowance decides
    edge = flows.tail_certificate(3.0, 4.0, 0.005, 10.0, 2.0, 2.0, error=0.037)
    assert not edge.holds and edge.path == pytest.approx(0.964428) and edge.path < edge.radius


def test_large_scale_holds_and_small_scale_fails(rng) -> None:
    p = _problem(rng)
    a_star = ntklib.bounds.theorem12_alpha_threshold(p.L_J, p.sigma_min, p.sigma_max, p.R0(1.0))
    lazy = flows.lazy_run(p, a_star)
    assert lazy.verdict == "holds" and lazy.tail.holds
    assert np.all(lazy.risk[1:] <= lazy.bound[1:]) and np.all(lazy.risk_tangent[1:] <= lazy.bound[1:])
    assert lazy.sup_displacement <= ntklib.bounds.theorem12_displacement(a_star, p.sigma_min, p.sigma_max, p.R0(1.0))
    assert lazy.sup_path >= lazy.sup_displacement >= lazy.displacement.max()
    assert lazy.sup_w_minus_u <= ntklib.bounds.theorem12_coupling(a_star, p.L_J, p.sigma_min, p.sigma_max, p.R0(1.0))
    assert lazy.sup_displacement >= lazy.displacement.max() and lazy.inf_smin <= lazy.smin.min()
    assert lazy.inf_smin >= p.sigma_min / 2 and lazy.sup_smax <= 1.5 * p.sigma_max and lazy.sup_smax >= lazy.smax.max()
    assert lazy.crossing is None and lazy.tail.error > 0                 # the reference run measured an error
    tiny = flows.lazy_run(p, 1e-3)          # alpha f cannot reach y: the risk stalls above its decaying bound
    assert tiny.verdict == "fails" and tiny.tail is None and tiny.crossing is not None
    assert np.max(tiny.risk / tiny.bound) > 10
    with pytest.raises(ValueError, match="no tail certificate"):
        tiny.sup_displacement


def test_path_length_bounds_the_displacement_and_grows(rng) -> None:
    run = flows.lazy_run(_problem(rng), 2.0)
    assert np.all(np.diff(run.path) >= 0)
    assert np.all(run.displacement <= run.path + 1e-12)
    assert np.all(np.diff(run.risk) <= 1e-14)                     # gradient flow never increases the risk


def test_interval_bounds_contain_a_finer_grid(rng) -> None:
    """The bounds between grid times hold at the times of a run on a grid ten times finer."""
    p = _problem(rng)
    coarse, fine = flows.lazy_run(p, 2.0, points=6), flows.lazy_run(p, 2.0, points=60)
    assert coarse.verdict == fine.verdict == "holds"
    assert fine.smin.min() >= coarse.inf_smin and fine.smax.max() <= coarse.sup_smax
    assert fine.displacement.max() <= coarse.sup_displacement and fine.w_minus_u.max() <= coarse.sup_w_minus_u
    # the risk ratio between the coarse grid's times is at most the interval ratio of the interval holding it
    inside = (fine.taus > coarse.taus[1]) & (fine.taus < coarse.taus[-1])
    k = np.searchsorted(coarse.taus, fine.taus[inside], side="right") - 1
    assert np.all(fine.risk[inside] / fine.bound[inside] <= coarse.risk[k] / coarse.bound[k + 1] * (1 + 1e-9))
    assert fine.path[fine.taus <= coarse.taus[1]].max() < p.sigma_min / (2 * p.L_J)      # the first interval


def test_tangent_model_at_the_network_parameters(rng) -> None:
    """risk_tangent_at_w is the tangent model's risk at w(tau): for a linear network it is the risk itself."""
    X = ntklib.sphere(3, 4, rng)
    net, W0 = ntklib.init_network(10, 4, rng, activation="identity")
    linear = flows.flow_problem(net, X, ntklib.targets(X, "smooth"), W0, L_J=1.0)       # J is constant
    run = flows.lazy_run(linear, 2.0, points=4)
    np.testing.assert_allclose(run.risk_tangent_at_w, run.risk, rtol=1e-9, atol=1e-13)
    curved = flows.lazy_run(_problem(rng, centred=True, symmetric=False), 3.0, points=4, min_horizon=3)
    assert curved.risk_tangent_at_w[0] == pytest.approx(curved.risk[0], rel=1e-14)
    assert curved.risk_tangent_at_w[-1] > 10 * curved.risk[-1]        # alpha psi(w) remains, the network fits y


def test_rescaling_leaves_the_flow_unchanged(rng) -> None:
    p = _problem(rng)
    c = 0.01
    net_c = ntklib.TwoLayerNet(p.net.a, p.net.activation, p.net.alpha * c)
    p_c = flows.flow_problem(net_c, p.X, p.y, p.W0, L_J=c * p.L_J)
    assert p_c.sigma_min == pytest.approx(c * p.sigma_min)
    a, b = flows.lazy_run(p, 0.5), flows.lazy_run(p_c, 0.5 / c)
    assert a.verdict == b.verdict and a.taus.size == b.taus.size
    np.testing.assert_allclose(b.taus, a.taus / c**2)
    np.testing.assert_allclose(b.risk, a.risk, rtol=1e-7, atol=1e-14)
    np.testing.assert_allclose(b.displacement, a.displacement, rtol=1e-7, atol=1e-14)


def test_rescaling_by_a_power_of_two_is_exact(rng) -> None:
    p = _problem(rng)
    c = 2.0**-7
    p_c = flows.flow_problem(ntklib.TwoLayerNet(p.net.a, p.net.activation, p.net.alpha * c), p.X, p.y, p.W0, L_J=c * p.L_J)
    a, b = flows.lazy_run(p, 0.5), flows.lazy_run(p_c, 0.5 / c, atol=1e-12 / c)
    np.testing.assert_array_equal(b.taus, a.taus / c**2)
    for q in ("risk", "displacement", "path", "w_minus_u", "output_gap"):
        np.testing.assert_array_equal(getattr(b, q), getattr(a, q))


def test_centred_model_starts_at_zero(rng) -> None:
    p = _problem(rng, centred=True, symmetric=False)
    assert np.all(p.f0 == 0) and p.R0(3.0) == pytest.approx(0.5 * p.y @ p.y)
    np.testing.assert_allclose(p.outputs(p.W0), 0.0, atol=0)


def test_flows_refuse_bad_input(rng) -> None:
    p = _problem(rng)
    with pytest.raises(TypeError, match="net="):
        flows.flow_problem("net", p.X, p.y, p.W0, L_J=1.0)
    with pytest.raises(ValueError, match="y="):
        flows.flow_problem(p.net, p.X, p.y[:-1], p.W0, L_J=1.0)
    with pytest.raises(ValueError, match="L_J=-1"):
        flows.flow_problem(p.net, p.X, p.y, p.W0, L_J=-1.0)
    with pytest.raises(TypeError, match="centred="):
        flows.flow_problem(p.net, p.X, p.y, p.W0, L_J=1.0, centred="yes")
    X_bad = np.vstack([p.X, p.X[:1]])                                # a repeated point: rank < n
    with pytest.raises(ValueError, match="rank n"):
        flows.flow_problem(p.net, X_bad, np.append(p.y, 0.0), p.W0, L_J=1.0)
    with pytest.raises(ValueError, match="alpha=0"):
        flows.lazy_run(p, 0.0)
    with pytest.raises(ValueError, match="floor=1"):
        flows.lazy_run(p, 1.0, floor=1.0)
    with pytest.raises(ValueError, match="taus"):
        flows.tangent_flow(p, 1.0, np.array([-1.0]))
    with pytest.raises(ValueError, match="S_T"):
        flows.tail_certificate(2.0, 1.0, 0.1, 1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="error"):
        flows.tail_certificate(2.0, 3.0, 0.1, 1.0, 1.0, 1.0, error=-1.0)
    with pytest.raises(TypeError, match="problem="):
        flows.lazy_run("problem", 1.0)
    with pytest.raises(ValueError, match="alpha="):
        flows.lazy_run(p, 1e12)                          # alpha f(w) unresolved in double precision
    with pytest.raises(ValueError, match="rtol="):
        flows.lazy_run(p, 1.0, rtol=1e-15)               # no room for the reference run
    with pytest.raises(ValueError, match="X, W0"):
        flows.flow_problem(p.net, 1e200 * p.X, p.y, p.W0, L_J=1.0)


def test_coupling_bound_by_hand() -> None:
    # L = 1, R0 = 3, smin = 1, smax = 2 (kappa = 4), alpha = 2: 1 * 3 * 2 * (64 + 144) / (4 * 1)
    assert ntklib.bounds.theorem12_coupling(2.0, 1.0, 1.0, 2.0, 3.0) == pytest.approx(312.0)
    assert ntklib.bounds.theorem12_coupling(2.0, 0.0, 1.0, 2.0, 3.0) == 0.0
    with pytest.raises(ValueError, match="sigma_max"):
        ntklib.bounds.theorem12_coupling(2.0, 1.0, 2.0, 1.0, 3.0)


def test_tangent_suprema_are_the_limits(rng) -> None:
    p = _problem(rng)
    run = flows.lazy_run(p, 3.0)
    far = np.array([run.taus[-1], 1e3 * run.taus[-1]])
    _, du = flows.tangent_flow(p, 3.0, far)
    assert run.sup_displacement_tangent == pytest.approx(np.linalg.norm(du[:, 1]), rel=1e-12)
    assert run.displacement_tangent.max() <= run.sup_displacement_tangent * (1 + 1e-12)
    assert run.tangent_tail == pytest.approx(np.linalg.norm(du[:, 1] - du[:, 0]), rel=1e-9)
