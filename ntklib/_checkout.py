"""Which checkout of ntklib is running: the chapters must test the library of the checkout under test.

A virtual environment's editable install points at the checkout it was made from.  A kernel
started for a chapter of another clone or worktree would import that ntklib, and the chapter would
check a different library than the one being changed.  The test harness (``tests/nbval_myst.py``)
and the build (:mod:`ntklib.sphinxext`) therefore put the checkout's root first on the kernel's
``PYTHONPATH`` and set the environment variable ``NTKLIB_EXPECTED_ROOT`` to it; importing ntklib
while that variable is set raises :class:`ImportError` unless ntklib's own files lie under it.
"""

from __future__ import annotations

import os
from pathlib import Path

EXPECTED_ROOT_ENV = "NTKLIB_EXPECTED_ROOT"

PACKAGE_DIR = Path(__file__).resolve().parent
"""The directory this ntklib was imported from."""


def assert_checkout(root: str | os.PathLike[str] | None = None) -> Path:
    """Check that this ntklib is the one of the checkout at ``root``, and return ntklib's directory.

    Parameters
    ----------
    root : str or path-like, optional
        The root of the checkout under test; defaults to the environment variable
        ``NTKLIB_EXPECTED_ROOT``.

    Returns
    -------
    pathlib.Path
        The directory of the imported ntklib package (a subdirectory of ``root``).

    Raises
    ------
    ImportError
        If ntklib was imported from outside ``root`` (another clone's editable install).
    TypeError
        If ``root`` is neither a string nor a path.
    ValueError
        If ``root`` is empty or not a directory, or omitted while ``NTKLIB_EXPECTED_ROOT`` is unset.
    """
    if root is None:
        root = os.environ.get(EXPECTED_ROOT_ENV) or None
        if root is None:
            raise ValueError(f"root=None and {EXPECTED_ROOT_ENV} is unset: expected the checkout's root directory")
    if not isinstance(root, (str, os.PathLike)):
        raise TypeError(f"root={root!r}: expected a path (str or os.PathLike)")
    if not os.fspath(root):
        raise ValueError("root='': expected the checkout's root directory")
    expected = Path(root).resolve()
    if not expected.is_dir():
        raise ValueError(f"root={os.fspath(root)!r}: no such directory; expected the checkout's root directory")
    if not PACKAGE_DIR.is_relative_to(expected):
        raise ImportError(
            f"ntklib is imported from {PACKAGE_DIR}, not from the checkout under test {expected} "
            f"(root, or {EXPECTED_ROOT_ENV}): put {expected} first on PYTHONPATH"
        )
    return PACKAGE_DIR


def checkout_environment(root: str | os.PathLike[str]) -> dict[str, str]:
    """The environment variables that make a kernel started now import the ntklib of ``root`` and
    refuse any other: ``root`` first on ``PYTHONPATH``, and ``NTKLIB_EXPECTED_ROOT``."""
    root = str(Path(root).resolve())
    path = os.environ.get("PYTHONPATH")
    return {"PYTHONPATH": os.pathsep.join([root, path] if path else [root]), EXPECTED_ROOT_ENV: root}


if os.environ.get(EXPECTED_ROOT_ENV):
    assert_checkout()          # on import: a chapter run by the harness or the build tests this checkout
