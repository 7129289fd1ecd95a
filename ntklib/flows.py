r"""The gradient flows of Theorem 12 (Section 4.4), integrated over the whole half-line.

For a network :math:`f` on data :math:`(X, y)` and a scale :math:`\alpha`, the network flow and the
tangent flow are

.. math::

    \dot w = -\alpha J_w^\top(\alpha f(w) - y), \qquad
    \dot u = -\alpha J_0^\top(\alpha\tilde f(u) - y), \qquad w(0) = u(0) = w_0,

with :math:`\tilde f(u) = f(w_0) + J_0(u - w_0)`.  Time is :math:`\tau = \alpha^2 t`, in which the
tangent residual obeys :math:`d\rho/d\tau = -J_0J_0^\top\rho`, free of :math:`\alpha`.

* :func:`tangent_flow` solves the tangent flow in closed form.
* :func:`lazy_run` integrates the network flow (DOP853 on the scaled displacement
  :math:`z = \alpha(w - w_0)`, which is of order one, together with the path length), chunk after
  chunk, until the conclusions of Theorem 12 are either witnessed to fail or proved to hold for
  all later times by :func:`tail_certificate`, or until the bound falls below what double
  precision resolves.  Along the way it records every quantity the theorem and its proof speak
  of, and the distances to the tangent flow.

**The tail certificate.**  Let :math:`s_T, S_T` be the extreme singular values of :math:`J` at
:math:`w(T)`, :math:`s_\ast = \sigma_{\min}/2` and :math:`r_T = (s_T - s_\ast)/L_J > 0`.  In the ball
:math:`\|w - w(T)\| \le r_T` the Lipschitz condition gives :math:`\sigma_{\min}(J_w) \ge s_\ast` and
:math:`\sigma_{\max}(J_w) \le S_T + L_J r_T`, so as long as the flow stays there
:math:`\hat{\mathcal R}(\tau) \le \hat{\mathcal R}(T)\,e^{-2s_\ast^2(\tau - T)}` and the remaining path
length is at most

.. math:: P_T = \frac{(S_T + L_J r_T)\sqrt{2\hat{\mathcal R}(T)}}{\alpha\, s_\ast^2}.

If :math:`P_T < r_T` the flow never leaves the ball, hence for all :math:`\tau \ge T`:
:math:`\hat{\mathcal R}(\tau)/B(\tau) \le \hat{\mathcal R}(T)/B(T)` with
:math:`B(\tau) = \hat{\mathcal R}_0 e^{-\tau\sigma_{\min}^2/2}` the theorem's bound (since
:math:`2s_\ast^2 = \sigma_{\min}^2/2`), :math:`\|w(\tau) - w_0\| \le \|w(T) - w_0\| + P_T`, and the path
length grows by at most :math:`P_T`.  This is the proof of Theorem 12 started at time :math:`T` from
the measured state instead of at time 0.
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

    Raises
    ------
    ValueError
        If shapes disagree, ``L_J`` is negative, or :math:`J_0` does not have rank :math:`n` in floating
        point (Assumption 10 fails: :math:`\\lambda_{\\min}(J_0J_0^\\top) \\le n\\,\\epsilon\\,\\lambda_{\\max}`).
    """
    if not isinstance(net, TwoLayerNet):
        raise ValueError(f"net={net!r}: expected a TwoLayerNet")
    X = v.matrix("X", X)
    y = v.vector("y", y, length=X.shape[0], of="X")
    W0 = net._weights(W0, "W0", d=X.shape[1])
    L_J = v.real("L_J", L_J, low=0.0)
    if not isinstance(centred, (bool, np.bool_)):
        raise ValueError(f"centred={centred!r}: expected True or False")
    out0 = net.output(X, W0)
    offset = out0 if centred else np.zeros_like(out0)
    f0 = out0 - offset
    S = net.activation.d1(X @ W0.T) * (net.coef * net.a)
    lam, Q = np.linalg.eigh((X @ X.T) * (S @ S.T))
    if lam[0] <= X.shape[0] * _EPS * lam[-1]:
        raise ValueError(f"J0 J0^T has eigenvalues {lam[0]:.3g} to {lam[-1]:.3g}: expected rank n "
                         "(Assumption 10), i.e. a smallest eigenvalue above the rounding level n eps lambda_max")
    return FlowProblem(net, X, y, W0, L_J, bool(centred), offset, f0, lam, Q)


def tangent_flow(problem: FlowProblem, alpha: float, taus: ArrayLike) -> tuple[Array, Array]:
    r"""The tangent flow in closed form at the times ``taus`` (in :math:`\tau = \alpha^2 t`).

    .. math::

        \rho(\tau) = Qe^{-\tau\Lambda}Q^\top\rho(0), \qquad
        u(\tau) - u(0) = -\frac1\alpha J_0^\top Q\Lambda^{-1}(I - e^{-\tau\Lambda})Q^\top\rho(0).

    Returns
    -------
    rho : ndarray, shape (n, k)
        Residuals :math:`\alpha\tilde f(u(\tau)) - y`.
    du : ndarray, shape (m*d, k)
        :math:`u(\tau) - u(0)`, flattened like ``W.reshape(-1)``.
    """
    a = v.real("alpha", alpha, low=0.0, low_open=True)
    t = v.vector("taus", taus)
    if np.any(t < 0):
        raise ValueError("taus: expected times >= 0")
    p = problem
    c0 = p.Q.T @ p.residual0(a)
    decay = np.exp(-np.outer(p.lam, t))
    rho = p.Q @ (decay * c0[:, None])
    coef = p.Q @ (((1.0 - decay) / p.lam[:, None]) * c0[:, None])          # (n, k)
    du = -np.stack([p.net.vjp(p.X, p.W0, coef[:, k]).ravel() for k in range(t.size)], axis=1) / a
    return rho, du


@dataclass(frozen=True)
class TailCertificate:
    """Whether the flow provably keeps Theorem 12's rate after a time :math:`T` (see the module notes).

    Attributes
    ----------
    holds : bool
        :math:`s_T > \\sigma_{\\min}/2` and :math:`P_T < r_T`.
    path : float
        :math:`P_T`, the bound on the path length after :math:`T` (inf if :math:`s_T \\le \\sigma_{\\min}/2`).
    radius : float
        :math:`r_T` (0 if :math:`s_T \\le \\sigma_{\\min}/2`).
    """

    holds: bool
    path: float
    radius: float


def tail_certificate(s_T: float, S_T: float, R_T: float, alpha: float, sigma_min: float, L_J: float) -> TailCertificate:
    r"""The tail certificate at a time :math:`T` from the measured state.

    Parameters
    ----------
    s_T, S_T : float
        Smallest and largest singular values of :math:`J_{w(T)}`, :math:`0 \le s_T \le S_T`.
    R_T : float
        Risk :math:`\hat{\mathcal R}(T) \ge 0`.
    alpha : float
        Scale :math:`> 0`.
    sigma_min : float
        :math:`\sigma_{\min}(J_0) > 0`.
    L_J : float
        Lipschitz constant of the Jacobian, :math:`> 0`.

    Returns
    -------
    TailCertificate
        With :math:`s_\ast = \sigma_{\min}/2`, :math:`r_T = (s_T - s_\ast)/L_J` and
        :math:`P_T = (S_T + L_Jr_T)\sqrt{2\hat{\mathcal R}(T)}/(\alpha s_\ast^2)`.
    """
    s_T = v.real("s_T", s_T, low=0.0)
    S_T = v.real("S_T", S_T, low=s_T)
    R_T = v.real("R_T", R_T, low=0.0)
    a = v.real("alpha", alpha, low=0.0, low_open=True)
    smin = v.real("sigma_min", sigma_min, low=0.0, low_open=True)
    L = v.real("L_J", L_J, low=0.0, low_open=True)
    s_star = smin / 2
    if s_T <= s_star:
        return TailCertificate(False, float("inf"), 0.0)
    r = (s_T - s_star) / L
    path = (S_T + L * r) * np.sqrt(2.0 * R_T) / (a * s_star**2)
    return TailCertificate(bool(path < r), float(path), float(r))


@dataclass(frozen=True)
class LazyRun:
    r"""One network flow on a time grid, with the tangent flow beside it.

    Every array has one entry per grid time ``taus`` (in :math:`\tau = \alpha^2 t`, starting at 0).

    Attributes
    ----------
    alpha : float
    taus : ndarray
    risk, risk_tangent : ndarray
        :math:`\hat{\mathcal R}(\alpha f(w(\tau)))` and :math:`\hat{\mathcal R}(\alpha\tilde f(u(\tau)))`.
    bound : ndarray
        Theorem 12's risk bound :math:`\hat{\mathcal R}_0e^{-\tau\sigma_{\min}^2/2}`.
    displacement, displacement_tangent : ndarray
        :math:`\|w(\tau) - w_0\|` and :math:`\|u(\tau) - u_0\|`.
    path : ndarray
        Path length :math:`\int_0^\tau\|dw/d\tau\|\,d\tau`.
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
        ``"holds"``: the conclusions hold on the grid and the tail certificate covers the rest of the
        half-line; ``"fails"``: the risk exceeded ``witness`` times its bound while the bound was
        above the floor (or the displacement exceeded its bound); ``"open"``: neither, up to the
        horizon where the bound reaches ``floor`` times :math:`\hat{\mathcal R}_0`.
    tail : TailCertificate or None
        The certificate at the last grid time (None if the run stopped on a failure).
    crossing : float
        First grid time at which the risk exceeds its bound (inf if none).
    sup_displacement_tangent : float
        :math:`\sup_{\tau \ge 0}\|u(\tau) - u_0\| = \|J_0^\dagger\rho(0)\|/\alpha`, exactly (the distance
        is nondecreasing in :math:`\tau`).
    tangent_tail : float
        :math:`\sup_{\tau \ge T}\|u(\tau) - u(T)\|` after the last grid time :math:`T`, exactly
        (:math:`\|J_0^\top Q\Lambda^{-1}e^{-T\Lambda}Q^\top\rho(0)\|/\alpha`; the distance is nondecreasing).
    nfev : int
        Right-hand-side evaluations.
    """

    alpha: float
    taus: Array
    risk: Array
    risk_tangent: Array
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
    crossing: float = float("inf")
    sup_displacement_tangent: float = 0.0
    tangent_tail: float = 0.0
    nfev: int = 0

    @property
    def horizon(self) -> float:
        """The last grid time."""
        return float(self.taus[-1])

    def _tail(self) -> float:
        if self.tail is None or not self.tail.holds:
            raise ValueError(f"alpha={self.alpha}: no tail certificate (verdict {self.verdict!r}); "
                             "suprema over all times are known only for runs that hold")
        return self.tail.path

    @property
    def sup_displacement(self) -> float:
        r""":math:`\sup_{\tau \ge 0}\|w(\tau) - w_0\|` over the grid and, after it, through the certificate."""
        return float(max(self.displacement.max(), self.displacement[-1] + self._tail()))

    @property
    def sup_path(self) -> float:
        r"""The whole path length :math:`\int_0^\infty\|dw/d\tau\|\,d\tau`, bounded after the grid by the certificate."""
        return float(self.path[-1] + self._tail())

    @property
    def sup_w_minus_u(self) -> float:
        r""":math:`\sup_{\tau \ge 0}\|w(\tau) - u(\tau)\|`: after the grid, :math:`w` moves by at most :math:`P_T`
        and :math:`u` by at most ``tangent_tail``."""
        return float(max(self.w_minus_u.max(), self.w_minus_u[-1] + self._tail() + self.tangent_tail))


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
    bound falls by :math:`e^{-4}`), ``points`` grid times each.  After each chunk the run stops with

    * ``"fails"`` if the risk exceeded ``witness`` times the bound at a grid time where the bound is
      at least ``floor`` :math:`\times\hat{\mathcal R}_0`, or the displacement exceeded its bound;
    * ``"holds"`` if at least ``min_horizon`` chunks were integrated, both conclusions hold on the
      grid, and :func:`tail_certificate` at the last grid time proves them for all later times
      (the displacement through :math:`\|w(T) - w_0\| + P_T`);
    * ``"open"`` once the bound has fallen below ``floor`` :math:`\times\hat{\mathcal R}_0`, i.e. after
      :math:`\tau_{\rm cap} = 2\log(1/\text{floor})/\sigma_{\min}^2` (choose ``floor`` well above the
      integrator's error on the risk, relative to the bound, so that every comparison is resolved).

    Parameters
    ----------
    problem : FlowProblem
    alpha : float
        Scale :math:`> 0`.
    rtol, atol : float
        DOP853 tolerances on :math:`z = \alpha(w - w_0)`.  ``rtol`` is raised to
        :math:`10\,\epsilon\,\alpha\,\alpha_{\rm net}`, ten times the relative rounding noise of
        :math:`\alpha f(w)` (:math:`\alpha_{\rm net}` is the network's own output scale, :math:`\sqrt m`
        for the NTK-scaled network).
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
    """
    p = problem
    a = v.real("alpha", alpha, low=0.0, low_open=True)
    rtol = max(v.real("rtol", rtol, low=0.0, low_open=True), 10 * _EPS * a * p.net.alpha)
    atol = v.real("atol", atol, low=0.0, low_open=True)
    points = v.integer("points", points, minimum=2)
    min_horizon = v.integer("min_horizon", min_horizon, minimum=1)
    floor = v.probability("floor", floor)
    witness = v.real("witness", witness, low=1.0, low_open=True)
    if p.L_J <= 0:
        raise ValueError("problem.L_J=0: the tail certificate needs a positive Lipschitz constant")
    smin, R0 = p.sigma_min, p.R0(a)
    length = 8.0 / smin**2
    tau_cap = 2.0 * np.log(1.0 / floor) / smin**2
    D = theorem12_displacement(a, smin, p.sigma_max, R0)
    K0 = p.gram(p.W0)

    def rhs(tau: float, state: Array) -> Array:
        W = p.W0 + state[:-1].reshape(p.W0.shape) / a
        g = -p.net._vjp(p.X, W, a * p.outputs(W) - p.y).ravel()
        return np.concatenate([g, [np.linalg.norm(g)]])           # path length of z; of w: divided by a

    state = np.zeros(p.W0.size + 1)
    parts, nfev, chunk = [], 0, 0
    verdict, tail = "open", None
    while True:
        grid = _grid(chunk, length, points)
        t0 = grid[0] if chunk == 0 else chunk * length
        # first step a fixed fraction of the chunk (scipy's default guess has an absolute floor, 1e-6):
        # rescaling time by a power of two then rescales every step exactly
        sol = solve_ivp(rhs, (t0, grid[-1]), state, method="DOP853", rtol=rtol, atol=atol, t_eval=grid,
                        first_step=1e-8 * length)
        if sol.status != 0:                                    # pragma: no cover - DOP853 does not fail here
            raise RuntimeError(f"alpha={a}: the integrator stopped: {sol.message}")
        nfev += sol.nfev
        state = sol.y[:, -1]
        parts.append(_summarize(p, a, grid, sol.y, K0, R0))
        chunk += 1
        run = {k: np.concatenate([q[k] for q in parts], axis=-1) for k in parts[0]}
        ratio = run["risk"] / run["bound"]
        ratio[0] = 1.0                                  # tau = 0: risk and bound are R0 (up to rounding)
        resolved = run["bound"] >= floor * R0
        if np.any((ratio > witness) & resolved) or np.any(run["displacement"] > D):
            verdict = "fails"
            break
        tail = tail_certificate(run["smin"][-1], run["smax"][-1], run["risk"][-1], a, smin, p.L_J)
        if (chunk >= min_horizon and tail.holds and np.all(ratio <= 1.0)
                and np.all(run["displacement"] <= D) and run["displacement"][-1] + tail.path <= D):
            verdict = "holds"
            break
        if grid[-1] >= tau_cap:
            break
    above = np.nonzero(ratio > 1.0)[0]
    crossing = float(run["taus"][above[0]]) if above.size else float("inf")
    c0 = p.Q.T @ p.residual0(a)                   # ||J0^T Q v|| = ||Lambda^(1/2) v|| for any v
    tangent_tail = float(np.sqrt(np.sum(np.exp(-2 * p.lam * run["taus"][-1]) * c0**2 / p.lam)) / a)
    return LazyRun(alpha=a, **run, verdict=verdict, tail=tail if verdict != "fails" else None,
                   crossing=crossing, sup_displacement_tangent=float(np.sqrt(np.sum(c0**2 / p.lam)) / a),
                   tangent_tail=tangent_tail, nfev=nfev)


def _summarize(p: FlowProblem, a: float, taus: Array, states: Array, K0: Array, R0: float) -> dict[str, Array]:
    """Every recorded quantity at the grid times of one chunk."""
    z = states[:-1]
    Ws = [p.W0 + z[:, k].reshape(p.W0.shape) / a for k in range(taus.size)]
    residual = np.stack([a * p.outputs(W) - p.y for W in Ws], axis=1)
    rho_u, du = tangent_flow(p, a, taus)
    grams = [p.gram(W) for W in Ws]
    lam = np.array([np.linalg.eigvalsh(K)[[0, -1]] for K in grams])
    return {
        "taus": taus,
        "risk": 0.5 * np.sum(residual**2, axis=0),
        "risk_tangent": 0.5 * np.sum(rho_u**2, axis=0),
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
