"""Each bound's formula against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ntklib import bounds


def test_lemma5_values() -> None:
    assert bounds.lemma5(1.0, 2.0, 4) == pytest.approx(1.0 * 4.0 / (2 * 2))                # = 1
    assert bounds.lemma5(0.25, 1.0, 100, x_norm=2.0) == pytest.approx(0.25 * 4 * 1 / 20)   # = 0.05
    np.testing.assert_allclose(bounds.lemma5(2.0, np.array([1.0, 3.0]), 9), [1 / 3, 3.0])
    np.testing.assert_allclose(bounds.lemma5(2.0, np.array([1.0, 3.0]), np.array([1, 9])), [1.0, 3.0])
    assert bounds.lemma5(0.0, 5.0, 10) == 0.0


def test_lemma7_values() -> None:
    # B = 1, m = 64 (m^(1/6) = 2), delta = e^-16 (log(1/delta)^(1/4) = 2)
    delta = math.exp(-16)
    assert bounds.lemma7_taylor(1.0, 64, delta) == pytest.approx((2 + 2) / 2)
    assert bounds.lemma7_linearization(1.0, 64, delta) == pytest.approx((6 + 4) / 2)
    # B = 8: B^(4/3) = 16
    assert bounds.lemma7_taylor(8.0, 1, math.exp(-1)) == pytest.approx(2 * 16 + 8)
    assert bounds.lemma7_taylor(0.0, 10, 0.5) == 0.0


def test_theorem12_values() -> None:
    # L = 1, sigma_min = 2, sigma_max = 3, R0 = 2: sqrt(1152 * 9 * 2) / 8 = 144 / 8 = 18
    assert bounds.theorem12_alpha_threshold(1.0, 2.0, 3.0, 2.0) == pytest.approx(18.0)
    # 3 sqrt(8 * 9 * 2) / (alpha * 4) = 36 / (4 alpha)
    assert bounds.theorem12_displacement(3.0, 2.0, 3.0, 2.0) == pytest.approx(3.0)
    np.testing.assert_allclose(bounds.theorem12_risk(np.array([0.0, 1.0]), 1.0, 2.0, 5.0), [5.0, 5 * math.exp(-2)])


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: bounds.lemma5(-1.0, 1.0, 10), "L=-1.0"),
        (lambda: bounds.lemma5(1.0, -1.0, 10), "B=-1.0"),
        (lambda: bounds.lemma5(1.0, 1.0, 0), "m=0"),
        (lambda: bounds.lemma5(1.0, 1.0, 2.5), "m=2.5"),
        (lambda: bounds.lemma5(1.0, np.ones(2), np.ones(3)), "shapes differ"),
        (lambda: bounds.lemma7_taylor(1.0, 10, 1.0), "delta=1.0"),
        (lambda: bounds.lemma7_linearization(1.0, 10, 0.0), "delta=0.0"),
        (lambda: bounds.lemma7_taylor(float("nan"), 10, 0.1), "B"),
        (lambda: bounds.theorem12_alpha_threshold(1.0, 0.0, 1.0, 1.0), "sigma_min=0.0"),
        (lambda: bounds.theorem12_alpha_threshold(1.0, 2.0, 1.0, 1.0), "sigma_max=1.0"),
        (lambda: bounds.theorem12_risk(-1.0, 1.0, 1.0, 1.0), "t="),
        (lambda: bounds.theorem12_displacement(0.0, 1.0, 1.0, 1.0), "alpha=0.0"),
    ],
)
def test_bounds_refuse_bad_input(call, name: str) -> None:
    with pytest.raises(ValueError, match=name.replace("(", r"\(")):
        call()


def test_lemma7_proved_constants_and_counting() -> None:
    rho = np.sqrt(2 / np.pi)
    assert bounds.LEMMA7_TAYLOR_CONSTANT == pytest.approx(1.25 * rho ** (1 / 3))
    assert bounds.LEMMA7_LINEARIZATION_CONSTANT == pytest.approx(4.25 * rho ** (1 / 3))
    # the proved bounds imply the lecture's, for every width, radius and delta
    for m in (1, 10, 10**4, 10**8):
        for B in (1e-3, 0.5, 3.0):
            for delta in (1e-9, 0.05, 0.99):
                assert bounds.lemma7_taylor_proved(B, m, delta) <= bounds.lemma7_taylor(B, m, delta)
                assert bounds.lemma7_linearization_proved(B, m, delta) <= bounds.lemma7_linearization(B, m, delta)
    # at the proof's r with N_r at its mean rho m r, the count is the proved constant's term
    B, m = 1.3, 10**6
    r = bounds.lemma7_threshold(B, m)
    assert r == pytest.approx(B ** (2 / 3) * (rho * m) ** (-1 / 3))
    assert bounds.lemma7_counting(B, m, round(rho * m * r), r) == pytest.approx(
        bounds.LEMMA7_TAYLOR_CONSTANT * B ** (4 / 3) * m ** (-1 / 6), rel=1e-3)
    assert bounds.lemma7_counting(B, m, round(rho * m * r), r, "linearization") == pytest.approx(
        bounds.LEMMA7_LINEARIZATION_CONSTANT * B ** (4 / 3) * m ** (-1 / 6), rel=1e-3)
    with pytest.raises(ValueError, match="count"):
        bounds.lemma7_counting(1.0, 10, 11, 0.1)
    with pytest.raises(ValueError, match="inequality"):
        bounds.lemma7_counting(1.0, 10, 3, 0.1, "third")
