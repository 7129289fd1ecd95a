"""Shared fixtures for the ntklib unit tests."""

from __future__ import annotations

import numpy as np
import pytest

import ntklib


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> np.random.Generator:
    """A generator seeded from the test's name, so every test has its own reproducible stream."""
    return ntklib.rng(f"tests::{request.node.nodeid}")


@pytest.fixture(autouse=True)
def _clean_records(monkeypatch: pytest.MonkeyPatch):
    """Tests must not see each other's check records or write a record file by accident."""
    monkeypatch.delenv("NTKLIB_RECORD_FILE", raising=False)
    monkeypatch.delenv("NTKLIB_SEED", raising=False)
    saved = list(ntklib.RECORDS)
    ntklib.RECORDS.clear()
    yield
    ntklib.RECORDS[:] = saved
