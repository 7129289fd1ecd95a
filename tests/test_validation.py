"""Property-based tests: every public function refuses bad input with a ValueError naming the argument.

Each case fixes valid arguments, replaces one of them by a value drawn from a strategy of bad
values of its kind (wrong shape or dimension, NaN or inf, empty, wrong dtype: strings, bytes,
object and complex arrays, ragged lists; negative, zero or non-integral sizes; unknown names;
out-of-range numbers; objects of the wrong type), and requires a ValueError (or TypeError) whose
message names that argument as a word (``X=...``, ``m: ...``).  The cases cover everything in
``ntklib.__all__`` that takes arguments, the methods of the classes it exports, and the public
functions of ``ntklib.bounds`` and ``ntklib.worst_case`` the chapters call.

Every case's baseline call is first shown to accept a valid value (so each case tests the argument it
names).  Every bad input tried (hypothesis examples and explicit cases) is counted; the last test prints the total
and requires at least ``MIN_BAD_INPUTS`` when the whole module ran.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ntklib
from ntklib import bounds
from ntklib import worst_case as wc

G = ntklib.rng("validation")
NET, W0 = ntklib.init_network(6, 3, G, activation="tanh")
X = G.standard_normal((4, 3))
Y = np.zeros(4)
UNIT = np.ones(3) / np.sqrt(3)
FIT = ntklib.fit_loglog([1.0, 2.0, 3.0, 4.0], [1.0, 0.5, 0.3, 0.26])
ADV = wc.taylor_worst_case(0.1 * np.arange(1.0, 7.0), NET.a, 1.0)
ONES3 = np.ones(3)

BAD_INPUTS: Counter[str] = Counter()
"""Bad inputs tried, by case (hypothesis examples and explicit values)."""

CASES_RUN: set[str] = set()


# ---------------------------------------------------------------------------------------------
# Strategies of bad values, by kind
# ---------------------------------------------------------------------------------------------

def _poisoned(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    """A correctly shaped array with one NaN or inf entry."""
    size = int(np.prod(shape))
    return st.tuples(st.integers(0, size - 1), st.sampled_from([np.nan, np.inf, -np.inf])).map(
        lambda t: np.where(np.arange(size) == t[0], t[1], 0.5).reshape(shape)
    )


def _wrong_dtype(shape: tuple[int, ...]) -> st.SearchStrategy[Any]:
    size = int(np.prod(shape))
    return st.sampled_from([
        np.array(["a"] * size).reshape(shape),                       # strings
        np.array([b"a"] * size).reshape(shape),                      # bytes
        np.empty(shape, dtype=object),                               # object (None entries)
        np.full(shape, 0.5, dtype=object),                           # object holding floats
        np.ones(shape, dtype=complex),                               # complex
        np.full(shape, np.datetime64("2024-01-01")),                 # datetime
        np.array(["1.0"] * size).reshape(shape).tolist(),            # nested lists of strings
    ])


def bad_arrays(shape: tuple[int, ...], free: tuple[int, ...] = (), none_ok: bool = False) -> st.SearchStrategy[Any]:
    """Values that are not a finite float array of this shape; axes in ``free`` may have any length >= 1.

    Wrong number of dimensions (0-d, one more, one fewer), an empty axis, a wrong length on each
    fixed axis, one NaN/inf entry, wrong dtypes, non-arrays, ragged lists.  ``none_ok``: None is a
    valid value of this argument (e.g. ``Xp=None`` means ``Xp = X``).
    """
    candidates = [(), (*shape, 1), (0, *shape[1:])]
    if len(shape) == 2:
        candidates += [(shape[0],), (shape[0], 0), (1, 1, *shape)]
    else:
        candidates += [(shape[0], 1), (1, shape[0])]
    for axis in range(len(shape)):
        if axis not in free:
            for delta in (-1, 1):
                if shape[axis] + delta >= 1:
                    candidates.append(tuple(n + delta if i == axis else n for i, n in enumerate(shape)))
    others = ["abc", b"abc", {"a": 1}, [[1.0, 2.0], [1.0]], object()] + ([] if none_ok else [None])
    return st.one_of(
        _poisoned(shape),
        st.sampled_from(candidates).flatmap(lambda s: st.floats(-2, 2).map(lambda c: np.full(s, c))),
        _wrong_dtype(shape),
        st.sampled_from(others),
    )


def bad_ints(minimum: int = 1) -> st.SearchStrategy[Any]:
    """Not an integer >= minimum: too small, non-integral floats, integral floats, bools, strings, NaN, arrays."""
    return st.one_of(
        st.integers(-10**6, minimum - 1),
        st.floats(-1e6, 1e6).filter(lambda v: v != int(v)),
        st.sampled_from([None, "3", b"3", True, False, 2.0, np.float64(3.0), np.nan, np.inf, -np.inf,
                         complex(3, 0), np.array([3]), [3], np.array(3.5)]),
    )


def bad_reals(low: float | None = None, high: float | None = None, *, low_ok: bool = True,
              high_ok: bool = True, scalar_only: bool = True) -> st.SearchStrategy[Any]:
    """Not a finite real number in the interval from ``low`` to ``high`` (``low_ok``: ``low`` itself is
    valid): NaN, infinities, strings, bytes, None, complex, bools, out of range numbers, and (for scalar
    arguments) arrays and lists."""
    odd = [np.nan, np.inf, -np.inf, "1", b"1", None, complex(1, 1)]
    if scalar_only:
        odd += [np.array([1.0, 2.0]), True, [0.5]]
    parts: list[st.SearchStrategy[Any]] = [st.sampled_from(odd)]
    if low is not None:
        parts.append(st.floats(-1e300, low, exclude_max=low_ok, allow_nan=False))
    if high is not None:
        parts.append(st.floats(high, 1e300, exclude_min=high_ok, allow_nan=False))
    return st.one_of(*parts)


def bad_names(valid: Any) -> st.SearchStrategy[Any]:
    """Unknown names (including near misses: case, whitespace) and non-strings."""
    near = [n for v in valid for n in (v.upper(), f" {v}", f"{v} ", v[:-1], v + "s")]
    return st.one_of(
        st.text(max_size=12).filter(lambda s: s not in valid),
        st.sampled_from([n for n in near if n not in valid]),
        st.sampled_from([None, 3, 1.5, b"relu", ["relu"], np.array(["relu"])]),
    )


bad_rngs = st.sampled_from([None, 0, 2024, "rng", np.random.RandomState(0), np.random.SeedSequence(0),
                            np.random.default_rng, np.random.PCG64(0), 1.5])
bad_flags = st.sampled_from(["yes", "True", None, 2, 0, 1.0, np.nan, [True]])
bad_labels = st.sampled_from(["", "   ", None, 3, b"label", ["l"]])
bad_nets = st.sampled_from([None, "net", W0, (NET, W0), ntklib.get_activation("tanh"), 3])
widths = st.one_of(st.integers(-1000, 0), st.floats(0.5, 1e6).filter(lambda v: v != int(v)),
                   st.sampled_from([None, "3", np.nan, np.inf, -np.inf, complex(3, 0), np.array([0.5, 2.0])]))
bad_probs = st.one_of(st.floats(1.0, 1e6), st.floats(-1e6, 0.0),
                      st.sampled_from([np.nan, np.inf, None, "0.1", complex(0.1, 0), np.array([0.1, 0.2])]))
bad_nonneg = bad_reals(0.0)                         # < 0, NaN, inf, ...
bad_positive = bad_reals(0.0, low_ok=False)         # <= 0, NaN, inf, ...
bad_nonneg_entries = bad_reals(0.0, scalar_only=False)   # for array-like arguments: the same as scalars
bad_scales = st.one_of(bad_names(["ntk", "mean-field"]).filter(lambda v: not isinstance(v, (int, float)) or v <= 0),
                       bad_positive)
ACTS = sorted(ntklib.ACTIVATIONS)

# ---------------------------------------------------------------------------------------------
# (argument, call, strategy): one argument replaced by a bad value, the others valid
# ---------------------------------------------------------------------------------------------

CASES: list[tuple[str, Callable[[Any], Any], st.SearchStrategy[Any]]] = [
    # TwoLayerNet and its methods
    ("a", lambda v: ntklib.TwoLayerNet(v, "tanh", 1.0), st.one_of(
        bad_arrays((6,), free=(0,)), st.sampled_from([np.zeros(6), np.full(6, 0.5), np.array([1.0, -1.0, 2.0])]))),
    ("activation", lambda v: ntklib.TwoLayerNet(np.ones(6), v, 1.0), bad_names(ACTS)),
    ("alpha", lambda v: ntklib.TwoLayerNet(np.ones(6), "tanh", v), bad_positive),
    ("X", lambda v: NET.output(v, W0), bad_arrays((4, 3), free=(0,))),
    ("W", lambda v: NET.output(X, v), bad_arrays((6, 3))),
    ("x", lambda v: NET.grad(v, W0), bad_arrays((3,))),
    ("W", lambda v: NET.grad(ONES3, v), bad_arrays((6, 3))),
    ("X", lambda v: NET.jacobian(v, W0), bad_arrays((4, 3), free=(0,))),
    ("W", lambda v: NET.jacobian(X, v), bad_arrays((6, 3))),
    ("X", lambda v: NET.jvp(v, W0, W0), bad_arrays((4, 3), free=(0,))),
    ("W", lambda v: NET.jvp(X, v, W0), bad_arrays((6, 3))),
    ("V", lambda v: NET.jvp(X, W0, v), bad_arrays((6, 3))),
    ("X", lambda v: NET.vjp(v, W0, Y), bad_arrays((4, 3))),
    ("W", lambda v: NET.vjp(X, v, Y), bad_arrays((6, 3))),
    ("r", lambda v: NET.vjp(X, W0, v), bad_arrays((4,))),
    ("X", lambda v: NET.taylor(v, W0, W0), bad_arrays((4, 3), free=(0,))),
    ("W", lambda v: NET.taylor(X, v, W0), bad_arrays((6, 3))),
    ("W_ref", lambda v: NET.taylor(X, W0, v), bad_arrays((6, 3))),
    # init_network, output_scale
    ("m", lambda v: ntklib.init_network(v, 3, G), bad_ints()),
    ("d", lambda v: ntklib.init_network(4, v, G), bad_ints()),
    ("rng", lambda v: ntklib.init_network(4, 3, v), bad_rngs),
    ("activation", lambda v: ntklib.init_network(4, 3, G, activation=v), bad_names(ACTS)),
    ("scale", lambda v: ntklib.init_network(4, 3, G, scale=v), bad_scales),
    ("symmetric", lambda v: ntklib.init_network(4, 3, G, symmetric=v), bad_flags),
    ("m", lambda v: ntklib.init_network(v, 3, G, symmetric=True), st.integers(0, 500).map(lambda k: 2 * k + 1)),
    ("scale", lambda v: ntklib.output_scale(v, 4), bad_scales),
    ("m", lambda v: ntklib.output_scale("ntk", v), bad_ints()),
    # activations
    ("activation", lambda v: ntklib.get_activation(v), bad_names(ACTS)),
    # kernels
    ("X", lambda v: ntklib.ntk_gram(v, W=W0, activation="relu"), bad_arrays((4, 3), free=(0,))),
    ("Xp", lambda v: ntklib.ntk_gram(X, v, W=W0, activation="relu"), bad_arrays((4, 3), free=(0,), none_ok=True)),
    ("W", lambda v: ntklib.ntk_gram(X, W=v, activation="relu"), bad_arrays((6, 3), free=(0,))),
    ("activation", lambda v: ntklib.ntk_gram(X, W=W0, activation=v), bad_names(ACTS)),
    # outputs_at_init
    ("X", lambda v: ntklib.outputs_at_init(v, m=5, trials=3, activation="tanh", rng=G), bad_arrays((4, 3), free=(0, 1))),
    ("m", lambda v: ntklib.outputs_at_init(X, m=v, trials=3, activation="relu", rng=G), bad_ints()),
    ("trials", lambda v: ntklib.outputs_at_init(X, m=5, trials=v, activation="relu", rng=G), bad_ints()),
    ("activation", lambda v: ntklib.outputs_at_init(X, m=5, trials=3, activation=v, rng=G), bad_names(ACTS)),
    ("rng", lambda v: ntklib.outputs_at_init(X, m=5, trials=3, activation="relu", rng=v), bad_rngs),
    ("scale", lambda v: ntklib.outputs_at_init(X, m=5, trials=3, activation="relu", rng=G, scale=v), bad_scales),
    ("X", lambda v: ntklib.ntk_gram_at_init(v, m=5, activation="tanh", rng=G), bad_arrays((4, 3), free=(0, 1))),
    ("Xp", lambda v: ntklib.ntk_gram_at_init(X, v, m=5, activation="tanh", rng=G), bad_arrays((4, 3), free=(0,), none_ok=True)),
    ("m", lambda v: ntklib.ntk_gram_at_init(X, m=v, activation="relu", rng=G), bad_ints()),
    ("activation", lambda v: ntklib.ntk_gram_at_init(X, m=5, activation=v, rng=G), bad_names(ACTS)),
    ("rng", lambda v: ntklib.ntk_gram_at_init(X, m=5, activation="relu", rng=v), bad_rngs),
    ("X", lambda v: ntklib.ntk_limit(v, activation="tanh"), bad_arrays((4, 3), free=(0, 1))),
    ("Xp", lambda v: ntklib.ntk_limit(X, v, activation="relu"), bad_arrays((4, 3), free=(0,), none_ok=True)),
    ("activation", lambda v: ntklib.ntk_limit(X, activation=v), bad_names(ACTS)),
    ("quad_order", lambda v: ntklib.ntk_limit(X, activation="tanh", quad_order=v), st.one_of(bad_ints(2), st.integers(10**6, 10**12))),
    ("X", lambda v: ntklib.ntk_limit(v, activation="sigmoid"), st.floats(5.1, 1e300).map(lambda s: np.array([[s, 0.0]]))),
    ("X", lambda v: ntklib.relu_nngp(v), bad_arrays((4, 3), free=(0, 1))),
    ("Xp", lambda v: ntklib.relu_nngp(X, v), bad_arrays((4, 3), free=(0,), none_ok=True)),
    ("t", lambda v: ntklib.relu_ntk_unit(v), st.one_of(
        _poisoned((5,)), _wrong_dtype((5,)), st.sampled_from([None, "abc", [[0.5], [0.1, 0.2]]]),
        st.floats(1.0, 1e300, exclude_min=True).map(lambda s: np.array([0.0, s])),
        st.floats(-1e300, -1.0, exclude_max=True))),
    # data
    ("n", lambda v: ntklib.sphere(v, 3, G), bad_ints()),
    ("d", lambda v: ntklib.sphere(3, v, G), bad_ints()),
    ("rng", lambda v: ntklib.sphere(3, 3, v), bad_rngs),
    ("n", lambda v: ntklib.lecture_domain(v, 3, G), bad_ints()),
    ("d", lambda v: ntklib.lecture_domain(3, v, G), bad_ints(2)),
    ("rng", lambda v: ntklib.lecture_domain(3, 3, v), bad_rngs),
    ("theta", lambda v: ntklib.circle(v), bad_arrays((5,), free=(0,))),
    ("X", lambda v: ntklib.targets(v, "smooth"), bad_arrays((4, 3), free=(0, 1))),
    ("kind", lambda v: ntklib.targets(X, v), bad_names(["smooth", "rough"])),
    ("noise", lambda v: ntklib.targets(X, "smooth", G, noise=v), bad_nonneg),
    ("rng", lambda v: ntklib.targets(X, "rough", v, noise=0.1), bad_rngs),
    # seeding
    ("label", lambda v: ntklib.rng(v), bad_labels.filter(lambda v: v != "   ")),
    ("seed", lambda v: ntklib.rng("x", v), bad_ints(0).filter(lambda v: v is not None)),   # None: the default
    # stats
    ("failures", lambda v: ntklib.clopper_pearson_upper(v, 10), st.one_of(bad_ints(0), st.integers(11, 10**6))),
    ("trials", lambda v: ntklib.clopper_pearson_upper(0, v), bad_ints()),
    ("confidence", lambda v: ntklib.clopper_pearson_upper(0, 10, v), bad_probs),
    ("failures", lambda v: ntklib.clopper_pearson_lower(v, 10), st.one_of(bad_ints(0), st.integers(11, 10**6))),
    ("trials", lambda v: ntklib.clopper_pearson_lower(1, v), bad_ints()),
    ("confidence", lambda v: ntklib.clopper_pearson_lower(1, 10, v), bad_probs),
    ("x", lambda v: ntklib.fit_loglog(v, [1.0, 2.0, 3.0, 4.0]), st.one_of(
        bad_arrays((4,)), st.sampled_from([np.full(4, 2.0), np.array([-1.0, 2.0, 3.0, 4.0]), np.array([0.0, 1.0, 2.0, 3.0])]))),
    ("y", lambda v: ntklib.fit_loglog([1.0, 2.0, 3.0, 4.0], v), st.one_of(
        bad_arrays((4,)), st.sampled_from([np.array([0.0, 1.0, 1.0, 1.0]), np.array([1.0, -2.0, 3.0, 4.0])]))),
    ("x", lambda v: ntklib.fit_loglog(v, np.ones(np.shape(v))), st.sampled_from([[1.0, 2.0], np.ones(2), [3.0]])),   # N < 3
    ("confidence", lambda v: ntklib.fit_loglog([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 5.0], v), bad_probs),
    ("log_sd", lambda v: ntklib.fit_loglog([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 5.0], log_sd=v), st.one_of(
        bad_arrays((4,), none_ok=True), st.sampled_from([np.zeros(4), -np.ones(4)]))),
    ("samples", lambda v: ntklib.mean_ci(v), st.one_of(bad_arrays((5,), free=(0,)), st.sampled_from([np.ones(1), [2.0]]))),
    ("confidence", lambda v: ntklib.mean_ci(np.arange(5.0), v), bad_probs),
    ("x", lambda v: FIT.predict(v), st.one_of(_poisoned((3,)), _wrong_dtype((3,)), st.sampled_from([None, "abc"]))),
    # training
    ("net", lambda v: ntklib.mse(v, X, Y, W0), bad_nets),
    ("X", lambda v: ntklib.mse(NET, v, Y, W0), bad_arrays((4, 3))),
    ("y", lambda v: ntklib.mse(NET, X, v, W0), bad_arrays((4,))),
    ("W", lambda v: ntklib.mse(NET, X, Y, v), bad_arrays((6, 3))),
    ("net", lambda v: ntklib.mse_gradient(v, X, Y, W0), bad_nets),
    ("X", lambda v: ntklib.mse_gradient(NET, v, Y, W0), bad_arrays((4, 3))),
    ("y", lambda v: ntklib.mse_gradient(NET, X, v, W0), bad_arrays((4,))),
    ("W", lambda v: ntklib.mse_gradient(NET, X, Y, v), bad_arrays((6, 3))),
    ("net", lambda v: ntklib.train(v, X, Y, W0, steps=1, lr=0.1), bad_nets),
    ("X", lambda v: ntklib.train(NET, v, Y, W0, steps=1, lr=0.1), bad_arrays((4, 3))),
    ("y", lambda v: ntklib.train(NET, X, v, W0, steps=1, lr=0.1), bad_arrays((4,))),
    ("W0", lambda v: ntklib.train(NET, X, Y, v, steps=1, lr=0.1), bad_arrays((6, 3))),
    ("steps", lambda v: ntklib.train(NET, X, Y, W0, steps=v, lr=0.1), bad_ints()),
    ("lr", lambda v: ntklib.train(NET, X, Y, W0, steps=1, lr=v), bad_positive),
    ("method", lambda v: ntklib.train(NET, X, Y, W0, steps=1, lr=0.1, method=v), bad_names(["gd", "sgd", "noisy"])),
    ("batch_size", lambda v: ntklib.train(NET, X, Y, W0, steps=1, lr=0.1, method="sgd", batch_size=v, rng=G),
     st.one_of(bad_ints(), st.integers(5, 10**6))),
    ("noise_std", lambda v: ntklib.train(NET, X, Y, W0, steps=1, lr=0.1, method="noisy", noise_std=v, rng=G), bad_positive),
    ("rng", lambda v: ntklib.train(NET, X, Y, W0, steps=1, lr=0.1, method="sgd", batch_size=2, rng=v), bad_rngs),
    ("rng", lambda v: ntklib.train(NET, X, Y, W0, steps=1, lr=0.1, method="noisy", noise_std=0.1, rng=v), bad_rngs),
    ("record_every", lambda v: ntklib.train(NET, X, Y, W0, steps=1, lr=0.1, record_every=v), bad_ints()),
    # bounds
    ("L", lambda v: bounds.lemma5(v, 1.0, 10), bad_nonneg),
    ("B", lambda v: bounds.lemma5(1.0, v, 10), st.one_of(bad_nonneg_entries,
                                                         _poisoned((3,)), _wrong_dtype((3,)))),
    ("m", lambda v: bounds.lemma5(1.0, 1.0, v), widths),
    ("x_norm", lambda v: bounds.lemma5(1.0, 1.0, 10, v), bad_nonneg),
    ("B", lambda v: bounds.lemma5(1.0, np.ones(2), v), st.sampled_from([np.ones(3) * 4, np.ones((2, 1)) * 4])),   # shapes differ
    ("B", lambda v: bounds.lemma7_taylor(v, 10, 0.1), bad_nonneg_entries),
    ("m", lambda v: bounds.lemma7_taylor(1.0, v, 0.1), widths),
    ("delta", lambda v: bounds.lemma7_taylor(1.0, 10, v), bad_probs),
    ("B", lambda v: bounds.lemma7_linearization(v, 10, 0.1), bad_nonneg_entries),
    ("m", lambda v: bounds.lemma7_linearization(1.0, v, 0.1), widths),
    ("delta", lambda v: bounds.lemma7_linearization(1.0, 10, v), bad_probs),
    ("L", lambda v: bounds.theorem12_alpha_threshold(v, 1.0, 2.0, 1.0), bad_nonneg),
    ("sigma_min", lambda v: bounds.theorem12_alpha_threshold(1.0, v, 2.0, 1.0), bad_positive),
    ("sigma_max", lambda v: bounds.theorem12_alpha_threshold(1.0, 1.0, v, 1.0), st.one_of(bad_positive, st.floats(0.01, 0.99))),
    ("R0", lambda v: bounds.theorem12_alpha_threshold(1.0, 1.0, 2.0, v), bad_nonneg),
    ("t", lambda v: bounds.theorem12_risk(v, 1.0, 1.0, 1.0), st.one_of(
        bad_nonneg_entries, _poisoned((3,)), _wrong_dtype((3,)),
        st.floats(-1e6, -1e-9).map(lambda s: np.array([0.0, s])))),
    ("alpha", lambda v: bounds.theorem12_risk(1.0, v, 1.0, 1.0), bad_positive),
    ("sigma_min", lambda v: bounds.theorem12_risk(1.0, 1.0, v, 1.0), bad_positive),
    ("R0", lambda v: bounds.theorem12_risk(1.0, 1.0, 1.0, v), bad_nonneg),
    ("alpha", lambda v: bounds.theorem12_displacement(v, 1.0, 2.0, 1.0), bad_positive),
    ("sigma_min", lambda v: bounds.theorem12_displacement(1.0, v, 2.0, 1.0), bad_positive),
    ("sigma_max", lambda v: bounds.theorem12_displacement(1.0, 1.0, v, 1.0), st.one_of(bad_positive, st.floats(0.01, 0.99))),
    ("R0", lambda v: bounds.theorem12_displacement(1.0, 1.0, 2.0, v), bad_nonneg),
    # worst cases
    ("n", lambda v: wc.smallest_abs_normals(v, 1, G), bad_ints()),
    ("k", lambda v: wc.smallest_abs_normals(5, v, G), st.one_of(bad_ints(), st.integers(6, 10**6))),
    ("rng", lambda v: wc.smallest_abs_normals(5, 1, v), bad_rngs),
    ("c", lambda v: wc.taylor_sup(v, 1.0), st.one_of(
        _poisoned((4,)), _wrong_dtype((4,)), st.sampled_from([np.ones((2, 2)), "abc", np.array([0.5, 0.1]), np.array([-0.1, 0.2])]))),
    ("B", lambda v: wc.taylor_sup(np.ones(3), v), bad_nonneg),
    ("z", lambda v: wc.taylor_worst_case(v, NET.a, 1.0), bad_arrays((6,), free=(0,))),
    ("a", lambda v: wc.taylor_worst_case(np.ones(6), v, 1.0), st.one_of(bad_arrays((6,)), st.sampled_from([np.zeros(6), np.full(6, 2.0)]))),
    ("B", lambda v: wc.taylor_worst_case(np.ones(6), NET.a, v), bad_nonneg),
    ("z", lambda v: wc.linearization_adversary(v, NET.a, 1.0), bad_arrays((6,), free=(0,))),
    ("a", lambda v: wc.linearization_adversary(np.ones(6), v, 1.0), bad_arrays((6,))),
    ("B", lambda v: wc.linearization_adversary(np.ones(6), NET.a, v), bad_nonneg),
    ("m", lambda v: wc.sampled_worst_cases(v, 1.0, 2, G), bad_ints()),
    ("B", lambda v: wc.sampled_worst_cases(10, v, 2, G), bad_nonneg),
    ("draws", lambda v: wc.sampled_worst_cases(10, 1.0, v, G), bad_ints()),
    ("rng", lambda v: wc.sampled_worst_cases(10, 1.0, 2, v), bad_rngs),
    ("z", lambda v: wc.smooth_adversary(v, NET.a, 1.0, "tanh"), bad_arrays((6,), free=(0,))),
    ("a", lambda v: wc.smooth_adversary(np.ones(6), v, 1.0, "tanh"), bad_arrays((6,))),
    ("B", lambda v: wc.smooth_adversary(np.ones(6), NET.a, v, "tanh"), bad_nonneg),
    ("activation", lambda v: wc.smooth_adversary(np.ones(6), NET.a, 1.0, v), st.one_of(bad_names(ACTS), st.just("relu"))),
    ("max_units", lambda v: wc.smooth_adversary(np.ones(6), NET.a, 1.0, "tanh", max_units=v), bad_ints()),
    ("W0", lambda v: ADV.weights(v, UNIT), bad_arrays((6, 3), free=(1,))),
    ("x", lambda v: ADV.weights(W0, v), bad_arrays((3,))),
    # checks (written against the checks.py API of this revision)
    ("label", lambda v: ntklib.check(v, ONES3, ONES3, statistic="s"), bad_labels),
    ("empirical", lambda v: ntklib.check("v", v, ONES3, statistic="s"), bad_arrays((3,))),
    ("bound", lambda v: ntklib.check("v", ONES3, v, statistic="s"), bad_arrays((3,))),
    ("statistic", lambda v: ntklib.check("v", ONES3, ONES3, statistic=v), bad_labels),
    ("atol", lambda v: ntklib.check("v", ONES3, ONES3, statistic="s", atol=v), bad_nonneg),
    ("estimate", lambda v: ntklib.check_agreement("v", v, ONES3, ONES3, statistic="s"), bad_arrays((3,))),
    ("stderr", lambda v: ntklib.check_agreement("v", ONES3, v, ONES3, statistic="s"), st.one_of(
        bad_arrays((3,)), st.sampled_from([np.zeros(3), -ONES3]))),
    ("exact", lambda v: ntklib.check_agreement("v", ONES3, ONES3, v, statistic="s"), bad_arrays((3,))),
    ("false_failure", lambda v: ntklib.check_agreement("v", ONES3, ONES3, ONES3, statistic="s", false_failure=v), bad_probs),
    ("computed", lambda v: ntklib.check_identity("v", v, ONES3, ONES3, statistic="s"), bad_arrays((3,))),
    ("tol", lambda v: ntklib.check_identity("v", ONES3, ONES3, v, statistic="s"), st.one_of(
        bad_arrays((3,)), st.just(-ONES3))),
    ("empirical", lambda v: ntklib.check_failure_rate("v", v, ONES3, 0.1, statistic="s"), bad_arrays((3, 100), free=(0, 1))),
    ("bound", lambda v: ntklib.check_failure_rate("v", np.zeros((3, 100)), v, 0.1, statistic="s"), st.one_of(
        bad_arrays((3,)), st.just(np.zeros(3)))),
    ("delta", lambda v: ntklib.check_failure_rate("v", np.zeros((3, 100)), ONES3, v, statistic="s"), bad_probs),
    ("fit", lambda v: ntklib.check_slope("v", v, 1.0, statistic="s"), st.sampled_from([None, "fit", 1.0, (1.0, 2.0)])),
    ("exponent", lambda v: ntklib.check_slope("v", FIT, v, statistic="s"), bad_reals()),
    ("mode", lambda v: ntklib.check_slope("v", FIT, 1.0, statistic="s", mode=v), bad_names(["at_most", "equal", "below"])),
    ("allowance", lambda v: ntklib.check_slope("v", FIT, FIT.slope, statistic="s", mode="equal", allowance=v), bad_reals(low=0.0)),
    ("level", lambda v: ntklib.check_test("v", [np.linspace(0.01, 0.99, 20)], lambda q: q, level=v, statistic="s"), bad_probs),
]


GOOD: list[Any] = [
    np.ones(6), "tanh", 1.0, X, W0, ONES3, W0, X, W0, X, W0, W0, X, W0, Y, X, W0, W0,          # 0-17 network
    4, 3, G, "tanh", "ntk", True, 4, "mean-field", 4, "relu",                                   # 18-27
    X, None, W0, "relu",                                                                        # 28-31 kernels
    X, 5, 3, "relu", G, "mean-field",                                                           # 32-37 outputs_at_init
    X, None, 5, "relu", G, X, None, "erf", 20, np.array([[2.0, 0.0]]),                          # 38-47
    X, None, np.array([0.5, -1.0]),                                                             # 48-50
    3, 3, G, 3, 2, G, np.zeros(5), X, "rough", 0.0, G, "x", 0,                                   # 51-63 data, seeding
    0, 10, 0.5, 10, 1, 0.5, np.array([1.0, 2.0, 3.0, 5.0]), np.array([1.0, 2.0, 3.0, 4.0]),     # 64-71 stats
    [1.0, 2.0, 4.0], 0.9, np.ones(4), np.arange(5.0), 0.9, np.ones(3),                          # 72-77
    NET, X, Y, W0, NET, X, Y, W0, NET, X, Y, W0, 1, 0.1, "gd", 2, 0.1, G, G, 1,                 # 78-97 training
    0.5, 1.0, 10, 1.0, np.ones(2) * 4, 1.0, 10, 0.1, 1.0, 10, 0.1,                              # 98-108 bounds
    1.0, 1.0, 2.0, 1.0, np.ones(3), 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 1.0,                          # 109-120
    5, 1, G, np.array([0.1, 0.2]), 1.0, np.ones(6), NET.a, 1.0, np.ones(6), NET.a, 1.0,         # 121-131 worst cases
    10, 1.0, 2, G, np.ones(6), NET.a, 1.0, "tanh", 8, W0, UNIT,                                 # 132-142
    "v", ONES3, ONES3, "s", 0.0, ONES3, ONES3, ONES3, 1e-3, ONES3, ONES3,                       # 143-153 checks
    np.zeros((3, 100)), ONES3, 0.1, FIT, 1.0, "at_most", 0.02, 0.01,                            # 154-161
]
"""A valid value for each case's argument: the baseline call must accept it (else the case tests nothing)."""


def _names_argument(arg: str, message: str) -> bool:
    """``arg`` appears in the message as a word (not inside another identifier)."""
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(arg)}(?![A-Za-z0-9_])", message) is not None


def _expect_refusal(case: str, arg: str, call: Callable[[Any], Any], value: Any) -> None:
    BAD_INPUTS[case] += 1
    with pytest.raises((ValueError, TypeError)) as info:
        out = call(value)
        pytest.fail(f"accepted bad {arg}={value!r:.80}, returned {out!r:.80}")
    message = str(info.value)
    assert _names_argument(arg, message), f"{arg}={value!r:.60}: message does not name {arg!r}: {message}"


IDS = [f"{i}-{c[0]}" for i, c in enumerate(CASES)]


@pytest.mark.parametrize(("case", "arg", "call", "strategy"), [(i, *c) for i, c in zip(IDS, CASES)], ids=IDS)
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_bad_input_raises_naming_the_argument(case: str, arg: str, call: Callable[[Any], Any], strategy, data) -> None:
    _expect_refusal(case, arg, call, data.draw(strategy, label=arg))
    CASES_RUN.add(case)


@pytest.mark.parametrize(("case", "arg", "call", "good"),
                         [(i, c[0], c[1], g) for i, c, g in zip(IDS, CASES, GOOD)], ids=IDS)
def test_case_baseline_accepts_a_valid_value(case: str, arg: str, call: Callable[[Any], Any], good: Any) -> None:
    assert len(GOOD) == len(CASES)
    call(good)


# ---------------------------------------------------------------------------------------------
# Explicit cases
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw", ["-1", "abc", "1.5", "0x10", "1e3", " - 3"])
def test_bad_seed_environment_variable(raw: str) -> None:
    old = os.environ.get("NTKLIB_SEED")
    os.environ["NTKLIB_SEED"] = raw
    try:
        _expect_refusal("env-NTKLIB_SEED", "NTKLIB_SEED", lambda _: ntklib.base_seed(), raw)
        _expect_refusal("env-NTKLIB_SEED", "NTKLIB_SEED", lambda _: ntklib.rng("x"), raw)
    finally:
        if old is None:
            os.environ.pop("NTKLIB_SEED", None)
        else:
            os.environ["NTKLIB_SEED"] = old


def test_mismatched_pairs_name_one_of_the_arguments() -> None:
    """Arguments that are only wrong together: the message names the one checked against the other."""
    pairs: list[tuple[str, Callable[[Any], Any], Any]] = [
        ("Xp", lambda v: ntklib.ntk_limit(X, v, activation="tanh"), np.ones((2, 4))),
        ("Xp", lambda v: ntklib.ntk_gram_at_init(X, v, m=3, activation="relu", rng=G), np.ones((2, 2))),
        ("W", lambda v: ntklib.ntk_gram(X, W=v, activation="tanh"), np.ones((6, 4))),
        ("a", lambda v: wc.taylor_worst_case(np.ones(5), v, 1.0), np.ones(6)),
        ("x", lambda v: ADV.weights(np.ones((6, 4)), v), UNIT),
        ("y", lambda v: ntklib.fit_loglog([1.0, 2.0, 3.0], v), [1.0, 2.0, 3.0, 4.0]),
        ("log_sd", lambda v: ntklib.fit_loglog([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], log_sd=v), np.ones(4)),
        ("W", lambda v: NET.output(np.ones((2, 4)), v), W0),
        ("r", lambda v: NET.vjp(np.ones((2, 3)), W0, v), Y),
        ("batch_size", lambda v: ntklib.train(NET, X, Y, W0, steps=1, lr=0.1, method="sgd", rng=G), None),
        ("m", lambda v: bounds.lemma7_taylor(np.ones(2), v, 0.1), np.ones(3) * 4),
        ("k", lambda v: wc.smallest_abs_normals(3, v, G), 4),
        ("failures", lambda v: ntklib.clopper_pearson_upper(v, 3), 4),
        ("empirical", lambda v: ntklib.check("v", v, np.ones(4), statistic="s"), ONES3),
    ]
    for arg, call, value in pairs:
        _expect_refusal("mismatched-pairs", arg, call, value)


# rate_plot's non-array arguments.
PLOT_GAPS = [
    ("ax", None), ("ax", "axes"), ("fit", "fit"), ("fit", 3), ("label", None), ("label", 3),
]


@pytest.mark.filterwarnings("ignore:No artists with labels")
@pytest.mark.parametrize(("arg", "value"), PLOT_GAPS, ids=[f"{a}={v!r}" for a, v in PLOT_GAPS])
def test_rate_plot_refuses_bad_arguments(arg: str, value: Any) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    kwargs = {"label": "a"}
    try:
        if arg == "ax":
            call = lambda v: ntklib.rate_plot(v, [1.0, 2.0, 3.0], [1.0, 2.0, 3.0], **kwargs)   # noqa: E731
        else:
            call = lambda v: ntklib.rate_plot(ax, [1.0, 2.0, 3.0], [1.0, 2.0, 3.0], **{**kwargs, arg: v})   # noqa: E731
        _expect_refusal("rate_plot-arguments", arg, call, value)
    finally:
        plt.close(fig)


@pytest.mark.parametrize(("arg", "value"), [
    ("x", np.array([1.0, np.nan, 3.0])), ("x", np.ones(3, dtype=complex)), ("x", np.zeros((3, 1))), ("x", np.ones(0)),
    ("y", np.array([1.0, 2.0])), ("y", np.array(["a", "b", "c"])), ("bound", np.array([1.0, np.inf, 1.0])),
    ("x", np.array([0.0, 1.0, 2.0])), ("y", np.array([1.0, -1.0, 1.0])),
])
def test_rate_plot_validates_its_arrays(arg: str, value: Any) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    try:
        base = {"x": [1.0, 2.0, 3.0], "y": [1.0, 2.0, 3.0], "bound": None}
        base[arg] = value
        _expect_refusal("rate_plot-arrays", arg,
                        lambda _: ntklib.rate_plot(ax, base["x"], base["y"], label="a", bound=base["bound"]), value)
    finally:
        plt.close(fig)


# ---------------------------------------------------------------------------------------------
# Valid input: correct shapes and finite values (nothing wrong passes silently the other way)
# ---------------------------------------------------------------------------------------------

@given(st.integers(1, 6), st.integers(1, 5), st.integers(1, 40), st.integers(1, 3))
@settings(max_examples=30, deadline=None)
def test_valid_shapes_give_correct_shapes(n: int, d: int, m: int, n2: int) -> None:
    g = ntklib.rng(f"shapes-{n}-{d}-{m}-{n2}")
    net, W = ntklib.init_network(m, d, g, activation="softplus")
    Xs, Xq = g.standard_normal((n, d)), g.standard_normal((n2, d))
    assert net.output(Xs, W).shape == (n,)
    assert net.grad(Xs[0], W).shape == (m, d)
    assert net.jacobian(Xs, W).shape == (n, m * d)
    assert net.jvp(Xs, W, W).shape == (n,)
    assert net.vjp(Xs, W, np.ones(n)).shape == (m, d)
    assert net.taylor(Xs, W, W).shape == (n,)
    assert ntklib.ntk_gram(Xs, W=W, activation="softplus").shape == (n, n)
    assert ntklib.ntk_gram(Xs, Xq, W=W, activation="relu").shape == (n, n2)
    assert ntklib.ntk_gram_at_init(Xs, Xq, m=m, activation="relu", rng=g).shape == (n, n2)
    assert ntklib.ntk_limit(Xs, Xs[:1], activation="relu").shape == (n, 1)
    assert ntklib.relu_nngp(Xs, Xq).shape == (n, n2)
    assert ntklib.mse_gradient(net, Xs, np.zeros(n), W).shape == (m, d)
    for K in (ntklib.ntk_limit(Xs, activation="sigmoid"), ntklib.ntk_limit(Xs, Xq, activation="erf"), ntklib.relu_nngp(Xs)):
        assert np.all(np.isfinite(K))
    z = W @ (Xs[0] / max(np.linalg.norm(Xs[0]), 1e-300))
    for adv in (wc.taylor_worst_case(z, net.a, 1.0), wc.linearization_adversary(z, net.a, 1.0),
                wc.smooth_adversary(z, net.a, 1.0, "softplus")):
        assert adv.t.shape == (m,) and np.isfinite(adv.value) and adv.value >= 0
    assert np.shape(bounds.lemma5(1.0, np.ones(n), m)) == (n,)
    assert np.shape(bounds.theorem12_risk(np.ones(n2), 1.0, 1.0, 1.0)) == (n2,)


# ---------------------------------------------------------------------------------------------
# The count (keep this test last in the module)
# ---------------------------------------------------------------------------------------------

MIN_BAD_INPUTS = 2500


def test_zz_report_bad_input_count(capsys) -> None:
    total = sum(BAD_INPUTS.values())
    with capsys.disabled():
        print(f"\n[test_validation] bad inputs tried: {total} "
              f"({sum(v for k, v in BAD_INPUTS.items() if k in CASES_RUN)} hypothesis examples over "
              f"{len(CASES_RUN)} of {len(CASES)} argument cases, {total - sum(BAD_INPUTS[k] for k in CASES_RUN)} explicit)")
    if len(CASES_RUN) < len(CASES):
        pytest.skip(f"only {len(CASES_RUN)} of {len(CASES)} cases ran (a subset was selected): no minimum to check")
    assert total >= MIN_BAD_INPUTS, total
