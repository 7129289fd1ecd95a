"""Property-based tests: every public function refuses bad input with a ValueError naming the argument.

Each case fixes valid arguments, replaces one of them by a value drawn from a strategy of bad
values of its kind (wrong shape or dimension, NaN or inf, empty, wrong dtype, strings, out of
range), and requires a ValueError (or TypeError) whose message names that argument.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ntklib
from ntklib import bounds

G = ntklib.rng("validation")
NET, W0 = ntklib.init_network(6, 3, G, activation="tanh")
X = G.standard_normal((4, 3))

finite = st.floats(-10, 10, allow_nan=False)


def _poisoned(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    """A correctly shaped array with one NaN or inf entry."""
    size = int(np.prod(shape))
    return st.tuples(st.integers(0, size - 1), st.sampled_from([np.nan, np.inf, -np.inf])).map(
        lambda t: np.where(np.arange(size) == t[0], t[1], 0.5).reshape(shape)
    )


def bad_arrays(shape: tuple[int, ...], free: tuple[int, ...] = ()) -> st.SearchStrategy[Any]:
    """Values that are not a finite float array of this shape; axes in ``free`` may have any length >= 1."""
    candidates = [(), (shape[0], 1, 1), (0, *shape[1:])]
    if len(shape) == 2:
        candidates += [(shape[0],), (shape[0], 0)]
    else:
        candidates += [(shape[0], 1)]
    for axis in range(len(shape)):
        if axis not in free:
            candidates.append(tuple(n + 1 if i == axis else n for i, n in enumerate(shape)))
    return st.one_of(
        _poisoned(shape),
        st.sampled_from(candidates).map(lambda s: np.ones(s)),
        st.sampled_from([None, "abc", np.array(["a"] * int(np.prod(shape))).reshape(shape),
                         np.ones(shape, dtype=complex), np.empty(shape, dtype=object)]),
    )


bad_ints = st.one_of(st.integers(-1000, 0), st.floats(0.5, 1e6).filter(lambda v: v != int(v)),
                     st.sampled_from([None, "3", True, 2.0, np.nan]))
bad_widths = st.one_of(st.integers(-1000, 0), st.floats(0.5, 1e6).filter(lambda v: v != int(v)),
                       st.sampled_from([None, "3", np.nan, np.inf]))
bad_probs = st.one_of(st.floats(1.0, 1e6), st.floats(-1e6, 0.0), st.sampled_from([np.nan, np.inf, None, "0.1"]))
bad_nonneg = st.one_of(st.floats(-1e6, -1e-9), st.sampled_from([np.nan, -np.inf, np.inf, "1"]))
bad_names = st.text(min_size=0, max_size=12).filter(lambda s: s not in ntklib.ACTIVATIONS)

CASES: list[tuple[str, Callable[[Any], Any], st.SearchStrategy[Any]]] = [
    ("X", lambda v: NET.output(v, W0), bad_arrays((4, 3), free=(0,))),
    ("W", lambda v: NET.output(X, v), bad_arrays((6, 3))),
    ("x", lambda v: NET.grad(v, W0), bad_arrays((3,))),
    ("V", lambda v: NET.jvp(X, W0, v), bad_arrays((6, 3))),
    ("r", lambda v: NET.vjp(X, W0, v), bad_arrays((4,))),
    ("W_ref", lambda v: NET.taylor(X, W0, v), bad_arrays((6, 3))),
    ("X", lambda v: ntklib.ntk_gram(v, W=W0, activation="relu"), bad_arrays((4, 3), free=(0,))),
    ("Xp", lambda v: ntklib.ntk_limit(X, v, activation="relu"),
     bad_arrays((4, 3), free=(0,)).filter(lambda v: v is not None)),   # None means "Xp = X"
    ("W", lambda v: ntklib.ntk_gram(X, W=v, activation="relu"), bad_arrays((6, 3), free=(0,))),
    ("m", lambda v: ntklib.ntk_gram_at_init(X, m=v, activation="relu", rng=G), bad_ints),
    ("m", lambda v: ntklib.init_network(v, 3, G), bad_ints),
    ("d", lambda v: ntklib.init_network(4, v, G), bad_ints),
    ("n", lambda v: ntklib.sphere(v, 3, G), bad_ints),
    ("activation", lambda v: ntklib.get_activation(v), bad_names),
    ("activation", lambda v: ntklib.ntk_limit(X, activation=v), bad_names),
    ("delta", lambda v: bounds.lemma7_taylor(1.0, 10, v), bad_probs),
    ("delta", lambda v: bounds.lemma7_linearization(1.0, 10, v), bad_probs),
    ("B", lambda v: bounds.lemma5(1.0, v, 10), bad_nonneg),
    ("B", lambda v: bounds.lemma7_taylor(v, 10, 0.1), bad_nonneg),
    ("m", lambda v: bounds.lemma5(1.0, 1.0, v), bad_widths),
    ("L", lambda v: bounds.lemma5(v, 1.0, 10), bad_nonneg),
    ("R0", lambda v: bounds.theorem12_alpha_threshold(1.0, 1.0, 2.0, v), bad_nonneg),
    ("t", lambda v: bounds.theorem12_risk(v, 1.0, 1.0, 1.0), bad_nonneg),
    ("confidence", lambda v: ntklib.clopper_pearson_upper(0, 10, v), bad_probs),
    ("trials", lambda v: ntklib.clopper_pearson_upper(0, v), bad_ints),
    ("y", lambda v: ntklib.fit_loglog([1.0, 2.0, 3.0, 4.0], v), bad_arrays((4,))),
    ("empirical", lambda v: ntklib.check("v", v, np.ones(3), statistic="s"), bad_arrays((3,))),
    ("theta", lambda v: ntklib.circle(v), bad_arrays((5,), free=(0,))),
    ("y", lambda v: ntklib.mse(NET, X, v, W0), bad_arrays((4,))),
    ("lr", lambda v: ntklib.train(NET, X, np.zeros(4), W0, steps=1, lr=v), bad_nonneg.filter(lambda v: v != np.inf)),
    ("steps", lambda v: ntklib.train(NET, X, np.zeros(4), W0, steps=v, lr=0.1), bad_ints),
    ("pvalues", lambda v: ntklib.check_test("v", v, level=0.1, statistic="s"),
     st.one_of(_poisoned((3,)), st.sampled_from([np.ones(0), np.array([0.5, 1.5]), np.array([-0.1]), None, "p"]))),
]


@pytest.mark.parametrize(("arg", "call", "strategy"), CASES, ids=[f"{i}-{c[0]}" for i, c in enumerate(CASES)])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_bad_input_raises_naming_the_argument(arg: str, call: Callable[[Any], Any], strategy, data) -> None:
    value = data.draw(strategy, label=arg)
    with pytest.raises((ValueError, TypeError)) as info:
        call(value)
    message = str(info.value)
    assert arg in message or arg.lower() in message.lower(), message


@given(st.integers(1, 6), st.integers(1, 5), st.integers(1, 40))
@settings(max_examples=30, deadline=None)
def test_valid_shapes_give_correct_shapes(n: int, d: int, m: int) -> None:
    g = ntklib.rng(f"shapes-{n}-{d}-{m}")
    net, W = ntklib.init_network(m, d, g, activation="softplus")
    Xs = g.standard_normal((n, d))
    assert net.output(Xs, W).shape == (n,)
    assert net.jacobian(Xs, W).shape == (n, m * d)
    assert net.vjp(Xs, W, np.ones(n)).shape == (m, d)
    assert ntklib.ntk_gram(Xs, W=W, activation="softplus").shape == (n, n)
    assert ntklib.ntk_limit(Xs, Xs[:1], activation="relu").shape == (n, 1)
    assert np.all(np.isfinite(ntklib.ntk_limit(Xs, activation="sigmoid")))
