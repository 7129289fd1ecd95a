"""Inputs and targets."""

from __future__ import annotations

import numpy as np
import pytest

import ntklib


def test_sphere_and_domain(rng) -> None:
    S = ntklib.sphere(500, 4, rng)
    np.testing.assert_allclose(np.linalg.norm(S, axis=1), 1.0, rtol=1e-14)
    assert abs(S.mean(axis=0)).max() < 0.2
    D = ntklib.lecture_domain(300, 5, rng)
    np.testing.assert_allclose(np.linalg.norm(D, axis=1), 1.0, rtol=1e-14)
    np.testing.assert_allclose(D[:, -1], 1 / np.sqrt(5), rtol=1e-15)
    assert np.min(D @ D.T) > -1 + 2 / 5 - 1e-12        # x.x' >= -1 + 2/d: never antipodal
    with pytest.raises(ValueError, match="d=1"):
        ntklib.lecture_domain(3, 1, rng)


def test_circle_and_targets(rng) -> None:
    C = ntklib.circle(np.array([0.0, np.pi / 2]))
    np.testing.assert_allclose(C, [[1, 0], [0, 1]], atol=1e-16)
    X = ntklib.sphere(50, 3, rng)
    y = ntklib.targets(X, "smooth")
    assert y.shape == (50,) and np.all(np.isfinite(y))
    noisy = ntklib.targets(X, "rough", rng, noise=0.1)
    assert 0 < np.std(noisy - ntklib.targets(X, "rough")) < 0.2
    with pytest.raises(ValueError, match="kind='wiggly'"):
        ntklib.targets(X, "wiggly")
    with pytest.raises(ValueError, match="rng=None"):
        ntklib.targets(X, "smooth", noise=0.1)
    with pytest.raises(ValueError, match="noise=-1.0"):
        ntklib.targets(X, "smooth", rng, noise=-1.0)
