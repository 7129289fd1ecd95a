"""rate_plot draws what it says: the measurements, the bound and the fit, each at the given x."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import ntklib  # noqa: E402


def test_rate_plot_lines_are_the_data_the_bound_and_the_fit() -> None:
    x = np.array([10.0, 100.0, 1000.0])
    y = np.array([0.5, 0.16, 0.05])
    bound = 2 * x**-0.5
    fit = ntklib.fit_loglog(x, y)
    fig, ax = plt.subplots()
    try:
        assert ntklib.rate_plot(ax, x, y, label="measured", bound=bound, bound_label="Lemma", fit=fit) is ax
        data, drawn_bound, fitted = ax.get_lines()
        for line, expected in [(data, y), (drawn_bound, bound), (fitted, fit.predict(x))]:
            np.testing.assert_array_equal(line.get_xdata(), x)
            np.testing.assert_allclose(line.get_ydata(), expected, rtol=1e-15)
        assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
        assert drawn_bound.get_color() == data.get_color() == fitted.get_color()
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert labels[:2] == ["measured", "Lemma"] and labels[2].startswith("fit: slope")
        for bad in (np.array([1.0, 0.0, 1.0]), np.array([1.0, -1.0, 1.0])):
            with pytest.raises(ValueError, match="bound: expected strictly positive"):
                ntklib.rate_plot(ax, x, y, label="m", bound=bad)
    finally:
        plt.close(fig)
