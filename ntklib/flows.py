r"""The gradient flows of Theorem 12 (Section 4.4), integrated over the whole half-line.

For a network :math:`f` on data :math:`(X, y)` and a scale :math:`\alpha`, the network flow and the
tangent flow are

.. math::

    \dot w = -\alpha J_w^\top(\alpha f(w) - y), \qquad
    \dot u = -\alpha J_0^\top(\alpha\tilde f(u) - y), \qquad w(0) = u(0) = w_0,

with :math:`\tilde f(u) = f(w_0) + J_0(u - w_0)`.  Time is :math:`\tau = \alpha^2 t`, in which the
tangent residual obeys :math:`d\rho/d\tau = -J_0J_0^\top\rho`, free of :math:`\alpha`.

* :func:`flow_problem` validates a network, its data and initialization, and computes
  :math:`J_0J_0^\top`'s eigendecomposition.
* :func:`tangent_flow` solves the tangent flow in closed form.
* :func:`lazy_run` integrates the network flow (DOP853 on the scaled displacement
  :math:`z = \alpha(w - w_0)`, which is of order one, together with the path length), chunk after
  chunk, until the conclusions of Theorem 12 are either witnessed to fail or proved to hold for
  all later times by :func:`tail_certificate`, or until the bound falls below what double
  precision resolves.  Along the way it records every quantity the theorem and its proof speak
  of, and the distances to the tangent flow.

**Between grid times.**  Every quantity is measured at grid times :math:`\tau_0 = 0 < \tau_1 < \dots`;
the statements are about every :math:`\tau`.  On an interval :math:`[\tau_k, \tau_{k+1}]` the risk never
increases (it is a gradient flow) and the bound :math:`B(\tau) = \hat{\mathcal R}_0 e^{-\tau\sigma_{\min}^2/2}`
decreases, so the risk is at most :math:`\hat{\mathcal R}(\tau_k)` and the bound at least
:math:`B(\tau_{k+1})`.  With :math:`\Delta\ell_k` the path length travelled on the interval,
:math:`\|w(\tau) - w_0\| \le \|w(\tau_k) - w_0\| + \Delta\ell_k`, and since :math:`J` is
:math:`L_J`-Lipschitz, :math:`\sigma_{\min}(J_{w(\tau)}) \ge \frac12(s_k + s_{k+1} - L_J\Delta\ell_k)` and
:math:`\sigma_{\max}(J_{w(\tau)}) \le \frac12(S_k + S_{k+1} + L_J\Delta\ell_k)` (from whichever end is
closer along the path).  :class:`LazyRun` provides these bounds.  On the first interval
:math:`[0, \tau_1]` the risk starts at the bound itself; there the proof's own argument applies as
long as the path :math:`\ell(\tau_1)` is shorter than the proof's radius :math:`r = \sigma_{\min}/(2L_J)`.

**The tail certificate.**  Let :math:`s_T, S_T` be the extreme singular values of :math:`J` at
:math:`w(T)`, :math:`s_\ast = \sigma_{\min}/2` and :math:`r_T = (s_T - s_\ast)/L_J > 0`.  In the ball
:math:`\|w - w(T)\| \le r_T` the Lipschitz condition gives :math:`\sigma_{\min}(J_w) \ge s_\ast` and
:math:`\sigma_{\max}(J_w) \le S_T + L_J r_T`, so as long as the flow stays there
:math:`\hat{\mathcal R}(\tau) \le \hat{\mathcal R}(T)\,e^{-2s_\ast^2(\tau - T)}` and the remaining path
length is at most

.. math:: P_T = \frac{(S_T + L_J r_T)\sqrt{2\hat{\mathcal R}(T)}}{\alpha\, s_\ast^2}.

If :math:`P_T < r_T` the flow never leaves the ball, hence for all :math:`\tau \ge T`:
:math:`\hat{\mathcal R}(\tau)/B(\tau) \le \hat{\mathcal R}(T)/B(T)` (since
:math:`2s_\ast^2 = \sigma_{\min}^2/2`), :math:`\|w(\tau) - w_0\| \le \|w(T) - w_0\| + P_T`, and the path
length grows by at most :math:`P_T`.  This is the proof of Theorem 12 started at time :math:`T` from
the measured state instead of at time 0.  The measured state is the integrator's, which differs
from the exact :math:`w(T)` by some :math:`e`; :func:`lazy_run` estimates :math:`e` by a second
integration at a hundredth of the tolerance and asks :math:`P_T + e < r_T`, with
:math:`\sqrt{2\hat{\mathcal R}(T)}` enlarged by :math:`\alpha(S_T + L_J e)e` (see :func:`tail_certificate`).
What the certificate proves therefore holds up to the accuracy of that estimate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.integrate import solve_ivp

from . import _validate as v
from .bounds import theorem12_displacement
from .network import TwoLayerNet

Array = NDArray[np.float64]

__all__ = ["FlowProblem", "flow_problem", "tangent_flow", "TailCertificate", "tail_certificate", "LazyRun", "lazy_run"]

_EPS = np.finfo(float).eps
_REFERENCE = 100.0
"""The reference integration of :func:`lazy_run` runs at tolerances this many times tighter."""


@dataclass(frozen=True)
class FlowProblem:
    r"""A network, its data and initialization, with the constants of Assumption 10.

    Build it with :func:`flow_problem`.

    Attributes
    ----------
    net : TwoLayerNet
    X : ndarray, shape (n, d)
    y : ndarray, shape (n,)
    W0 : ndarray, shape (m, d)
    L_J : float
        A Lipschitz constant of :math:`w \mapsto J_w` in the operator norm.
    centred : bool
        If true the model is :math:`f(\cdot\,; W) - f(\cdot\,; W_0)` (its value at :math:`W_0` is 0).
    offset : ndarray, shape (n,)
        What is subtracted from the network's outputs: :math:`f(X; W_0)` when centred, else 0.
    f0 : ndarray, shape (n,)
        The model's outputs at :math:`W_0` (zero when centred).
    lam, Q : ndarray, shapes (n,) and (n, n)
        :math:`J_0J_0^\top = Q\,\mathrm{diag}(\lambda)\,Q^\top`, eigenvalues increasing.
    """

    net: TwoLayerNet
    X: Array
    y: Array
    W0: Array
    L_J: float
    centred: bool
    offset: Array
    f0: Array
    lam: Array
    Q: Array

    @property
    def sigma_min(self) -> float:
        r""":math:`\sigma_{\min}(J_0)`."""
        return float(np.sqrt(self.lam[0]))

    @property
    def sigma_max(self) -> float:
        r""":math:`\sigma_{\max}(J_0)`."""
        return float(np.sqrt(self.lam[-1]))

    def residual0(self, alpha: float) -> Array:
        r""":math:`\rho(0) = \alpha f(w_0) - y`."""
        return alpha * self.f0 - self.y

    def R0(self, alpha: float) -> float:
        r""":math:`\hat{\mathcal R}_0 = \frac12\|\alpha f(w_0) - y\|^2`."""
        return 0.5 * float(np.sum(self.residual0(alpha) ** 2))   # summed as the runs sum their risks

    def gram(self, W: Array) -> Array:
        r""":math:`J_WJ_W^\top = (XX^\top) \odot (SS^\top)` with :math:`S = \frac{\alpha_{\rm net}}{m}\sigma'(XW^\top)\,\mathrm{diag}(a)`."""
        S = self.net.activation.d1(self.X @ W.T) * (self.net.coef * self.net.a)
        return (self.X @ self.X.T) * (S @ S.T)

    def outputs(self, W: Array) -> Array:
        """The model's outputs on the data at ``W``."""
        return self.net._output(self.X, W) - self.offset


def flow_problem(
    net: TwoLayerNet, X: ArrayLike, y: ArrayLike, W0: ArrayLike, *, L_J: float, centred: bool = False
) -> FlowProblem:
    """Validate a network, data and initialization, and compute :math:`J_0J_0^\\top`'s eigendecomposition.

    Parameters
    ----------
    net : TwoLayerNet
    X : array_like, shape (n, d)
        Training inputs.
    y : array_like, shape (n,)
        Targets.
    W0 : array_like, shape (m, d)
        The initialization.
    L_J : float
        A Lipschitz constant of the Jacobian, :math:`\\ge 0` (:func:`lazy_run` needs it :math:`> 0`).
    centred : bool
        Train :math:`f(\\cdot\\,; W) - f(\\cdot\\,; W_0)` instead of :math:`f`.

    Raises
    ------
    TypeError
        If ``net`` is not a :class:`~ntklib.TwoLayerNet` or ``centred`` not a bool.
    ValueError
        If shapes disagree, a value is not finite, ``L_J`` is negative, :math:`J_0J_0^\\top` exceeds the
        float range, or :math:`J_0` does not have rank :math:`n` in floating point (Assumption 10
        fails: :math:`\\lambda_{\\min}(J_0J_0^\\top) \\le n\\,\\epsilon\\,\\lambda_{\\max}`).
    """
    if not isinstance(net, TwoLayerNet):
        raise TypeError(f"net={net!r:.60}: expected a TwoLayerNet")
    X = v.matrix("X", X)
    y = v.vector("y", y, length=X.shape[0], of="X")
    W0 = net._weights(W0, "W0", d=X.shape[1])
    L_J = v.real("L_J", L_J, low=0.0)
    if not isinstance(centred, (bool, np.bool_)):
        raise TypeError(f"centred={centred!r:.60}: expected True or False")
    out0 = net.output(X, W0)
    offset = out0 if centred else np.zeros_like(out0)
    f0 = out0 - offset
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        S = net.activation.d1(X @ W0.T) * (net.coef * net.a)
        gram = (X @ X.T) * (S @ S.T)
    if not np.all(np.isfinite(gram)):
        raise ValueError("X, W0: J0 J0^T = (X X^T) * (S S^T) exceeds the float range; expected inputs and weights "
                         "of moderate size")
    lam, Q = np.linalg.eigh(gram)
    if not lam[0] > X.shape[0] * _EPS * lam[-1]:
        raise ValueError(f"X, W0: J0 J0^T has eigenvalues {lam[0]:.3g} to {lam[-1]:.3g}: expected rank n "
                         "(Assumption 10), i.e. a smallest eigenvalue above the rounding level n eps lambda_max")
    return FlowProblem(net, X, y, W0, L_J, bool(centred), offset, f0, lam, Q)


def _problem(problem: object) -> FlowProblem:
    if not isinstance(problem, FlowProblem):
        raise TypeError(f"problem={problem!r:.60}: expected a FlowProblem (from flow_problem)")
    return problem


def tangent_flow(problem: FlowProblem, alpha: float, taus: ArrayLike) -> tuple[Array, Array]:
    r"""The tangent flow in closed form at the times ``taus`` (in :math:`\tau = \alpha^2 t`).

    .. math::

        \rho(\tau) = Qe^{-\tau\Lambda}Q^\top\rho(0), \qquad
        u(\tau) - u(0) = -\frac1\alpha J_0^\top Q\Lambda^{-1}(I - e^{-\tau\Lambda})Q^\top\rho(0).

    Parameters
    ----------
    problem : FlowProblem
    alpha : float
        Scale :math:`> 0`.
    taus : array_like, shape (k,)
        Times :math:`\tau \ge 0`.

    Returns
    -------
    rho : ndarray, shape (n, k)
        Residuals :math:`\alpha\tilde f(u(\tau)) - y`.
    du : ndarray, shape (m*d, k)
        :math:`u(\tau) - u(0)`, flattened like ``W.reshape(-1)``.

    Raises
    ------
    ValueError
        If ``alpha`` is so large or so small that :math:`\rho` or :math:`u - u(0)` (of order
        :math:`1/\alpha`) exceeds the float range.
    """
    p = _problem(problem)
    a = v.real("alpha", alpha, low=0.0, low_open=True)
    t = v.vector("taus", taus)
    if np.any(t < 0):
        raise ValueError("taus: expected times >= 0")
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        c0 = p.Q.T @ p.residual0(a)
        decay = np.exp(-np.outer(p.lam, t))
        rho = p.Q @ (decay * c0[:, None])
        coef = p.Q @ (((1.0 - decay) / p.lam[:, None]) * c0[:, None])          # (n, k)
        du = -np.stack([p.net._vjp(p.X, p.W0, coef[:, k]).ravel() for k in range(t.size)], axis=1) / a
    if not (np.all(np.isfinite(rho)) and np.all(np.isfinite(du))):
        raise ValueError(f"alpha={a!r}: the tangent flow at this scale exceeds the float range (rho(0) = alpha f(w0) - y, "
                         "u - u(0) of order 1/alpha); expected a moderate scale")
    return rho, du


@dataclass(frozen=True)
class TailCertificate:
    """Whether the flow provably keeps Theorem 12's rate after a time :math:`T` (see the module notes).

    Attributes
    ----------
    holds : bool
        :math:`s_T > \\sigma_{\\min}/2` and :math:`P_T + e < r_T`.
    path : float or None
        :math:`P_T`, the bound on the path length after :math:`T` (None if :math:`s_T \\le \\sigma_{\\min}/2`:
        then there is no ball to work in).
    radius : float
        :math:`r_T` (0 if :math:`s_T \\le \\sigma_{\\min}/2`).
    error : float
        :math:`e`, the allowance for the distance between the measured state and the exact one.
    """

    holds: bool
    path: float | None
    radius: float
    error: float = 0.0


def tail_certificate(
    s_T: float, S_T: float, R_T: float, alpha: float, sigma_min: float, L_J: float, error: float = 0.0
) -> TailCertificate:
    r"""The tail certificate at a time :math:`T` from the measured state.

    Parameters
    ----------
    s_T, S_T : float
        Smallest and largest singular values of :math:`J` at the measured :math:`w(T)`,
        :math:`0 \le s_T \le S_T`.
    R_T : float
        Measured risk :math:`\hat{\mathcal R}(T) \ge 0`.
    alpha : float
        Scale :math:`> 0`.
    sigma_min : float
        :math:`\sigma_{\min}(J_0) > 0`.
    L_J : float
        Lipschitz constant of the Jacobian, :math:`> 0`.
    error : float
        :math:`e \ge 0`, a bound on the distance between the measured and the exact :math:`w(T)`
        (default 0: the measured state is taken as exact).

    Returns
    -------
    TailCertificate
        With :math:`s_\ast = \sigma_{\min}/2`, :math:`r_T = (s_T - s_\ast)/L_J`,
        :math:`\bar\rho = \sqrt{2\hat{\mathcal R}(T)} + \alpha(S_T + L_Je)e` (the exact state's residual
        norm is at most this, :math:`\alpha f` being :math:`\alpha(S_T + L_Je)`-Lipschitz within :math:`e`
        of the measured state) and :math:`P_T = (S_T + L_Jr_T)\bar\rho/(\alpha s_\ast^2)`; it holds iff
        :math:`s_T > s_\ast` and :math:`P_T + e < r_T`.  The exact flow then stays within
        :math:`e + P_T` of the measured state, in the ball of radius :math:`r_T` around it.

    Raises
    ------
    ValueError
        If :math:`r_T` or :math:`P_T` exceeds the float range at these values.
    """
    s_T = v.real("s_T", s_T, low=0.0)
    S_T = v.real("S_T", S_T, low=s_T)
    R_T = v.real("R_T", R_T, low=0.0)
    a = v.real("alpha", alpha, low=0.0, low_open=True)
    smin = v.real("sigma_min", sigma_min, low=0.0, low_open=True)
    L = v.real("L_J", L_J, low=0.0, low_open=True)
    e = v.real("error", error, low=0.0)
    s_star = np.float64(smin) / 2                  # numpy arithmetic: a subnormal sigma_min halves to 0 quietly
    if s_T <= s_star:
        return TailCertificate(False, None, 0.0, e)
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        r = (s_T - s_star) / L
        rho = np.sqrt(2.0) * np.sqrt(R_T) + a * (S_T + L * e) * e
        # S_T + L_J r_T = S_T + s_T - s_star: no overflow through r_T
        path = (S_T + s_T - s_star) / s_star * (rho / (a * s_star))
    if not np.isfinite(r):
        raise ValueError(f"s_T, sigma_min, L_J: the radius (s_T - sigma_min/2)/L_J exceeds the float range "
                         f"(s_T={s_T!r}, sigma_min={smin!r}, L_J={L!r})")
    if not np.isfinite(path):
        raise ValueError(f"R_T, alpha, sigma_min, error: the path bound P_T exceeds the float range "
                         f"(R_T={R_T!r}, alpha={a!r}, sigma_min={smin!r}, error={e!r})")
    return TailCertificate(bool(path + e < r), float(path), float(r), e)


@dataclass(frozen=True)
class LazyRun:
    r"""One network flow on a time grid, with the tangent flow beside it.

    Every array has one entry per grid time ``taus`` (in :math:`\tau = \alpha^2 t`, starting at 0).
    The properties turn the grid values into statements about every :math:`\tau \ge 0`: between
    grid times by the interval arguments of the module notes, after the last one through the tail
    certificate (they raise ValueError for a run without one).

    Attributes
    ----------
    alpha : float
    taus : ndarray
    risk, risk_tangent : ndarray
        :math:`\hat{\mathcal R}(\alpha f(w(\tau)))` and :math:`\hat{\mathcal R}(\alpha\tilde f(u(\tau)))`.
    risk_tangent_at_w : ndarray
        :math:`\hat{\mathcal R}(\alpha\tilde f(w(\tau)))`: the tangent model at the network's parameters,
        the quantity the lecture's Theorem 12 bounds in place of :math:`\hat{\mathcal R}(\alpha\tilde f(u(\tau)))`.
    bound : ndarray
        Theorem 12's risk bound :math:`\hat{\mathcal R}_0e^{-\tau\sigma_{\min}^2/2}`.
    displacement, displacement_tangent : ndarray
        :math:`\|w(\tau) - w_0\|` and :math:`\|u(\tau) - u_0\|`.
    path : ndarray
        Path length :math:`\ell(\tau) = \int_0^\tau\|dw/d\tau\|\,d\tau`.
    smin, smax : ndarray
        Extreme singular values of :math:`J_{w(\tau)}`.
    kernel_drift : ndarray
        :math:`\|J_{w(\tau)}J_{w(\tau)}^\top - J_0J_0^\top\|`, operator norm.
    w_minus_u : ndarray
        :math:`\|w(\tau) - u(\tau)\|`.
    output_gap : ndarray
        :math:`\|\alpha f(w(\tau)) - \alpha\tilde f(u(\tau))\|`.
    residual : ndarray, shape (n, k)
        :math:`\alpha f(w(\tau)) - y`.
    verdict : str
        ``"holds"``: the conclusions hold at every time (see :func:`lazy_run`); ``"fails"``: the risk
        exceeded ``witness`` times its bound while the bound was above the floor (or the displacement
        exceeded its bound); ``"open"``: neither, up to the horizon where the bound reaches ``floor``
        times :math:`\hat{\mathcal R}_0`.
    tail : TailCertificate or None
        The certificate at the last grid time (None if the run stopped on a failure).
    crossing : float or None
        First grid time at which the risk exceeds its bound (None if there is none).
    sup_displacement_tangent : float
        :math:`\sup_{\tau \ge 0}\|u(\tau) - u_0\| = \|J_0^\dagger\rho(0)\|/\alpha`, exactly (the distance
        is nondecreasing in :math:`\tau`).
    tangent_tail : float
        :math:`\sup_{\tau \ge T}\|u(\tau) - u(T)\|` after the last grid time :math:`T`, exactly
        (:math:`\|J_0^\top Q\Lambda^{-1}e^{-T\Lambda}Q^\top\rho(0)\|/\alpha`; the distance is nondecreasing).
    L_J : float
        The Lipschitz constant the interval bounds use.
    nfev : int
        Right-hand-side evaluations (of both integrations).
    """

    alpha: float
    taus: Array
    risk: Array
    risk_tangent: Array
    risk_tangent_at_w: Array
    bound: Array
    displacement: Array
    displacement_tangent: Array
    path: Array
    smin: Array
    smax: Array
    kernel_drift: Array
    w_minus_u: Array
    output_gap: Array
    residual: Array = field(repr=False)
    verdict: str = "open"
    tail: TailCertificate | None = None
    crossing: float | None = None
    sup_displacement_tangent: float = 0.0
    tangent_tail: float = 0.0
    L_J: float = 0.0
    nfev: int = 0

    @property
    def horizon(self) -> float:
        """The last grid time."""
        return float(self.taus[-1])

    def _tail(self) -> float:
        """:math:`e + P_T`: how far the exact flow goes from the measured state after the grid."""
        if self.tail is None or not self.tail.holds or self.tail.path is None:
            raise ValueError(f"alpha={self.alpha}: no tail certificate (verdict {self.verdict!r}); "
                             "suprema over all times are known only for runs that hold")
        return self.tail.error + self.tail.path

    @property
    def risk_interval_ratio(self) -> Array:
        r"""For each interval :math:`[\tau_k, \tau_{k+1}]`, :math:`k \ge 1`: :math:`\hat{\mathcal R}(\tau_k)/B(\tau_{k+1})`,
        an upper bound on the ratio of risk to bound over the interval (both are nonincreasing)."""
        return self.risk[1:-1] / self.bound[2:]

    @property
    def risk_tangent_interval_ratio(self) -> Array:
        """The same for the tangent flow's risk."""
        return self.risk_tangent[1:-1] / self.bound[2:]

    @property
    def sup_displacement(self) -> float:
        r"""An upper bound on :math:`\sup_{\tau \ge 0}\|w(\tau) - w_0\|`: on each interval the grid value
        plus the path travelled, after the grid :math:`\|w(T) - w_0\| + e + P_T`."""
        inside = float(np.max(self.displacement[:-1] + np.diff(self.path)))
        return max(inside, float(self.displacement[-1]) + self._tail())

    @property
    def sup_path(self) -> float:
        r"""The whole path length :math:`\int_0^\infty\|dw/d\tau\|\,d\tau`, bounded after the grid by :math:`e + P_T`."""
        return float(self.path[-1] + self._tail())

    @property
    def inf_smin(self) -> float:
        r"""A lower bound on :math:`\inf_{\tau \ge 0}\sigma_{\min}(J_{w(\tau)})`: on each interval
        :math:`\frac12(s_k + s_{k+1} - L_J\Delta\ell_k)`, after the grid :math:`s_T - L_J(e + P_T)`."""
        inside = float(np.min(self.smin[:-1] + self.smin[1:] - self.L_J * np.diff(self.path)) / 2)
        return min(inside, float(self.smin[-1]) - self.L_J * self._tail())

    @property
    def sup_smax(self) -> float:
        r"""An upper bound on :math:`\sup_{\tau \ge 0}\sigma_{\max}(J_{w(\tau)})`, as :attr:`inf_smin`."""
        inside = float(np.max(self.smax[:-1] + self.smax[1:] + self.L_J * np.diff(self.path)) / 2)
        return max(inside, float(self.smax[-1]) + self.L_J * self._tail())

    @property
    def sup_w_minus_u(self) -> float:
        r"""An upper bound on :math:`\sup_{\tau \ge 0}\|w(\tau) - u(\tau)\|`.

        On :math:`[\tau_k, \tau_{k+1}]`, with :math:`g = \|w - u\|`, :math:`\rho_w - \rho_u = \alpha J_0(w - u) + \alpha\psi(w)` and
        :math:`\|\psi(w)\| \le \frac{L_J}2\|w - w_0\|^2`, the velocity difference
        :math:`\frac1\alpha\|J_w^\top\rho_w - J_0^\top\rho_u\|` is at most :math:`A_k + B g` with
        :math:`A_k = L_JD_k\|\rho_w(\tau_k)\|/\alpha + \sigma_{\max}L_JD_k^2/2`, :math:`B = \sigma_{\max}^2`,
        :math:`D_k = \|w(\tau_k) - w_0\| + \Delta\ell_k` (the residual never grows), so by Grönwall
        :math:`g \le g(\tau_k)e^{Bh_k} + A_k(e^{Bh_k} - 1)/B` on the interval.  After the grid:
        :math:`e + P_T` plus ``tangent_tail``.
        """
        h = np.diff(self.taus)
        reach = self.displacement[:-1] + np.diff(self.path)
        B = float(self.smax[0]) ** 2
        A = self.L_J * reach * np.sqrt(2 * self.risk[:-1]) / self.alpha + np.sqrt(B) * self.L_J * reach**2 / 2
        grow = np.expm1(B * h)
        inside = float(np.max(self.w_minus_u[:-1] * (1 + grow) + A * grow / B))
        return max(inside, float(self.w_minus_u[-1]) + self._tail() + self.tangent_tail)


def _grid(chunk: int, length: float, points: int) -> Array:
    """Grid times of chunk ``chunk`` (excluding its left end; chunk 0 starts at 0 and is dense near 0)."""
    right = length * (chunk + 1) + length * np.arange(1 - points, 1) / points
    if chunk > 0:
        return right
    return np.concatenate([[0.0], length * np.geomspace(1e-6, 0.5 / points, 12), right])


def lazy_run(
    problem: FlowProblem,
    alpha: float,
    *,
    rtol: float = 1e-10,
    atol: float = 1e-12,
    points: int = 60,
    min_horizon: int = 1,
    floor: float = 1e-12,
    witness: float = 10.0,
) -> LazyRun:
    r"""Integrate the network flow until Theorem 12's conclusions are decided for all :math:`\tau \ge 0`.

    The flow is integrated in chunks of length :math:`\Delta = 8/\sigma_{\min}^2` (over one chunk the
    bound falls by :math:`e^{-4}`), ``points`` grid times each, and a second time at tolerances a
    hundred times tighter, whose state at the end of each chunk estimates the error :math:`e` of the
    first.  After each chunk the run stops with

    * ``"fails"`` if the risk exceeded ``witness`` times the bound at a grid time where the bound is
      at least ``floor`` :math:`\times\hat{\mathcal R}_0`, or the displacement exceeded its bound;
    * ``"holds"`` if at least ``min_horizon`` chunks were integrated, :func:`tail_certificate` with
      error allowance :math:`e` holds at the last grid time, and both conclusions hold at every time:
      on :math:`[0, \tau_1]` because the path there is shorter than the proof's radius
      :math:`\sigma_{\min}/(2L_J)`; on every later interval by :attr:`LazyRun.risk_interval_ratio`
      (network and tangent flow) and :attr:`LazyRun.sup_displacement`;
    * ``"open"`` once the bound has fallen below ``floor`` :math:`\times\hat{\mathcal R}_0`, i.e. after
      :math:`\tau_{\rm cap} = 2\log(1/\text{floor})/\sigma_{\min}^2` (choose ``floor`` well above the
      integrator's error on the risk, relative to the bound, so that every comparison is resolved).

    Parameters
    ----------
    problem : FlowProblem
    alpha : float
        Scale :math:`> 0`.
    rtol, atol : float
        DOP853 tolerances on :math:`z = \alpha(w - w_0)`; ``rtol`` in :math:`[10^3\epsilon, 10^{-3}]`, so that
        the reference integration at ``rtol / 100`` (at least :math:`100\epsilon`) is tighter.  ``rtol`` is
        raised to :math:`10\,\epsilon\,\alpha\,\alpha_{\rm net}`, ten times the relative rounding noise of
        :math:`\alpha f(w)` (:math:`\alpha_{\rm net}` is the network's own output scale, :math:`\sqrt m` for
        the NTK-scaled network).
    points : int
        Grid times per chunk.
    min_horizon : int
        Chunks to integrate at least (a chunk is :math:`\Delta`).
    floor : float
        In (0, 1): the smallest bound, relative to :math:`\hat{\mathcal R}_0`, at which risks are compared.
    witness : float
        Factor :math:`> 1` by which the risk must exceed its bound for a failure to count.

    Returns
    -------
    LazyRun

    Raises
    ------
    TypeError
        If ``problem`` is not a :class:`FlowProblem`.
    ValueError
        If an argument is out of range; if ``problem.L_J`` is 0 or the initial risk is 0; or if
        ``alpha`` is so large that :math:`\alpha f(w)` cannot be resolved in double precision, or so
        small that the bounds or the weights exceed the float range.
    """
    p = _problem(problem)
    a = v.real("alpha", alpha, low=0.0, low_open=True)
    rtol = v.real("rtol", rtol, low=1e3 * _EPS, high=1e-3)
    atol = v.real("atol", atol, low=0.0, low_open=True)
    points = v.integer("points", points, minimum=2)
    min_horizon = v.integer("min_horizon", min_horizon, minimum=1)
    floor = v.probability("floor", floor)
    witness = v.real("witness", witness, low=1.0, low_open=True)
    if p.L_J <= 0:
        raise ValueError("problem.L_J=0: the tail certificate needs a positive Lipschitz constant")
    noise = 10 * _EPS * a * p.net.alpha
    if noise > 1e-6:
        raise ValueError(f"alpha={a!r}: alpha f(w) carries rounding noise of relative size eps alpha alpha_net = "
                         f"{noise / 10:.3g}; expected alpha below {1e-7 / (_EPS * p.net.alpha):.3g}")
    rtol = max(rtol, noise)
    smin, R0 = p.sigma_min, p.R0(a)
    if not (np.isfinite(R0) and R0 * floor > 1e6 * np.finfo(float).tiny):
        raise ValueError(f"alpha={a!r}, problem: the initial risk R0 = {R0:.3g} times floor={floor:.3g} is not a "
                         "normal float; expected a nonzero, representable risk")
    length = 8.0 / smin**2
    tau_cap = 2.0 * np.log(1.0 / floor) / smin**2
    D = theorem12_displacement(a, smin, p.sigma_max, R0)
    radius = smin / (2 * p.L_J)
    K0 = p.gram(p.W0)

    def rhs(tau: float, state: Array) -> Array:
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            W = p.W0 + state[:-1].reshape(p.W0.shape) / a
            g = -p.net._vjp(p.X, W, a * p.outputs(W) - p.y).ravel()
        if not np.all(np.isfinite(g)):
            raise ValueError(f"alpha={a!r}: the flow's velocity is not finite at this scale; expected a moderate alpha")
        return np.concatenate([g, [np.linalg.norm(g)]])           # path length of z; of w: divided by a

    def integrate(start: Array, span: tuple[float, float], tol: float, abs_tol: float, grid: Array | None):
        # first step a fixed fraction of the chunk (scipy's default guess has an absolute floor, 1e-6):
        # rescaling time by a power of two then rescales every step exactly
        sol = solve_ivp(rhs, span, start, method="DOP853", rtol=tol, atol=abs_tol, t_eval=grid,
                        first_step=1e-8 * length)
        if sol.status != 0:                                    # pragma: no cover - DOP853 does not fail here
            raise RuntimeError(f"alpha={a}: the integrator stopped: {sol.message}")
        return sol

    state = np.zeros(p.W0.size + 1)
    reference = state.copy()
    ref_rtol = max(rtol / _REFERENCE, 100 * _EPS)
    parts, nfev, chunk = [], 0, 0
    verdict, tail = "open", None
    while True:
        grid = _grid(chunk, length, points)
        span = (grid[0] if chunk == 0 else chunk * length, grid[-1])
        sol = integrate(state, span, rtol, atol, grid)
        ref = integrate(reference, span, ref_rtol, atol / _REFERENCE, None)
        nfev += sol.nfev + ref.nfev
        state, reference = sol.y[:, -1], ref.y[:, -1]
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            parts.append(_summarize(p, a, grid, sol.y, K0, R0))
        if not all(np.all(np.isfinite(q)) for q in parts[-1].values()):
            raise ValueError(f"alpha={a!r}: the flow's displacements (of order 1/alpha) exceed the float range at this "
                             "scale; expected a moderate alpha")
        chunk += 1
        run = {k: np.concatenate([q[k] for q in parts], axis=-1) for k in parts[0]}
        ratio = run["risk"] / run["bound"]
        ratio[0] = 1.0                                  # tau = 0: risk and bound are R0 (up to rounding)
        resolved = run["bound"] >= floor * R0
        if np.any((ratio > witness) & resolved) or np.any(run["displacement"] > D):
            verdict = "fails"
            break
        error = float(np.linalg.norm(state[:-1] - reference[:-1])) / a
        tail = tail_certificate(run["smin"][-1], run["smax"][-1], run["risk"][-1], a, smin, p.L_J, error=error)
        if chunk >= min_horizon and tail.holds and _conclusions_hold(run, D, radius, tail):
            verdict = "holds"
            break
        if grid[-1] >= tau_cap:
            break
    above = np.nonzero(ratio > 1.0)[0]
    c0 = p.Q.T @ p.residual0(a)                   # ||J0^T Q v|| = ||Lambda^(1/2) v|| for any v
    tangent_tail = float(np.linalg.norm(np.exp(-p.lam * run["taus"][-1]) * c0 / np.sqrt(p.lam))) / a
    return LazyRun(alpha=a, **run, verdict=verdict, tail=tail if verdict != "fails" else None,
                   crossing=float(run["taus"][above[0]]) if above.size else None,
                   sup_displacement_tangent=float(np.linalg.norm(c0 / np.sqrt(p.lam))) / a,
                   tangent_tail=tangent_tail, L_J=p.L_J, nfev=nfev)


def _conclusions_hold(run: dict[str, Array], D: float, radius: float, tail: TailCertificate) -> bool:
    """Both conclusions of Theorem 12 at every time, from the grid, the intervals and the certificate."""
    risk, tangent, bound, disp, path = (run[k] for k in ("risk", "risk_tangent", "bound", "displacement", "path"))
    first = path[1] < radius                                        # [0, tau_1]: the proof's own argument
    intervals = np.all(risk[1:-1] <= bound[2:]) and np.all(tangent[1:-1] <= bound[2:])
    moved = max(float(np.max(disp[:-1] + np.diff(path))), float(disp[-1]) + tail.error + (tail.path or 0.0))
    return bool(first and intervals and moved <= D)


def _summarize(p: FlowProblem, a: float, taus: Array, states: Array, K0: Array, R0: float) -> dict[str, Array]:
    """Every recorded quantity at the grid times of one chunk."""
    z = states[:-1]
    Ws = [p.W0 + z[:, k].reshape(p.W0.shape) / a for k in range(taus.size)]
    residual = np.stack([a * p.outputs(W) - p.y for W in Ws], axis=1)
    # the tangent model at the network's parameters: alpha f(w0) + J0 z - y
    at_w = np.stack([p.residual0(a) + p.net._jvp(p.X, p.W0, z[:, k].reshape(p.W0.shape)) for k in range(taus.size)],
                    axis=1)
    rho_u, du = tangent_flow(p, a, taus)
    grams = [p.gram(W) for W in Ws]
    lam = np.array([np.linalg.eigvalsh(K)[[0, -1]] for K in grams])
    return {
        "taus": taus,
        "risk": 0.5 * np.sum(residual**2, axis=0),
        "risk_tangent": 0.5 * np.sum(rho_u**2, axis=0),
        "risk_tangent_at_w": 0.5 * np.sum(at_w**2, axis=0),
        "bound": R0 * np.exp(-taus * p.sigma_min**2 / 2),
        "displacement": np.linalg.norm(z, axis=0) / a,
        "displacement_tangent": np.linalg.norm(du, axis=0),
        "path": states[-1] / a,
        "smin": np.sqrt(np.clip(lam[:, 0], 0.0, None)),
        "smax": np.sqrt(np.clip(lam[:, 1], 0.0, None)),
        "kernel_drift": np.array([np.linalg.norm(K - K0, 2) for K in grams]),
        "w_minus_u": np.linalg.norm(z / a - du, axis=0),
        "output_gap": np.linalg.norm(residual - rho_u, axis=0),
        "residual": residual,
    }
