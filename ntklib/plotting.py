"""One look for every figure: a seaborn theme, a colour-blind-safe palette, rate plots."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _validate as v
from .stats import SlopeFit

__all__ = ["DPI", "FIGURE_WIDTH", "PALETTE", "REFERENCE", "TEXT_SIZES", "set_theme", "rate_plot"]

PALETTE = "colorblind"
"""The seaborn palette used throughout (Okabe–Ito-like, safe for colour-vision deficiencies)."""

REFERENCE = "0.3"
"""The one grey (a matplotlib grey level) for reference lines, bounds and annotations in every figure."""


FIGURE_WIDTH = 7.2
"""Default figure width in inches.  At :data:`~ntklib.plotting.DPI` a figure is 720 px wide: the site's content column
(about 750 px on a laptop) and a JupyterLab cell show it at its own size, not scaled down, so its
text keeps the sizes of :data:`~ntklib.plotting.TEXT_SIZES`.  No figure should be wider than 7.5 in."""

DPI = 100
"""Pixels per inch of every figure, on screen and saved (PNG): one point of text is 100/72 px."""

TEXT_SIZES = {"font.size": 12, "axes.labelsize": 12, "axes.titlesize": 12, "xtick.labelsize": 11,
              "ytick.labelsize": 11, "legend.fontsize": 11, "legend.title_fontsize": 11}
"""Text sizes in points.  At :data:`~ntklib.plotting.DPI` the smallest, 11 pt, is 15 px, and a legend's ``"small"``
(0.83 × 11 pt) 12.7 px: at least 0.75 of the site's 16 px body text, as long as the figure is
shown at its own size (width at most 7.5 in)."""


def set_theme() -> None:
    """Apply the book's theme: seaborn ``whitegrid``, the :data:`~ntklib.plotting.PALETTE`, figures
    drawn at the size they are shown (:data:`~ntklib.plotting.FIGURE_WIDTH` × 4 in at
    :data:`~ntklib.plotting.DPI`, PNG) with the text sizes of :data:`~ntklib.plotting.TEXT_SIZES`, and legends on an opaque frame."""
    import seaborn as sns

    sns.set_theme(
        context="notebook",
        style="whitegrid",
        palette=PALETTE,
        rc={"figure.figsize": (FIGURE_WIDTH, 4.0), "figure.dpi": DPI, "savefig.dpi": DPI,
            "savefig.format": "png", "legend.framealpha": 0.9, **TEXT_SIZES},
    )


def rate_plot(
    ax: Any,
    x: ArrayLike,
    y: ArrayLike,
    *,
    label: str,
    bound: ArrayLike | None = None,
    bound_label: str = "bound",
    fit: SlopeFit | None = None,
    color: Any = None,
) -> Any:
    """Log–log plot of a measured quantity, optionally with its bound and fitted slope.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    x, y : array_like, shape (N,)
        Positive values (e.g. widths and worst errors).
    label : str
        Legend entry for the measurements.
    bound : array_like, shape (N,), optional
        The statement's right-hand side at ``x`` (positive), drawn dashed in the same colour.
    bound_label : str
    fit : SlopeFit, optional
        Drawn dotted; its slope and interval go into the legend.
    color : optional
        A matplotlib colour; defaults to the axes' next colour.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if not hasattr(ax, "loglog"):
        raise ValueError(f"ax={ax!r}: expected a matplotlib Axes")
    if not isinstance(label, str) or not label:
        raise ValueError(f"label={label!r}: expected a non-empty string")
    if fit is not None and not isinstance(fit, SlopeFit):
        raise ValueError(f"fit={fit!r}: expected a SlopeFit from fit_loglog, or None")
    xv = v.vector("x", x)
    yv = v.vector("y", y, length=xv.shape[0])
    if np.any(xv <= 0) or np.any(yv <= 0):
        raise ValueError("x, y: expected strictly positive values on log-log axes")
    (line,) = ax.loglog(xv, yv, "o-", label=label, color=color)
    c = line.get_color()
    if bound is not None:
        bv = v.vector("bound", bound, length=xv.shape[0])
        if np.any(bv <= 0):
            raise ValueError(f"bound: expected strictly positive values on log-log axes, got minimum {float(bv.min())!r}")
        ax.loglog(xv, bv, "--", color=c, label=bound_label)
    if fit is not None:
        ax.loglog(xv, fit.predict(xv), ":", color=c, label=f"fit: {fit}")
    ax.legend(fontsize="small")
    return ax
