"""Seeded random generators: one default seed, independent named streams.

Every random draw in the book comes from :func:`~ntklib.rng`.  The base seed is
:data:`~ntklib.seeding.DEFAULT_SEED` unless the environment variable ``NTKLIB_SEED`` holds a
non-negative integer.  Each named stream is derived from the base seed and the
label through :class:`numpy.random.SeedSequence`, so streams are statistically
independent, and a cell's numbers do not depend on which cells ran before it.
"""

from __future__ import annotations

import hashlib
import os

import numpy as np

from . import _validate as v

__all__ = ["DEFAULT_SEED", "SEED_ENV", "base_seed", "rng"]

DEFAULT_SEED = 2024
"""The base seed used when ``NTKLIB_SEED`` is unset (the lecture's year)."""

SEED_ENV = "NTKLIB_SEED"


def base_seed() -> int:
    """The base seed: ``int(os.environ["NTKLIB_SEED"])`` if set, else :data:`~ntklib.seeding.DEFAULT_SEED`.

    Raises
    ------
    ValueError
        If ``NTKLIB_SEED`` is set but is not a non-negative integer.
    """
    raw = os.environ.get(SEED_ENV)
    if raw is None or raw.strip() == "":
        return DEFAULT_SEED
    try:
        seed = int(raw.strip())
    except ValueError:
        raise ValueError(f"{SEED_ENV}={raw!r}: expected a non-negative integer") from None
    if seed < 0:
        raise ValueError(f"{SEED_ENV}={raw!r}: expected a non-negative integer")
    return seed


def _label_key(label: str) -> tuple[int, ...]:
    digest = hashlib.sha256(label.encode("utf-8")).digest()
    return tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))


def rng(label: str, seed: int | None = None) -> np.random.Generator:
    """A generator for the stream named ``label``.

    Parameters
    ----------
    label : str
        Name of the stream, e.g. ``"lemma-5"``.  Different labels give independent streams.
    seed : int, optional
        Base seed; defaults to :func:`~ntklib.base_seed`.

    Returns
    -------
    numpy.random.Generator
        ``default_rng(SeedSequence(seed, spawn_key=sha256(label)[:16]))``: the same
        (seed, label) gives the same numbers, bit for bit.
    """
    if not isinstance(label, str) or not label:
        raise ValueError(f"label={label!r}: expected a non-empty string")
    s = base_seed() if seed is None else v.integer("seed", seed, minimum=0)
    return np.random.default_rng(np.random.SeedSequence(entropy=s, spawn_key=_label_key(label)))
