r"""Training the first layer: the empirical risk, its gradient, and GD, SGD and noisy GD.

The loss of the lecture's Section 3 is the mean squared error

.. math:: \mathcal L(W) = \frac1n\sum_{i=1}^n \big(y_i - f(x_i; W)\big)^2,
          \qquad \nabla_W \mathcal L(W) = -\frac2n\, J_W^\top (y - f(W)),

computed through :meth:`~ntklib.TwoLayerNet.vjp` (no Jacobian is formed).  :func:`~ntklib.train` runs

* ``"gd"``: :math:`W_k = W_{k-1} - \eta\,\nabla\mathcal L(W_{k-1})` (the gradient at the current
  iterate);
* ``"sgd"``: the same with the loss of a minibatch of ``batch_size`` points drawn uniformly
  without replacement at every step, an unbiased estimate of the full gradient;
* ``"noisy"``: GD with centred Gaussian noise added to the gradient,
  :math:`W_k = W_{k-1} - \eta\,(\nabla\mathcal L(W_{k-1}) + \xi_k)` with
  :math:`\xi_k \sim N(0, \text{noise\_std}^2 I)` independent of the past: the noise in the update
  is :math:`\eta\,\xi_k` (standard deviation :math:`\eta\cdot\text{noise\_std}`, not
  :math:`\sqrt\eta\cdot\text{noise\_std}` as in a Langevin discretization).  Concretely
  :math:`\xi_k = -\text{noise\_std}\cdot Z_k`, where :math:`Z_k` is the :math:`k`-th array of shape
  :math:`(m, d)` that ``rng.standard_normal`` draws, so a run can be replayed from the same stream:
  ``W -= lr * grad; W += lr * noise_std * rng.standard_normal(W.shape)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _validate as v
from .network import TwoLayerNet, _finite

Array = NDArray[np.float64]

__all__ = ["mse", "mse_gradient", "TrainResult", "train", "METHODS"]

METHODS = ("gd", "sgd", "noisy")


def _data(net: TwoLayerNet, X: ArrayLike, y: ArrayLike) -> tuple[Array, Array]:
    if not isinstance(net, TwoLayerNet):
        raise ValueError(f"net={v._describe(net)}: expected a TwoLayerNet (from ntklib.init_network)")
    X = v.matrix("X", X)
    y = v.vector("y", y, length=X.shape[0], of="X")
    return X, y


def mse(net: TwoLayerNet, X: ArrayLike, y: ArrayLike, W: ArrayLike) -> float:
    r"""Mean squared error :math:`\frac1n\sum_i (y_i - f(x_i; W))^2`.

    Parameters
    ----------
    net : TwoLayerNet
    X : array_like, shape (n, d)
    y : array_like, shape (n,)
    W : array_like, shape (m, d)
    """
    X, y = _data(net, X, y)
    with np.errstate(over="ignore", invalid="ignore"):
        return _finite_loss(_mse(net, X, y, net._weights(W, d=X.shape[1])), "X, y, W")


def mse_gradient(net: TwoLayerNet, X: ArrayLike, y: ArrayLike, W: ArrayLike) -> Array:
    r"""Gradient of :func:`~ntklib.mse` in :math:`W`: :math:`-\frac2n J_W^\top(y - f(W))`.

    Returns
    -------
    ndarray, shape (m, d)
    """
    X, y = _data(net, X, y)
    W = net._weights(W, d=X.shape[1])
    with np.errstate(over="ignore", invalid="ignore"):
        _finite_loss(_mse(net, X, y, W), "X, y, W")
        return _finite(_mse_gradient(net, X, y, W), "X, y, W")


def _finite_loss(loss: float, names: str) -> float:
    if not np.isfinite(loss):
        raise ValueError(f"{names}: the mean squared error is not finite (outputs or residuals exceed the float "
                         f"range, about 1.8e308); expected inputs, targets and weights of moderate size")
    return loss


def _mse(net: TwoLayerNet, X: Array, y: Array, W: Array) -> float:
    return float(np.mean((y - net._output(X, W)) ** 2))


def _mse_gradient(net: TwoLayerNet, X: Array, y: Array, W: Array) -> Array:
    return net._vjp(X, W, 2.0 * (net._output(X, W) - y) / X.shape[0])


@dataclass(frozen=True)
class TrainResult:
    """A training run.

    Attributes
    ----------
    W : ndarray, shape (m, d)
        Final weights.
    steps : ndarray, shape (k,)
        Steps at which the loss was recorded (0 is the initialization).
    loss : ndarray, shape (k,)
        Full-data :func:`~ntklib.mse` at those steps.
    displacement : ndarray, shape (k,)
        :math:`\\|W_t - W_0\\|_F` at those steps.
    """

    W: Array
    steps: Array
    loss: Array
    displacement: Array


def train(
    net: TwoLayerNet,
    X: ArrayLike,
    y: ArrayLike,
    W0: ArrayLike,
    *,
    steps: int,
    lr: float,
    method: str = "gd",
    batch_size: int | None = None,
    noise_std: float = 0.0,
    rng: np.random.Generator | None = None,
    record_every: int = 1,
) -> TrainResult:
    r"""Train the first layer by GD, SGD or noisy GD on :func:`~ntklib.mse`.

    Parameters
    ----------
    net : TwoLayerNet
    X : array_like, shape (n, d)
    y : array_like, shape (n,)
    W0 : array_like, shape (m, d)
        Starting weights.
    steps : int
        Number of updates, :math:`\ge 1`.
    lr : float
        Step size :math:`\eta > 0`.
    method : {"gd", "sgd", "noisy"}
    batch_size : int, optional
        Minibatch size for ``"sgd"``, :math:`1 \le b \le n`.
    noise_std : float
        Standard deviation of the noise for ``"noisy"``, :math:`> 0`.
    rng : numpy.random.Generator, optional
        Required for ``"sgd"`` and ``"noisy"``.
    record_every : int
        Record the full loss every this many steps (and at the last step).

    Returns
    -------
    TrainResult

    Raises
    ------
    ValueError
        If the loss leaves the float range (the iterates diverge: the step size is too large for
        the problem), naming ``lr`` and the step.
    """
    X, y = _data(net, X, y)
    W = net._weights(W0, "W0", d=X.shape[1]).copy()
    k = v.integer("steps", steps)
    eta = v.real("lr", lr, low=0.0, low_open=True)
    every = v.integer("record_every", record_every)
    if method not in METHODS:
        raise ValueError(f"method={method!r}: expected one of {METHODS}")
    if method != "gd":
        rng = v.generator(rng)
    if method == "sgd":
        if batch_size is None:
            raise ValueError("batch_size=None: method 'sgd' needs a batch size")
        b = v.integer("batch_size", batch_size)
        if b > X.shape[0]:
            raise ValueError(f"batch_size={b}: expected at most n={X.shape[0]}")
    if method == "noisy":
        sd = v.real("noise_std", noise_std, low=0.0, low_open=True)

    # inputs are validated above; the loop uses the unchecked kernels, and the recorded losses are checked
    start = W.copy()
    rec_steps, losses, moved = [0], [], [0.0]
    with np.errstate(over="ignore", invalid="ignore"):
        losses.append(_finite_loss(_mse(net, X, y, W), "X, y, W0"))
        for t in range(1, k + 1):
            if method == "sgd":
                idx = rng.choice(X.shape[0], size=b, replace=False)
                grad = _mse_gradient(net, X[idx], y[idx], W)
            else:
                grad = _mse_gradient(net, X, y, W)
            W -= eta * grad
            if method == "noisy":
                W += eta * sd * rng.standard_normal(W.shape)
            if t % every == 0 or t == k:
                rec_steps.append(t)
                losses.append(_mse(net, X, y, W))
                moved.append(float(np.linalg.norm(W - start)))
                if not (np.isfinite(losses[-1]) and np.isfinite(moved[-1])):
                    raise ValueError(f"lr={eta}: the iterates diverged (loss {losses[-1]} at step {t}); "
                                     f"expected a step size for which the loss stays finite")
    return TrainResult(W, np.array(rec_steps), np.array(losses), np.array(moved))
