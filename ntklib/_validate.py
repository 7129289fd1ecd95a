"""Input validation shared by every public ntklib function.

Each helper either returns a clean float64 array / Python number or raises
:class:`ValueError` naming the argument, the offending value and what was
expected.  Nothing broadcasts silently.
"""

from __future__ import annotations

import numbers

import numpy as np
from numpy.typing import ArrayLike, NDArray


def _describe(value: object) -> str:
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _as_float_array(name: str, value: ArrayLike) -> NDArray[np.float64]:
    if isinstance(value, (str, bytes)) or value is None:
        raise ValueError(f"{name}={_describe(value)}: expected a real numeric array")
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{name}: could not be read as an array ({exc})") from None
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.floating)
        or np.issubdtype(arr.dtype, np.integer)
        or np.issubdtype(arr.dtype, np.bool_)
    ):
        raise ValueError(f"{name}={_describe(arr)}: expected a real numeric array")
    arr = arr.astype(np.float64, copy=False)
    if arr.size and not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name}: {bad} non-finite entries (NaN or inf); expected finite values")
    return arr


def _matching(of: str | None) -> str:
    return "" if of is None else f" to match {of}"


def matrix(
    name: str, value: ArrayLike, *, cols: int | None = None, min_rows: int = 1, of: str | None = None
) -> NDArray[np.float64]:
    """A finite 2-D float64 array with at least ``min_rows`` rows (and ``cols`` columns if given).

    ``of`` names the argument ``cols`` comes from, so that a mismatch names both arguments.
    """
    arr = _as_float_array(name, value)
    if arr.ndim != 2:
        raise ValueError(f"{name}={_describe(arr)}: expected a 2-D array")
    if arr.shape[0] < min_rows or arr.shape[1] < 1:
        raise ValueError(f"{name}={_describe(arr)}: expected at least {min_rows} row(s) and 1 column")
    if cols is not None and arr.shape[1] != cols:
        raise ValueError(f"{name}={_describe(arr)}: expected {cols} columns{_matching(of)}")
    return arr


def vector(
    name: str, value: ArrayLike, *, length: int | None = None, min_length: int = 1, of: str | None = None
) -> NDArray[np.float64]:
    """A finite 1-D float64 array (of the given length if given; ``of`` as in :func:`matrix`)."""
    arr = _as_float_array(name, value)
    if arr.ndim != 1:
        raise ValueError(f"{name}={_describe(arr)}: expected a 1-D array")
    if arr.shape[0] < min_length:
        raise ValueError(f"{name}={_describe(arr)}: expected at least {min_length} entries")
    if length is not None and arr.shape[0] != length:
        raise ValueError(f"{name}={_describe(arr)}: expected length {length}{_matching(of)}")
    return arr


def array(name: str, value: ArrayLike) -> NDArray[np.float64]:
    """A finite float64 array of any shape (a scalar becomes a 0-d array)."""
    return _as_float_array(name, value)


def integer(name: str, value: object, *, minimum: int = 1) -> int:
    """A Python int ``>= minimum`` (bools and non-integral floats are refused)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name}={_describe(value)}: expected an integer >= {minimum}")
    if int(value) < minimum:
        raise ValueError(f"{name}={int(value)}: expected an integer >= {minimum}")
    return int(value)


def real(
    name: str,
    value: object,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """A finite Python float in the interval given by ``low``/``high``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name}={_describe(value)}: expected a real number")
    x = float(value)
    lo = "(" if low_open else "["
    hi = ")" if high_open else "]"
    interval = f"{lo}{'-inf' if low is None else low}, {'inf' if high is None else high}{hi}"
    if not np.isfinite(x):
        raise ValueError(f"{name}={x}: expected a finite number in {interval}")
    if low is not None and (x < low or (low_open and x == low)):
        raise ValueError(f"{name}={x}: expected a number in {interval}")
    if high is not None and (x > high or (high_open and x == high)):
        raise ValueError(f"{name}={x}: expected a number in {interval}")
    return x


def probability(name: str, value: object) -> float:
    """A number strictly inside (0, 1)."""
    return real(name, value, low=0.0, high=1.0, low_open=True, high_open=True)


def same_shape(names: tuple[str, ...], *arrays: NDArray[np.float64]) -> None:
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        detail = ", ".join(f"{n} {a.shape}" for n, a in zip(names, arrays))
        raise ValueError(f"shapes differ: {detail}; expected equal shapes (no broadcasting)")


def generator(value: object, name: str = "rng") -> np.random.Generator:
    """A :class:`numpy.random.Generator` (from :func:`ntklib.rng`), or a ValueError naming ``name``."""
    if not isinstance(value, np.random.Generator):
        raise ValueError(f"{name}={value!r}: expected a numpy.random.Generator (use ntklib.rng)")
    return value
