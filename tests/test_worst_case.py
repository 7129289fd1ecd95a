"""Worst cases of the near-linearity lemmas: exactness, the order-statistics sampler, adversaries."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import ntklib
from ntklib import bounds
from ntklib import worst_case as wc


def _relu_net(rng, m, d=4):
    net, W0 = ntklib.init_network(m, d, rng, activation="relu")
    x = ntklib.sphere(1, d, rng)[0]
    return net, W0, x, W0 @ x


def _remainder(net, W0, x, W):
    return abs(net.output(x[None], W)[0] - net.taylor(x[None], W, W0)[0])


def test_taylor_sup_small_cases() -> None:
    assert wc.taylor_sup(np.array([]), 1.0) == (0.0, 0)
    assert wc.taylor_sup(np.array([2.0]), 1.0) == (0.0, 0)                  # too costly to flip
    value, k = wc.taylor_sup(np.array([0.0, 0.0, 0.0, 0.0]), 2.0)
    assert (value, k) == (pytest.approx(4.0), 4)                            # B sqrt(k) with free units
    with pytest.raises(ValueError, match="nondecreasing"):
        wc.taylor_sup(np.array([0.5, 0.1]), 1.0)


def test_taylor_worst_case_is_attained_and_not_exceeded(rng) -> None:
    for m, B in [(3, 0.7), (40, 1.5), (400, 0.3)]:
        net, W0, x, z = _relu_net(rng, m)
        adv = wc.taylor_worst_case(z, net.a, B)
        W, _ = adv.weights(W0, x)
        assert np.linalg.norm(W - W0) == pytest.approx(B if adv.units.size else 0.0, rel=1e-12, abs=1e-15)
        assert _remainder(net, W0, x, W) == pytest.approx(adv.value, rel=1e-10, abs=1e-15)
        # local search from many random points of the sphere ||t|| = B, moving along x only
        for _ in range(200):
            t = rng.standard_normal(m)
            t *= B / np.linalg.norm(t)
            assert _remainder(net, W0, x, W0 + np.outer(t, x)) <= adv.value * (1 + 1e-12) + 1e-15


def test_taylor_worst_case_by_exhaustive_search_in_two_units(rng) -> None:
    # m = 2: grid over the circle ||t|| = B (the sup is on the sphere) against the formula
    net, W0, x, z = _relu_net(rng, 2)
    B = 2.0 * np.abs(z).max()
    adv = wc.taylor_worst_case(z, net.a, B)
    phis = np.linspace(0, 2 * np.pi, 20001)
    grid = max(_remainder(net, W0, x, W0 + np.outer(B * np.array([np.cos(p), np.sin(p)]), x)) for p in phis)
    assert grid <= adv.value * (1 + 1e-12) and grid >= adv.value * (1 - 1e-6)


def test_linearization_adversary_is_evaluated_correctly(rng) -> None:
    net, W0, x, z = _relu_net(rng, 300)
    adv = wc.linearization_adversary(z, net.a, 1.0)
    V, W = adv.weights(W0, x)
    value = abs(net.output(x[None], V)[0] - net.taylor(x[None], V, W)[0])
    assert value == pytest.approx(adv.value, rel=1e-9)
    assert np.linalg.norm(V - W0) == pytest.approx(1.0, rel=1e-12)
    assert np.linalg.norm(W - W0) <= 1.0 + 1e-9
    assert adv.value >= wc.taylor_worst_case(z, net.a, 1.0).value        # W = W0 is one option


@pytest.mark.parametrize(("n", "k"), [(50, 3), (2, 1), (4, 2)])
def test_smallest_abs_normals_match_brute_force(n: int, k: int) -> None:
    # small n: an off-by-one in the sample size (Gamma(n - k) for Gamma(n + 1 - k)) is a different law
    g = ntklib.rng(f"order-stats-{n}-{k}")
    reps = 3000
    sampled = np.array([wc.smallest_abs_normals(n, k, g) for _ in range(reps)])
    brute = np.sort(np.abs(g.standard_normal((reps, n))), axis=1)[:, :k]
    assert np.all(np.diff(sampled, axis=1) >= 0)
    ntklib.check_test("test-order-stats", sampled.T, brute.T, level=1e-6, statistic="KS sampler vs brute force")
    with pytest.raises(ValueError, match="k=6"):
        wc.smallest_abs_normals(5, 6, g)


def test_sampled_worst_cases_converge_to_the_asymptotic_constants() -> None:
    first, second = wc.sampled_worst_cases(10**7, 1.0, 30, ntklib.rng("asymptotic"))
    scale = (10**7) ** (1 / 6)
    assert first.mean() * scale == pytest.approx(wc.ASYMPTOTIC_TAYLOR, rel=0.01)
    assert second.mean() * scale == pytest.approx(wc.ASYMPTOTIC_LINEARIZATION, rel=0.01)


def test_lemma7_check_fails_when_the_constant_is_too_small() -> None:
    g = ntklib.rng("lemma7-mutation")
    first, _ = wc.sampled_worst_cases(10**5, 1.0, 200, g)
    true_bound = bounds.lemma7_taylor(1.0, 10**5, 0.05)
    ntklib.check_failure_rate("lem-relu", first[None], np.array([true_bound]), 0.05, statistic="exceeds")
    too_small = 0.1 * true_bound                      # both constants ten times too small: below the true worst case
    with pytest.raises(AssertionError, match="lem-relu FAILED"):
        ntklib.check_failure_rate("lem-relu", first[None], np.array([too_small]), 0.05, statistic="exceeds")


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "softplus"])
def test_smooth_adversary_is_below_the_bound_and_nearly_attains_it(rng, name: str) -> None:
    L = ntklib.get_activation(name).smoothness
    net, W0 = ntklib.init_network(20_000, 5, rng, activation=name)
    x = ntklib.sphere(1, 5, rng)[0]
    for B in (0.1, 3.0):
        adv = wc.smooth_adversary(W0 @ x, net.a, B, name)
        W, _ = adv.weights(W0, x)
        assert _remainder(net, W0, x, W) == pytest.approx(adv.value, rel=1e-8)
        assert np.linalg.norm(W - W0) == pytest.approx(B, rel=1e-12)
        ratio = adv.value / bounds.lemma5(L, B, 20_000)
        assert 0.98 < ratio <= 1.0
        with pytest.raises(AssertionError):                                  # constant halved: must fail
            ntklib.check("lem-smooth", np.array([adv.value]), np.array([bounds.lemma5(L / 2, B, 20_000)]), statistic="r")


def test_worst_case_validation(rng) -> None:
    with pytest.raises(ValueError, match="a: expected entries"):
        wc.taylor_worst_case(np.ones(3), np.array([1.0, 0.0, -1.0]), 1.0)
    with pytest.raises(ValueError, match="B=-1.0"):
        wc.linearization_adversary(np.ones(3), np.ones(3), -1.0)
    with pytest.raises(ValueError, match="a=array"):
        wc.smooth_adversary(np.ones(3), np.ones(2), 1.0, "tanh")
    with pytest.raises(ValueError, match="rng="):
        wc.sampled_worst_cases(10, 1.0, 2, None)  # type: ignore[arg-type]


# --- exact suprema by enumeration, the bracket of the second inequality, the adversarial pair ----

def test_max_linear_on_ball_against_closed_forms() -> None:
    # no box: the maximum of g.p over the ball is g.z + B ||g||
    g = np.array([[3.0, 4.0]])
    value, p = wc._max_linear_on_ball(g, np.zeros(2), 2.0, np.full((1, 2), -np.inf), np.full((1, 2), np.inf))
    assert value[0] == pytest.approx(10.0, rel=1e-12) and np.linalg.norm(p) == pytest.approx(2.0, rel=1e-12)
    # a box that cuts the ball: p_1 <= 0.5, the rest of the budget goes to p_2
    value, p = wc._max_linear_on_ball(np.array([[1.0, 1.0]]), np.zeros(2), 1.0, np.full((1, 2), -np.inf),
                                     np.array([[0.5, np.inf]]))
    assert p[0] == pytest.approx([0.5, np.sqrt(0.75)], rel=1e-12)
    # a box that misses the ball is infeasible
    value, _ = wc._max_linear_on_ball(np.ones((1, 2)), np.zeros(2), 1.0, np.array([[2.0, -np.inf]]), np.full((1, 2), np.inf))
    assert value[0] == -np.inf
    with pytest.raises(ValueError, match="low <= high"):
        wc._max_linear_on_ball(np.ones((1, 2)), np.zeros(2), 1.0, np.ones((1, 2)), np.zeros((1, 2)))


@pytest.mark.parametrize("m", [2, 5, 9])
def test_enumeration_equals_the_closed_form_of_the_first_inequality(m: int) -> None:
    g = ntklib.rng(f"enumerate-{m}")
    for B in (0.3, 1.0, 4.0):
        z, a = g.standard_normal(m), g.choice([-1.0, 1.0], size=m)
        assert wc.enumerated_sup(z, a, B, "taylor") == pytest.approx(wc.taylor_worst_case(z, a, B).value, rel=1e-12, abs=1e-14)
    # |a_j| <= 1: never above a = 1 at the same z
    z, a = g.standard_normal(m), g.uniform(-1, 1, size=m)
    assert wc.enumerated_sup(z, a, 1.0) <= wc.taylor_worst_case(z, np.ones(m), 1.0).value * (1 + 1e-12)


def test_second_inequality_bracket_and_enumeration() -> None:
    g = ntklib.rng("bracket")
    for m in (2, 4, 6):
        for B in (0.3, 1.0, 3.0):
            z = g.standard_normal(m)
            exact = wc.enumerated_sup(z, np.ones(m), B, "linearization")
            lower = wc.linearization_adversary(z, np.ones(m), B).value
            upper = wc.linearization_dual(np.sort(np.abs(z)), B) / np.sqrt(m)
            assert lower <= exact * (1 + 1e-12) + 1e-15 and exact <= upper * (1 + 1e-12) + 1e-15
            # random signs are dominated by a = 1
            assert wc.enumerated_sup(z, g.choice([-1.0, 1.0], size=m), B, "linearization") <= exact * (1 + 1e-12) + 1e-15
    first, lower, upper = wc.certified_worst_cases(10**5, 1.0, 3, g)
    assert np.all(lower <= upper) and np.all(lower / upper > 0.99) and np.all(first < lower)
    with pytest.raises(ValueError, match="limited to m <= 7"):
        wc.enumerated_sup(np.ones(8), np.ones(8), 1.0, "linearization")
    with pytest.raises(ValueError, match="draw more"):
        wc.linearization_dual(np.array([0.01, 0.02]), 10.0, n=1000)


def test_sampled_worst_cases_signs() -> None:
    equal = wc.sampled_worst_cases(10**6, 1.0, 20, ntklib.rng("signs"), signs="equal")[0]
    random = wc.sampled_worst_cases(10**6, 1.0, 20, ntklib.rng("signs"), signs="random")[0]
    scale = (10**6) ** (1 / 6)
    assert equal.mean() * scale == pytest.approx(wc.ASYMPTOTIC_TAYLOR, rel=0.01)
    assert random.mean() * scale == pytest.approx(wc.RANDOM_SIGNS_FACTOR * wc.ASYMPTOTIC_TAYLOR, rel=0.01)
    with pytest.raises(ValueError, match="signs="):
        wc.sampled_worst_cases(10, 1.0, 2, ntklib.rng("signs"), signs="both")


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "softplus"])
def test_smooth_worst_pair_reaches_its_guarantee(rng, name: str) -> None:
    act = ntklib.get_activation(name)
    M4 = wc.fourth_derivative_bound(name)
    net, W0 = ntklib.init_network(50, 4, rng, activation=name)
    x = ntklib.sphere(1, 4, rng)[0]
    V, W, n = wc.smooth_worst_pair(W0, x, net.a, 0.7, name)
    assert np.linalg.norm(W - V) == pytest.approx(0.7, rel=1e-12)
    assert n == (50 if name != "softplus" else max(int(np.sum(net.a == 1)), int(np.sum(net.a == -1))))
    value = abs(net.a @ wc.taylor_remainder(name, V @ x, (W - V) @ x)) * net.coef
    bound = bounds.lemma5(act.smoothness, 0.7, 50)
    assert bound * (1 - M4 * 0.49 / (12 * act.smoothness * n)) <= value <= bound
    assert value == pytest.approx(_remainder(net, V, x, W), rel=1e-9)


def test_fourth_derivative_bound_matches_the_closed_form_for_tanh() -> None:
    # tanh'''' = 8 T (1 - T^2)(2 - 3 T^2) with T = tanh z
    T = np.linspace(-1, 1, 2_000_001)
    exact = np.max(np.abs(8 * T * (1 - T**2) * (2 - 3 * T**2)))
    assert exact <= wc.fourth_derivative_bound("tanh") <= exact * (1 + 2e-4) + 2e-5
    with pytest.raises(ValueError, match="smooth"):
        wc.fourth_derivative_bound("relu")


def test_taylor_remainder_is_accurate_where_the_difference_cancels() -> None:
    s, t = np.array([0.3]), np.array([1e-6])
    # tanh: remainder = tanh''(s) t^2 / 2 + tanh'''(s) t^3 / 6 + O(t^4)
    T = np.tanh(0.3)
    expected = -2 * T * (1 - T**2) * 1e-12 / 2 - 2 * (1 - T**2) * (1 - 3 * T**2) * 1e-18 / 6
    assert wc.taylor_remainder("tanh", s, t)[0] == pytest.approx(expected, rel=1e-10)
    with pytest.raises(ValueError, match="shapes differ"):
        wc.taylor_remainder("tanh", np.ones(2), np.ones(3))


# --- symmetries: a weaker adversary breaks them ------------------------------------------------------
#
# The suprema are invariant under a -> -a (|f - f~| does not see the sign of the output) and, as the
# remainders only see |z| (ReLU) or sigma is odd up to a constant or a linear term (tanh, erf, sigmoid:
# sigma'' odd; softplus: sigma'' even), under z -> -z with t -> -t.  A structured adversary that tries
# only one output sign, or moves every unit in one direction instead of choosing per unit, loses the
# invariance: these tests catch it without comparing with any chapter.

def _symmetry_data(rng, m=300):
    z = rng.standard_normal(m)
    a = np.where(rng.random(m) < 0.5, -1.0, 1.0)
    return z, a


@pytest.mark.parametrize("B", [0.3, 2.0])
def test_relu_worst_cases_are_invariant_under_sign_flips(rng, B: float) -> None:
    z, a = _symmetry_data(rng)
    for fn in (wc.taylor_worst_case, wc.linearization_adversary):
        value = fn(z, a, B).value
        assert value > 0
        for zz, aa in [(z, -a), (-z, a), (-z, -a)]:
            assert fn(zz, aa, B).value == pytest.approx(value, rel=1e-13), (fn.__name__, B)
    # one output class only: the worst case over a is attained in the other class
    plus = a > 0
    assert wc.taylor_worst_case(z[plus], a[plus], B).value * np.sqrt(plus.sum()) <= (
        wc.taylor_worst_case(z, a, B).value * np.sqrt(z.size) * (1 + 1e-13))


@pytest.mark.parametrize("name", ["tanh", "erf", "sigmoid", "softplus"])
@pytest.mark.parametrize("B", [0.5, 3.0])
def test_smooth_adversary_is_invariant_under_sign_flips(rng, name: str, B: float) -> None:
    z, a = _symmetry_data(rng)
    value = wc.smooth_adversary(z, a, B, name).value
    assert value > 0
    for zz, aa in [(z, -a), (-z, a), (-z, -a)]:
        assert wc.smooth_adversary(zz, aa, B, name).value == pytest.approx(value, rel=1e-12), (name, B)


def test_adversary_weights_need_a_unit_input(rng) -> None:
    net, W0, x, z = _relu_net(rng, 20)
    adv = wc.taylor_worst_case(z, net.a, 1.0)
    W, _ = adv.weights(W0, x)
    assert np.linalg.norm(W - W0) == pytest.approx(1.0, rel=1e-12)
    for bad in (2 * x, x * (1 + 1e-9), np.zeros_like(x)):
        with pytest.raises(ValueError, match=r"x: expected a unit vector"):
            adv.weights(W0, bad)
