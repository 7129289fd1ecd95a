"""Sphinx hooks for a book whose chapters call ntklib.

Jupyter Book re-executes a notebook only when Sphinx re-reads it, and Sphinx re-reads only
documents whose source changed.  A change to ntklib changes what the chapters compute without
touching their sources, so this extension fingerprints ntklib's source files and, when the
fingerprint differs from the one stored in the build environment, marks every document
outdated: with ``execute_notebooks: force`` every chapter then runs again against the new code.
Files listed in the configuration value ``ntklib_extra_dependencies`` (paths relative to the
book's root) count as part of the fingerprint.

Enable with ``sphinx: extra_extensions: [ntklib.sphinxext]`` in ``_config.yml``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

__all__ = ["source_fingerprint", "setup"]

_ATTR = "ntklib_fingerprint"


def source_fingerprint(root: Path | None = None) -> str:
    """SHA-256 over the names and contents of the ``*.py`` files under ``root`` (default: ntklib)."""
    root = Path(__file__).resolve().parent if root is None else Path(root)
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def _fingerprint(app: Any) -> str:
    """ntklib's fingerprint plus the contents of the files in ``ntklib_extra_dependencies``."""
    h = hashlib.sha256(source_fingerprint().encode())
    for name in getattr(getattr(app, "config", None), "ntklib_extra_dependencies", None) or []:
        path = Path(app.confdir) / name
        h.update(name.encode() + b"\0" + (path.read_bytes() if path.exists() else b"<missing>"))
    return h.hexdigest()


def _outdated(app: Any, env: Any, added: set[str], changed: set[str], removed: set[str]) -> list[str]:
    current = _fingerprint(app)
    if getattr(env, _ATTR, None) == current:
        return []
    setattr(env, _ATTR, current)
    return sorted(set(env.found_docs) - added - changed - removed)


def setup(app: Any) -> dict[str, Any]:
    # data files that chapters read (e.g. benchmark results): a change re-executes the chapters
    app.add_config_value("ntklib_extra_dependencies", [], "env")
    app.connect("env-get-outdated", _outdated)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}
