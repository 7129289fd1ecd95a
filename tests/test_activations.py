"""Activations: derivatives against finite differences, smoothness constants against a grid."""

from __future__ import annotations

import numpy as np
import pytest

import ntklib

SMOOTH = ["tanh", "sigmoid", "softplus", "erf", "identity"]


@pytest.mark.parametrize("name", SMOOTH)
def test_derivatives_match_central_differences(name: str) -> None:
    act = ntklib.get_activation(name)
    z = np.linspace(-6, 6, 2001)
    h = 1e-5
    d1_fd = (act.sigma(z + h) - act.sigma(z - h)) / (2 * h)
    d2_fd = (act.d1(z + h) - act.d1(z - h)) / (2 * h)
    # central differences have error O(h^2 * sup|f'''|) + O(eps/h): below 1e-8 here
    assert np.max(np.abs(d1_fd - act.d1(z))) < 1e-8
    assert np.max(np.abs(d2_fd - act.d2(z))) < 1e-8


@pytest.mark.parametrize("name", SMOOTH)
def test_smoothness_constant_is_the_supremum(name: str) -> None:
    act = ntklib.get_activation(name)
    z = np.linspace(-10, 10, 400_001)
    sup = np.max(np.abs(act.d2(z)))
    assert sup <= act.smoothness + 1e-12          # an upper bound ...
    assert sup >= act.smoothness - 1e-8           # ... that is attained (grid spacing 5e-5)


def test_relu_derivatives_and_identity() -> None:
    relu = ntklib.get_activation("relu")
    z = np.array([-2.0, -1e-300, 0.0, 1e-300, 3.0])
    assert relu.smoothness is None
    np.testing.assert_array_equal(relu.d1(z), [0, 0, 0, 1, 1])
    np.testing.assert_array_equal(relu.sigma(z), z * relu.d1(z))   # sigma(z) = z sigma'(z)


def test_softplus_is_stable_for_large_inputs() -> None:
    sp = ntklib.get_activation("softplus")
    z = np.array([-800.0, 800.0])
    np.testing.assert_allclose(sp.sigma(z), [0.0, 800.0], atol=1e-300)
    assert np.all(np.isfinite(sp.d1(z))) and np.all(np.isfinite(sp.d2(z)))


def test_lookup() -> None:
    act = ntklib.get_activation("tanh")
    assert ntklib.get_activation(act) is act
    assert set(ntklib.ACTIVATIONS) == {"relu", "tanh", "sigmoid", "softplus", "erf", "identity"}
    with pytest.raises(ValueError, match="activation='gelu'"):
        ntklib.get_activation("gelu")
    with pytest.raises(ValueError, match="activation=3"):
        ntklib.get_activation(3)  # type: ignore[arg-type]


def test_activation_constructor_validates_and_keeps_names_consistent() -> None:
    """Closed forms are chosen by name: a built-in name with other functions is refused."""
    tanh = ntklib.get_activation("tanh")
    with pytest.raises(ValueError, match="name='relu': the name of a built-in activation"):
        ntklib.Activation("relu", tanh.sigma, tanh.d1, tanh.d2, None)
    with pytest.raises(ValueError, match="name='tanh'"):
        ntklib.Activation("tanh", tanh.sigma, tanh.d1, tanh.d2, 1.0)          # a wrong smoothness constant
    for kwargs, arg in [(dict(name=""), "name"), (dict(name=3), "name"), (dict(sigma=None), "sigma"),
                        (dict(d1="tanh"), "d1"), (dict(smoothness=-1.0), "smoothness"),
                        (dict(smoothness=np.nan), "smoothness"), (dict(smoothness="1"), "smoothness")]:
        fields = {**dict(name="mine", sigma=tanh.sigma, d1=tanh.d1, d2=tanh.d2, smoothness=tanh.smoothness), **kwargs}
        with pytest.raises(ValueError, match=arg):
            ntklib.Activation(**fields)
    mine = ntklib.Activation("mine", tanh.sigma, tanh.d1, tanh.d2, tanh.smoothness)
    X = np.array([[0.6, 0.8], [1.0, 0.0]])
    np.testing.assert_allclose(ntklib.ntk_limit(X, activation=mine), ntklib.ntk_limit(X, activation="tanh"), rtol=1e-14)
    assert ntklib.Activation(**{f: getattr(tanh, f) for f in ("name", "sigma", "d1", "d2", "smoothness")}) == tanh


@pytest.mark.parametrize("name", sorted(ntklib.ACTIVATIONS))
def test_activation_functions_finite_and_silent_at_extreme_arguments(name: str) -> None:
    act = ntklib.get_activation(name)
    z = np.array([-np.finfo(float).max, -1e300, -1e20, -5e-324, 0.0, 5e-324, 1e20, 1e300, np.finfo(float).max])
    with np.errstate(over="raise", invalid="raise", divide="raise"):       # underflow to 0 is right
        for fn in (act.sigma, act.d1, act.d2):
            out = fn(z)
            assert out.shape == z.shape and np.all(np.isfinite(out)), (name, fn)
            assert np.array_equal(fn(list(z)), out)                       # lists are read as arrays
