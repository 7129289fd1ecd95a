r"""Inputs and synthetic targets.

* :func:`~ntklib.sphere` — i.i.d. uniform points on :math:`S^{d-1}`;
* :func:`~ntklib.lecture_domain` — uniform points of the lecture's domain
  :math:`\mathcal X = \{x \in \mathbb{R}^d : \|x\|_2 = 1,\ x_d = 1/\sqrt d\}`;
* :func:`~ntklib.circle` — the points :math:`(\cos\theta, \sin\theta)`;
* :func:`~ntklib.targets` — regression targets :math:`y = g(x) + \varepsilon`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _validate as v

Array = NDArray[np.float64]

__all__ = ["sphere", "lecture_domain", "circle", "targets", "TARGETS"]



def sphere(n: int, d: int, rng: np.random.Generator) -> Array:
    r"""``n`` i.i.d. uniform points on the unit sphere :math:`S^{d-1} \subset \mathbb{R}^d`.

    Normalized standard Gaussian vectors (a zero vector has probability zero).

    Returns
    -------
    ndarray, shape (n, d)
    """
    n, d = v.integer("n", n), v.integer("d", d)
    g = v.generator(rng).standard_normal((n, d))
    return g / np.linalg.norm(g, axis=1, keepdims=True)


def lecture_domain(n: int, d: int, rng: np.random.Generator) -> Array:
    r"""``n`` i.i.d. points of :math:`\mathcal X = \{\|x\| = 1, x_d = 1/\sqrt d\}`, :math:`d \ge 2`.

    :math:`x = (\sqrt{1 - 1/d}\, u,\ 1/\sqrt d)` with :math:`u` uniform on :math:`S^{d-2}`
    (the normalized surface measure of this :math:`(d-2)`-sphere).  The fixed last coordinate
    acts as a bias; no two points of :math:`\mathcal X` are antipodal.

    Returns
    -------
    ndarray, shape (n, d)
    """
    n = v.integer("n", n)
    d = v.integer("d", d, minimum=2)
    u = sphere(n, d - 1, rng)
    return np.hstack([np.sqrt(1.0 - 1.0 / d) * u, np.full((n, 1), 1.0 / np.sqrt(d))])


def circle(theta: ArrayLike) -> Array:
    r"""Points :math:`(\cos\theta_i, \sin\theta_i)` on :math:`S^1`.

    Returns
    -------
    ndarray, shape (n, 2)
    """
    t = v.vector("theta", theta)
    return np.column_stack([np.cos(t), np.sin(t)])


def _smooth(X: Array) -> Array:
    d = X.shape[1]
    u = np.arange(1, d + 1) / np.sqrt(np.sum(np.arange(1, d + 1) ** 2))
    return np.sin(np.pi * X @ u) + 0.5 * np.cos(2.0 * X[:, 0])


def _rough(X: Array) -> Array:
    # 0.5 (x_d - x_1) as 0.5 x_d - 0.5 x_1: the same number (halving is exact), and no overflow
    return np.abs(X[:, 0]) - np.maximum(0.5 * X[:, -1] - 0.5 * X[:, 0], 0.0)


TARGETS = {"smooth": _smooth, "rough": _rough}
r"""Target functions :math:`g` by name: ``"smooth"``
:math:`g(x) = \sin(\pi u^\top x) + \tfrac12\cos(2x_1)` with :math:`u \propto (1, \dots, d)`, and
``"rough"`` :math:`g(x) = |x_1| - \tfrac12 (x_d - x_1)_+` (continuous, not differentiable)."""


def targets(X: ArrayLike, kind: str, rng: np.random.Generator | None = None, *, noise: float = 0.0) -> Array:
    r"""Regression targets :math:`y_i = g(x_i) + \varepsilon_i`, :math:`\varepsilon_i \sim N(0, \text{noise}^2)`.

    Parameters
    ----------
    X : array_like, shape (n, d)
    kind : {"smooth", "rough"}
        The target function, see :data:`~ntklib.data.TARGETS`.
    rng : numpy.random.Generator, optional
        Required when ``noise > 0``.
    noise : float
        Noise standard deviation, :math:`\ge 0`.

    Returns
    -------
    ndarray, shape (n,)
    """
    X = v.matrix("X", X)
    if not isinstance(kind, str) or kind not in TARGETS:     # a list would raise an unnamed TypeError
        raise ValueError(f"kind={kind!r}: expected one of {sorted(TARGETS)}")
    s = v.real("noise", noise, low=0.0)
    with np.errstate(over="ignore", invalid="ignore"):
        y = TARGETS[kind](X)
        if not np.all(np.isfinite(y)):
            raise ValueError(f"X: the {kind!r} target is not finite at inputs this large (max |x| = "
                             f"{float(np.max(np.abs(X))):.3g}); expected entries below about 1e307")
        if s > 0:
            y = y + s * v.generator(rng).standard_normal(X.shape[0])
            if not np.all(np.isfinite(y)):
                raise ValueError(f"noise={s!r}: the noisy targets exceed the float range (about 1.8e308)")
    return y
