"""Seeded streams: reproducible, independent by label, overridable by NTKLIB_SEED."""

from __future__ import annotations

import numpy as np
import pytest

import ntklib


def test_same_label_same_numbers_bit_for_bit() -> None:
    a = ntklib.rng("lemma-5").standard_normal(1000)
    b = ntklib.rng("lemma-5").standard_normal(1000)
    assert a.tobytes() == b.tobytes()


def test_labels_and_seeds_give_different_streams(monkeypatch) -> None:
    a = ntklib.rng("lemma-5").standard_normal(100)
    assert not np.array_equal(a, ntklib.rng("lemma-7").standard_normal(100))
    assert not np.array_equal(a, ntklib.rng("lemma-5", seed=1).standard_normal(100))
    monkeypatch.setenv("NTKLIB_SEED", "1")
    assert ntklib.base_seed() == 1
    assert np.array_equal(ntklib.rng("lemma-5").standard_normal(100), ntklib.rng("lemma-5", seed=1).standard_normal(100))


def test_default_seed(monkeypatch) -> None:
    assert ntklib.base_seed() == ntklib.DEFAULT_SEED
    monkeypatch.setenv("NTKLIB_SEED", "  ")
    assert ntklib.base_seed() == ntklib.DEFAULT_SEED


def test_streams_are_uncorrelated() -> None:
    a = ntklib.rng("s1").standard_normal(200_000)
    b = ntklib.rng("s2").standard_normal(200_000)
    assert abs(np.corrcoef(a, b)[0, 1]) < 5 / np.sqrt(200_000)   # 5 standard errors


@pytest.mark.parametrize("raw", ["-1", "abc", "1.5"])
def test_bad_environment_seed(monkeypatch, raw: str) -> None:
    monkeypatch.setenv("NTKLIB_SEED", raw)
    with pytest.raises(ValueError, match="NTKLIB_SEED"):
        ntklib.rng("x")


def test_bad_label_or_seed() -> None:
    with pytest.raises(ValueError, match="label"):
        ntklib.rng("")
    with pytest.raises(ValueError, match="seed=-3"):
        ntklib.rng("x", seed=-3)
